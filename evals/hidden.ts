/**
 * Hidden tests: after the run, the task's `tests/` folder is copied into a checkout of the run's
 * branch (at `[verifier].hidden_dir`) and the verifier command runs there in a fresh sandbox with
 * no network, by the same machinery as Nightshift's validation (activities/validate/run.ts).
 * The agent never saw these tests: they catch a change that passes only the visible ones.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../activities/exec.js';
import type { SandboxManager } from '../activities/sandbox.js';
import { runRepoTests } from '../activities/validate/run.js';
import type { Logger } from '../worker/logger.js';
import type { ValidationResult } from '../workflows/types.js';
import { EvalError } from './errors.js';
import type { EvalTask } from './suite.js';

/** Input of {@link runHiddenTests}. */
export interface HiddenTestsInput {
  /** The run's workflow id (labels the sandbox). */
  workflowId: string;
  /** Bare remote holding the branch. */
  bare: string;
  branch: string;
  task: Pick<EvalTask, 'name' | 'hidden'>;
  /** Sandbox image (the run's). */
  image: string;
}

/**
 * Runs the task's hidden tests on the branch. Failing tests are a result, not an error.
 * @throws EvalError EVAL_INFRA when the task has no tests/ folder, or git / the sandbox fails.
 */
export async function runHiddenTests(deps: { sandbox: SandboxManager; logger: Logger }, input: HiddenTestsInput): Promise<ValidationResult> {
  const { testsDir, hiddenDir, command, timeoutMs } = input.task.hidden;
  if (!testsDir) throw new EvalError('EVAL_INFRA', `task ${input.task.name} has no tests/ folder`, { task: input.task.name });
  const dir = await mkdtemp(join(tmpdir(), 'nightshift-eval-hidden-'));
  const tree = join(dir, 'tree');
  try {
    await run('git', ['clone', '--quiet', '--depth', '1', '--branch', input.branch, `file://${input.bare}`, tree], { code: 'GIT_FAILED' });
    // The tree is data for the sandbox: no git directory in it.
    await rm(join(tree, '.git'), { recursive: true, force: true });
    await rm(join(tree, hiddenDir), { recursive: true, force: true });
    await cp(testsDir, join(tree, hiddenDir), { recursive: true });
    if (process.getuid?.() === 0) await run('chown', ['-R', deps.sandbox.settings.user, dir], { code: 'SANDBOX_FAILED' });
    const { result } = await runRepoTests(
      { sandbox: deps.sandbox, logger: deps.logger, timeoutMs },
      { workflowId: input.workflowId, plan: { testCommand: command, image: input.image }, workspace: { path: tree, gitDir: '', baseSha: '' }, label: 'hidden tests', attempt: 0 },
    );
    return result;
  } catch (err) {
    if (err instanceof EvalError) throw err;
    throw new EvalError('EVAL_INFRA', `hidden tests of task ${input.task.name} could not run`, { task: input.task.name, branch: input.branch }, { cause: err });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
