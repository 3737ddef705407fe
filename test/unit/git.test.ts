import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NightshiftError } from '../../activities/errors.js';
import { run } from '../../activities/exec.js';
import { seededRemote } from '../helpers/gitRemote.js';
import { assertPushableBranch, commitSquashed, diffSince, prepareRepo, pushBranch } from '../../activities/git.js';

function guardCode(branch: string, defaultBranch = 'main'): string | undefined {
  try {
    assertPushableBranch(branch, defaultBranch);
    return undefined;
  } catch (err) {
    assert.ok(err instanceof NightshiftError);
    assert.equal(err.retryable, false);
    return err.code;
  }
}

test('the branch guard refuses the default branch and anything not nightshift/*', () => {
  assert.equal(guardCode('main'), 'BRANCH_GUARD');
  assert.equal(guardCode('refs/heads/main'), 'BRANCH_GUARD');
  assert.equal(guardCode('develop', 'develop'), 'BRANCH_GUARD');
  assert.equal(guardCode('master'), 'BRANCH_GUARD');
  assert.equal(guardCode('feature/x'), 'BRANCH_GUARD');
  assert.equal(guardCode('nightshift/'), 'BRANCH_GUARD');
  assert.equal(guardCode('nightshift/../main'), 'BRANCH_GUARD');
  assert.equal(guardCode('nightshift/a b'), 'BRANCH_GUARD');
  assert.equal(guardCode('nightshift/fix-add-abc123'), undefined);
  assert.equal(guardCode('nightshift/fix-add-abc123-wip'), undefined);
});

test('clone, squash-commit with the trailer, push a nightshift branch; pushing main is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ns-git-'));
  const bare = await seededRemote(dir);
  const ws = { workTree: join(dir, 'ws'), gitDir: join(dir, 'ws.git') };
  const base = await prepareRepo(bare, 'main', ws);
  assert.match(base, /^[0-9a-f]{40}$/);
  assert.equal(await readFile(join(ws.workTree, 'a.txt'), 'utf8'), 'one\n', 'the work tree is checked out');
  // The sandbox gets its own repository in the work tree, usable by the agent.
  assert.equal((await run('git', ['-C', ws.workTree, 'rev-parse', 'HEAD'])).stdout.trim(), base);
  assert.equal((await run('git', ['-C', ws.workTree, 'status', '--porcelain'])).stdout, '');
  assert.deepEqual((await diffSince(ws, base)).files, []);
  await writeFile(join(ws.workTree, 'a.txt'), 'two\n');
  await writeFile(join(ws.workTree, 'b.txt'), 'new\n');
  const diff = await diffSince(ws, base);
  assert.deepEqual(diff.files.sort(), ['a.txt', 'b.txt']);
  assert.match(diff.stat, /2 files changed/);

  const bot = { name: 'nightshift[bot]', email: 'bot@example.com' };
  const sha = await commitSquashed(ws, { branch: 'nightshift/x', baseSha: base, subject: 'Fix it', workflowId: 'cli-1', bot });
  assert.ok(sha);
  const msg = (await run('git', ['--git-dir', ws.gitDir, 'log', '-1', '--format=%an%n%B', sha])).stdout;
  assert.match(msg, /^nightshift\[bot\]\nFix it\n\nNightshift-Run: cli-1/);
  await pushBranch(ws, { url: bare, branch: 'nightshift/x', defaultBranch: 'main', commit: sha });
  const branches = (await run('git', ['-C', bare, 'branch', '--format=%(refname:short)'])).stdout.split('\n').filter(Boolean).sort();
  assert.deepEqual(branches, ['main', 'nightshift/x']);
  await assert.rejects(pushBranch(ws, { url: bare, branch: 'main', defaultBranch: 'main', commit: sha }), (e: unknown) => e instanceof NightshiftError && e.code === 'BRANCH_GUARD');
  assert.equal((await run('git', ['-C', bare, 'rev-parse', 'main'])).stdout.trim(), base, 'main is untouched');

  // A second squash (after more work) still yields one commit on top of the base.
  await writeFile(join(ws.workTree, 'c.txt'), 'more\n');
  const sha2 = await commitSquashed(ws, { branch: 'nightshift/x', baseSha: base, subject: 'Fix it', workflowId: 'cli-1', bot });
  assert.equal((await run('git', ['--git-dir', ws.gitDir, 'rev-list', '--count', `${base}..${sha2}`])).stdout.trim(), '1');
  // Nothing changed since base: no commit.
  const empty = { workTree: join(dir, 'ws2'), gitDir: join(dir, 'ws2.git') };
  const base2 = await prepareRepo(bare, 'main', empty);
  assert.equal(await commitSquashed(empty, { branch: 'nightshift/y', baseSha: base2, subject: 's', workflowId: 'w', bot }), undefined);
});
