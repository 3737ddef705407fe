/** Git remotes made from the example repositories under test/fixtures/repos/. */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from '../../activities/exec.js';
import { prepareRepo, type RepoPaths } from '../../activities/git.js';
import { fixturePath } from './paths.js';

/** The example repositories: a Node.js one (npm dependency), a Python one (pytest from PyPI), a Go module (one dependency). */
export type FixtureRepo = 'node' | 'python' | 'go';

/**
 * A bare `main` remote under `dir` holding one commit of `test/fixtures/repos/<name>`, with
 * `extra` files added or replaced (path → content; `null` deletes). Returns the remote's path.
 */
export async function fixtureRemote(dir: string, name: FixtureRepo, extra: Record<string, string | null> = {}): Promise<string> {
  const bare = join(dir, `${name}-remote.git`);
  const seed = join(dir, `${name}-seed`);
  await mkdir(dir, { recursive: true });
  await run('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  await cp(fixturePath('repos', name), seed, { recursive: true });
  await run('git', ['init', '-q', '-b', 'main', seed]);
  await commitFiles(seed, extra, 'init');
  await run('git', ['-C', seed, 'push', '-q', bare, 'main']);
  return bare;
}

/** Writes `files` into the clone `seed`, commits everything, and pushes to `bare` when given. */
export async function commitFiles(seed: string, files: Record<string, string | null>, message: string, bare?: string): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const p = join(seed, path);
    if (content === null) await run('git', ['-C', seed, 'rm', '-q', '--', path]);
    else {
      await mkdir(dirname(p), { recursive: true });
      await writeFile(p, content);
    }
  }
  await run('git', ['-C', seed, 'add', '-A']);
  await run('git', ['-C', seed, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', message]);
  if (bare) await run('git', ['-C', seed, 'push', '-q', bare, 'main']);
}

/** Gives `path` to the sandbox user `user` (`uid:gid`), as prepareWorkspace and runTests do; a no-op when not root. */
export async function ownBySandbox(path: string, user: string): Promise<void> {
  if (process.getuid?.() === 0) await run('chown', ['-R', user, path]);
}

let clones = 0;

/** A fresh clone of `remote` under `dir` (host-only git dir + work tree), its work tree owned by the sandbox user. */
export async function sandboxClone(dir: string, remote: string, user: string): Promise<{ paths: RepoPaths; baseSha: string }> {
  const n = ++clones;
  const paths = { gitDir: join(dir, `clone${n}.git`), workTree: join(dir, `clone${n}`) };
  const baseSha = await prepareRepo(remote, 'main', paths);
  await ownBySandbox(paths.workTree, user);
  return { paths, baseSha };
}
