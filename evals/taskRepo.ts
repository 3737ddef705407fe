/**
 * A task's repository for one variant: the suite's snapshot (a folder, or a git bundle at a
 * commit) with the variant's CLAUDE.md / AGENTS.md written at its root, committed on `main` of a
 * bare repository that plays the task's GitHub remote. The run clones it like any repository.
 */
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hardenedGit } from '../activities/git.js';
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
  // Hardened host git throughout: the snapshot is a shared suite's content, not ours.
  const g = (...args: string[]) => hardenedGit(['-C', src, ...IDENTITY, ...args]);
  try {
    await mkdir(dir, { recursive: true });
    await hardenedGit(['init', '--quiet', '--bare', '--initial-branch', 'main', bare]);
    if (task.repo.kind === 'dir') {
      await cp(task.repo.path, src, { recursive: true });
      // Every git directory of the snapshot goes, nested ones too: their config (hooks, fsmonitor)
      // would run on the host when `git add` / `git status` recurse into them.
      await removeGitDirs(src);
      await g('init', '--quiet', '--initial-branch', 'main');
    } else {
      await hardenedGit(['clone', '--quiet', '--no-checkout', '--', task.repo.path, src]);
      await g('checkout', '--quiet', '-B', 'main', task.repo.commit);
    }
    if (variant.claudeMd !== undefined) await writeFile(join(src, 'CLAUDE.md'), variant.claudeMd);
    if (variant.agentsMd !== undefined) await writeFile(join(src, 'AGENTS.md'), variant.agentsMd);
    await removeGitDirs(src, true);
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

/** The unified diff of `branch` against the base (`main`) of a bare remote (hardened host git; no external diff or textconv). */
export async function branchDiff(bare: string, branch: string): Promise<string> {
  const { stdout } = await hardenedGit(['-C', bare, 'diff', '--no-color', '--no-ext-diff', '--no-textconv', `main...refs/heads/${branch}`]);
  return stdout;
}

/** Removes every `.git` (directory or file) under `dir`; `keepTop`: all but `dir/.git`. */
async function removeGitDirs(dir: string, keepTop = false): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.name === '.git') {
      if (!keepTop) await rm(p, { recursive: true, force: true });
    } else if (e.isDirectory() && !e.isSymbolicLink()) {
      await removeGitDirs(p);
    }
  }
}
