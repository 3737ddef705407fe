/**
 * A workspace re-prepared on another worker host from the run's WIP branch (activities/git.ts
 * `prepareRepo(..., from)`): real git against a local bare remote. The base is the WIP commit's
 * parent (even after the default branch moved on), the work tree holds the pushed partial work
 * (changed, added and deleted files) uncommitted, and a branch someone else moved is refused.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { run } from '../../activities/exec.js';
import { NightshiftError } from '../../activities/errors.js';
import { commitSquashed, hostGit, prepareRepo, pushBranch } from '../../activities/git.js';
import { seededRemote } from '../helpers/gitRemote.js';

let dir: string;
let bare: string;
const bot = { name: 'bot', email: 'bot@x' };
const WIP = 'nightshift/fix-wip';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ns-wip-prepare-'));
  bare = await seededRemote(dir);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Host A: prepares, changes a.txt, adds b.txt, pushes the WIP commit; then main moves on. */
async function pushWipFromHostA(tag: string): Promise<{ base: string; wip: string }> {
  const a = { gitDir: join(dir, `${tag}-a.git`), workTree: join(dir, `${tag}-a`) };
  const base = await prepareRepo(bare, 'main', a);
  await writeFile(join(a.workTree, 'a.txt'), 'two\n');
  await writeFile(join(a.workTree, 'b.txt'), 'new\n');
  const wip = (await commitSquashed(a, { branch: WIP, baseSha: base, subject: 'WIP', workflowId: 'w1', bot }))!;
  await pushBranch(a, { url: bare, branch: WIP, defaultBranch: 'main', commit: wip });
  // Meanwhile someone merges to main.
  const other = join(dir, `${tag}-other`);
  await run('git', ['clone', '-q', bare, other]);
  await writeFile(join(other, `c-${tag}.txt`), 'later\n');
  await run('git', ['-C', other, 'add', '-A']);
  await run('git', ['-C', other, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'later']);
  await run('git', ['-C', other, 'push', '-q', 'origin', 'main']);
  return { base, wip };
}

test('host B re-prepares from the WIP commit: base = its parent, partial work uncommitted in the work tree', async () => {
  const { base, wip } = await pushWipFromHostA('ok');
  const b = { gitDir: join(dir, 'ok-b.git'), workTree: join(dir, 'ok-b') };
  const got = await prepareRepo(bare, 'main', b, undefined, { branch: WIP, sha: wip });
  assert.equal(got, base, 'the base is the run\'s base, not main\'s new head');
  assert.equal(await readFile(join(b.workTree, 'a.txt'), 'utf8'), 'two\n');
  assert.equal(await readFile(join(b.workTree, 'b.txt'), 'utf8'), 'new\n');
  assert.ok(!existsSync(join(b.workTree, 'c-ok.txt')), 'main\'s later commit is not in the workspace');
  // Uncommitted: the host git directory's index is at the base; the change shows against it.
  const status = (await hostGit(b, ['status', '--porcelain'])).stdout;
  assert.match(status, /^ M a\.txt$/m);
  assert.match(status, /^\?\? b\.txt$/m);
  // The sandbox's own .git copy agrees (the agent sees its earlier work as changes).
  const sandboxStatus = (await run('git', ['-C', b.workTree, 'status', '--porcelain'])).stdout;
  assert.match(sandboxStatus, /^ M a\.txt$/m);
  // Squashing again onto the base gives the same tree as the pushed WIP commit.
  const again = (await commitSquashed(b, { branch: WIP, baseSha: got, subject: 'WIP', workflowId: 'w1', bot }))!;
  assert.equal((await hostGit(b, ['rev-parse', `${again}^{tree}`])).stdout, (await hostGit(b, ['rev-parse', `${wip}^{tree}`])).stdout);
});

test('a WIP branch someone else moved is refused (WIP_MOVED, not retryable)', async () => {
  await pushWipFromHostA('moved');
  const b = { gitDir: join(dir, 'moved-b.git'), workTree: join(dir, 'moved-b') };
  await assert.rejects(prepareRepo(bare, 'main', b, undefined, { branch: WIP, sha: 'f'.repeat(40) }), (err: unknown) => {
    assert.ok(err instanceof NightshiftError);
    assert.equal(err.code, 'WIP_MOVED');
    assert.equal(err.retryable, false);
    return true;
  });
});
