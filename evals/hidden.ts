/**
 * Hidden tests: after the run, the task's `tests/` folder is copied into a checkout of the run's
 * branch (at `[verifier].hidden_dir`) and the verifier command runs there in a fresh sandbox with
 * no network, by the same machinery as Nightshift's validation (activities/validate/run.ts).
 * The agent never saw these tests: they catch a change that passes only the visible ones.
 */
import { cp, lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { run } from '../activities/exec.js';
import { exportBranch } from '../activities/git.js';
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
 * Refuses a `rel` path (inside `root`) any of whose existing parts is a symbolic link.
 * @throws EvalError EVAL_INFRA naming the link
 */
export async function assertNoLinkOnPath(root: string, rel: string): Promise<void> {
  const parts = normalize(rel).split(sep).filter((p) => p && p !== '.');
  if (parts.includes('..')) throw new EvalError('EVAL_INFRA', `hidden_dir ${rel} leaves the tree`, { hiddenDir: rel });
  let at = root;
  for (const [i, part] of parts.entries()) {
    at = join(at, part);
    const st = await lstat(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!st) return;
    if (st.isSymbolicLink()) throw new EvalError('EVAL_INFRA', `the branch has a symbolic link at ${join(...parts.slice(0, i + 1))}, on the way to hidden_dir ${rel}: refused`, { hiddenDir: rel });
  }
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
    // The tree is data for the sandbox, exported through hardened host git (no git directory in it).
    await exportBranch(input.bare, input.branch, tree, join(dir, 'branch.git'));
    // The agent wrote this tree: a symlink on the way to hidden_dir would point the rm and the copy
    // below at the host's own files.
    await assertNoLinkOnPath(tree, hiddenDir);
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
