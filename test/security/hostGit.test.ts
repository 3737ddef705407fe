/**
 * Host git never runs what the sandbox wrote, never pushes elsewhere or more than the run's branch,
 * and never lets the push credential into an error (real git, no Docker: the sandbox's writes are
 * made directly in the work tree, which is all a sandbox can reach).
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NightshiftError } from '../../activities/errors.js';
import { run } from '../../activities/exec.js';
import { commitSquashed, diffSince, prepareRepo, pushBranch, type RepoPaths } from '../../activities/git.js';
import { redact, registerSecret } from '../../worker/redact.js';
import { seededRemote } from '../helpers/gitRemote.js';

const bot = { name: 'nightshift[bot]', email: 'bot@example.com' };

/** A command that leaves a marker file when executed: the proof of code execution on the host. */
function pwn(marker: string): string {
  return `sh -c 'echo ran > ${marker}; env > ${marker}.env'`;
}

/** Each way the sandbox could try to configure host git, written where the sandbox can write. */
const ATTACKS: Array<{ name: string; apply: (ws: string, marker: string, evil: string) => Promise<void> }> = [
  { name: 'core.fsmonitor in .git/config', apply: (ws, m) => gitConfig(ws, 'core.fsmonitor', pwn(m)) },
  { name: 'core.hooksPath + pre-commit hook', apply: async (ws, m) => { await hook(ws, 'pre-commit', m, join(ws, 'hooks')); await gitConfig(ws, 'core.hooksPath', join(ws, 'hooks')); } },
  { name: '.git/hooks pre-commit / pre-push / post-commit / reference-transaction', apply: async (ws, m) => { for (const h of ['pre-commit', 'pre-push', 'post-commit', 'reference-transaction', 'post-index-change']) await hook(ws, h, m); } },
  { name: 'filter.<driver>.clean with .gitattributes', apply: async (ws, m) => { await gitConfig(ws, 'filter.x.clean', pwn(m)); await gitConfig(ws, 'filter.x.smudge', pwn(m)); await writeFile(join(ws, '.gitattributes'), '* filter=x diff=x\n'); await gitConfig(ws, 'diff.x.textconv', pwn(m)); } },
  { name: 'include.path to a config file the sandbox wrote', apply: async (ws, m) => { await writeFile(join(ws, 'evil.cfg'), `[core]\n\tfsmonitor = ${pwn(m)}\n`); await gitConfig(ws, 'include.path', join(ws, 'evil.cfg')); } },
  { name: 'url.<evil>.insteadOf the remote', apply: (ws, _m, evil) => gitConfig(ws, `url.${evil}.insteadOf`, '/') },
  { name: 'push.followTags + a tag, remote.origin.push refspecs', apply: async (ws) => { await gitConfig(ws, 'push.followTags', 'true'); await gitConfig(ws, 'remote.origin.push', 'refs/heads/*:refs/heads/*'); await run('git', ['-C', ws, 'tag', 'evil-tag']); await run('git', ['-C', ws, 'branch', 'evil-branch']); } },
  { name: 'nested repository with its own fsmonitor', apply: async (ws, m) => { const sub = join(ws, 'sub'); await mkdir(sub); await run('git', ['init', '-q', sub]); await writeFile(join(sub, 'f.txt'), 'x\n'); await run('git', ['-C', sub, 'config', 'core.fsmonitor', pwn(m)]); } },
  {
    name: 'nested repositories the exclusion cannot name ([n]/, a newline, node_modules/, a .git file to a host repository)',
    apply: async (ws, m) => {
      for (const dir of ['[n]', 'a\n!b', 'node_modules/y']) {
        await mkdir(join(ws, dir), { recursive: true });
        await run('git', ['init', '-q', join(ws, dir)]);
        await writeFile(join(ws, dir, 'f.txt'), 'x\n');
        await run('git', ['-C', join(ws, dir), '-c', 'user.name=a', '-c', 'user.email=a@a', 'commit', '-qm', 'x', '--allow-empty']);
        await run('git', ['-C', join(ws, dir), 'config', 'core.fsmonitor', pwn(m)]);
      }
      await mkdir(join(ws, 'node_modules', 'z'), { recursive: true });
      await writeFile(join(ws, 'node_modules', 'z', '.git'), `gitdir: ${process.cwd()}/.git\n`);
    },
  },
  { name: 'a .git file pointing elsewhere, in a subdirectory', apply: async (ws) => { await mkdir(join(ws, 'sub2')); await writeFile(join(ws, 'sub2', '.git'), 'gitdir: /etc\n'); } },
  { name: 'core.sshCommand, credential.helper, core.pager, core.editor, gpg.program', apply: async (ws, m) => { for (const k of ['core.sshCommand', 'credential.helper', 'core.pager', 'core.editor', 'gpg.program']) await gitConfig(ws, k, `!${pwn(m)}`); await gitConfig(ws, 'commit.gpgSign', 'true'); } },
];

async function gitConfig(ws: string, key: string, value: string): Promise<void> {
  await run('git', ['-C', ws, 'config', '--add', key, value]);
}

async function hook(ws: string, name: string, marker: string, dir = join(ws, '.git', 'hooks')): Promise<void> {
  await mkdir(dir, { recursive: true });
  const p = join(dir, name);
  await writeFile(p, `#!/bin/sh\n${pwn(marker)}\n`);
  await chmod(p, 0o755);
}

for (const attack of ATTACKS) {
  test(`host git ignores the sandbox's ${attack.name}`, { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ns-hostgit-'));
    const bare = await seededRemote(dir);
    const evil = join(dir, 'evil.git');
    await run('git', ['init', '-q', '--bare', evil]);
    const marker = join(dir, 'PWNED');
    const repo: RepoPaths = { workTree: join(dir, 'ws'), gitDir: join(dir, 'ws.git') };
    const base = await prepareRepo(bare, 'main', repo);

    // The agent's work, then its attack, in the work tree (all a sandbox can write).
    await writeFile(join(repo.workTree, 'a.txt'), 'fixed\n');
    await attack.apply(repo.workTree, marker, evil);

    const diff = await diffSince(repo, base);
    const sha = await commitSquashed(repo, { branch: 'nightshift/fix', baseSha: base, subject: 'Fix', workflowId: 'cli-x', bot });
    assert.ok(sha);
    await pushBranch(repo, { url: bare, branch: 'nightshift/fix', defaultBranch: 'main', commit: sha });

    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('PWNED')), [], 'nothing the sandbox configured ran on the host');
    assert.ok(diff.files.includes('a.txt'));
    assert.ok(!diff.files.some((f) => f.startsWith('sub/') || f === 'sub'), 'a nested repository is never staged (nor opened)');
    const refs = (await run('git', ['-C', bare, 'for-each-ref', '--format=%(refname)'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(refs, ['refs/heads/main', 'refs/heads/nightshift/fix'], 'only the run branch was pushed, no tag, no other branch');
    assert.equal((await run('git', ['-C', evil, 'for-each-ref'])).stdout, '', 'nothing reached another remote');
    const gitlinks = (await run('git', ['-C', bare, 'ls-tree', '-r', 'nightshift/fix'])).stdout.split('\n').filter((l) => l.startsWith('160000'));
    assert.deepEqual(gitlinks, [], 'no nested repository (gitlink) reaches the pushed tree');
    const pushedFile = (await run('git', ['-C', bare, 'show', 'nightshift/fix:a.txt'])).stdout;
    assert.equal(pushedFile, 'fixed\n', 'the content was committed unfiltered');
  });
}

test('the push credential is in no argv and no error: an unreachable remote and a refused push', { timeout: 60_000 }, async () => {
  const token = `ghp_${'S3cr3tT0k3n'.repeat(3)}`;
  const unregister = registerSecret(token);
  try {
    const dir = await mkdtemp(join(tmpdir(), 'ns-hostgit-cred-'));
    const repo: RepoPaths = { workTree: join(dir, 'ws'), gitDir: join(dir, 'ws.git') };
    // Clone from an https URL nobody answers (port 9 on loopback: connection refused).
    const err = await prepareRepo('https://127.0.0.1:9/acme/app.git', 'main', repo, token).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof NightshiftError, 'a typed error');
    assert.equal(err.code, 'CLONE_FAILED');
    const serialized = JSON.stringify({ message: err.message, stack: err.stack, details: err.options.details, failure: err.toFailure() });
    assert.ok(!serialized.includes(token), 'the token is not in the error');
    assert.ok(!serialized.includes(Buffer.from(`x-access-token:${token}`).toString('base64')), 'nor its Basic form');
    assert.ok(!/extraHeader|Authorization/i.test(serialized), 'no credential header in the error');

    // A push refused by the remote (a file:// remote that is not a repository) after a local commit.
    const bare = await seededRemote(dir);
    const ok: RepoPaths = { workTree: join(dir, 'ws2'), gitDir: join(dir, 'ws2.git') };
    const base = await prepareRepo(bare, 'main', ok, token);
    await writeFile(join(ok.workTree, 'a.txt'), 'x\n');
    const sha = await commitSquashed(ok, { branch: 'nightshift/a', baseSha: base, subject: 's', workflowId: 'w', bot });
    const pushErr = await pushBranch(ok, { url: 'https://127.0.0.1:9/acme/app.git', branch: 'nightshift/a', defaultBranch: 'main', commit: sha!, token }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(pushErr instanceof NightshiftError);
    assert.equal(pushErr.code, 'PUSH_FAILED');
    assert.ok(!JSON.stringify({ m: pushErr.message, s: pushErr.stack, d: pushErr.options.details }).includes(token));
    // Any text that does carry it (a log line, a report) is redacted at the boundary.
    assert.equal(redact(`header: Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')} and ${token}`), 'header: Basic [redacted] and [redacted]');
  } finally {
    unregister();
  }
});
