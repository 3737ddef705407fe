/**
 * A task's repository for one variant: the suite's snapshot (a folder, or a git bundle at a
 * commit) with the variant's CLAUDE.md / AGENTS.md written at its root, committed on `main` of a
 * bare repository that plays the task's GitHub remote. The run clones it like any repository.
 */
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../activities/exec.js';
import { EvalError } from './errors.js';
import type { EvalTask } from './suite.js';
import type { Variant } from './variant.js';

const IDENTITY = ['-c', 'user.name=Nightshift Eval', '-c', 'user.email=eval@nightshift.invalid', '-c', 'commit.gpgsign=false'];

/**
 * Makes `<dir>/remote.git` (bare, branch `main`) for `task` under `variant`; returns its path.
 * @throws EvalError EVAL_INFRA when git fails (the cause is git's typed error).
 */
export async function makeTaskRemote(dir: string, task: EvalTask, variant: Pick<Variant, 'claudeMd' | 'agentsMd'>): Promise<string> {
  const bare = join(dir, 'remote.git');
  const src = join(dir, 'seed');
  const g = (...args: string[]) => run('git', ['-C', src, ...IDENTITY, ...args], { code: 'GIT_FAILED' });
  try {
    await mkdir(dir, { recursive: true });
    await run('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', bare], { code: 'GIT_FAILED' });
    if (task.repo.kind === 'dir') {
      await cp(task.repo.path, src, { recursive: true });
      await rm(join(src, '.git'), { recursive: true, force: true });
      await g('init', '--quiet', '--initial-branch', 'main');
    } else {
      await run('git', ['clone', '--quiet', task.repo.path, src], { code: 'GIT_FAILED' });
      await g('checkout', '--quiet', '-B', 'main', task.repo.commit);
    }
    if (variant.claudeMd !== undefined) await writeFile(join(src, 'CLAUDE.md'), variant.claudeMd);
    if (variant.agentsMd !== undefined) await writeFile(join(src, 'AGENTS.md'), variant.agentsMd);
    await g('add', '-A');
    // A bundle with no variant file has nothing to commit: its commit is the base.
    const { stdout } = await g('status', '--porcelain');
    if (task.repo.kind === 'dir' || stdout.trim()) await g('commit', '--quiet', '-m', task.repo.kind === 'dir' ? `${task.name}: snapshot` : 'eval: variant files');
    await g('push', '--quiet', bare, 'main:main');
    return bare;
  } catch (err) {
    throw new EvalError('EVAL_INFRA', `could not make the repository of task ${task.name}`, { task: task.name }, { cause: err });
  }
}

/** The unified diff of `branch` against the base (`main`) of a bare remote. */
export async function branchDiff(bare: string, branch: string): Promise<string> {
  const { stdout } = await run('git', ['-C', bare, 'diff', '--no-color', '--no-ext-diff', `main...refs/heads/${branch}`], { code: 'GIT_FAILED' });
  return stdout;
}
