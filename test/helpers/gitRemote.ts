/** Git remotes made by tests. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../activities/exec.js';

/** A bare `main` remote holding one commit of `a.txt`. */
export async function seededRemote(dir: string): Promise<string> {
  const bare = join(dir, 'remote.git');
  await run('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  const seed = join(dir, 'seed');
  await run('git', ['init', '-q', '-b', 'main', seed]);
  await writeFile(join(seed, 'a.txt'), 'one\n');
  await run('git', ['-C', seed, 'add', '-A']);
  await run('git', ['-C', seed, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init']);
  await run('git', ['-C', seed, 'push', '-q', bare, 'main']);
  return bare;
}

