/**
 * Host-side git: clone, diff, commit as the bot, push Nightshift branches. Credentials stay on
 * the host: a token is passed per command as an HTTP header, never written into the workspace
 * (which the sandbox mounts).
 */
import { NightshiftError } from './errors.js';
import { run } from './exec.js';

/** The bot identity commits are made as. */
export interface BotIdentity {
  name: string;
  email: string;
}

/** Prefix of every branch Nightshift pushes. */
export const BRANCH_PREFIX = 'nightshift/';

/** Git options for every call: the workspace may be owned by the sandbox user, not by us. */
function baseArgs(token?: string, url?: string): string[] {
  const args = ['-c', 'safe.directory=*', '-c', 'core.hooksPath=/dev/null'];
  if (token && url && /^https:\/\//i.test(url)) {
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    args.push('-c', `http.extraHeader=Authorization: Basic ${basic}`);
  }
  return args;
}

function git(ws: string, args: string[], opts: { token?: string; url?: string; code?: 'GIT_FAILED' | 'CLONE_FAILED' | 'PUSH_FAILED' } = {}) {
  return run('git', [...baseArgs(opts.token, opts.url), '-C', ws, ...args], { code: opts.code ?? 'GIT_FAILED' });
}

/**
 * Clones `url` at `branch` into `dest` (which must not exist).
 * @throws NightshiftError CLONE_FAILED (retryable)
 */
export async function cloneRepo(url: string, branch: string, dest: string, token?: string): Promise<string> {
  await run('git', [...baseArgs(token, url), 'clone', '--quiet', '--branch', branch, '--single-branch', '--', url, dest], {
    code: 'CLONE_FAILED',
    timeoutMs: 10 * 60_000,
  });
  return (await git(dest, ['rev-parse', 'HEAD'])).stdout.trim();
}

/** Files changed in the workspace since `baseSha` (committed or not, untracked included), and `git diff --stat`. */
export async function diffSince(ws: string, baseSha: string): Promise<{ files: string[]; stat: string }> {
  await git(ws, ['add', '-A']);
  const files = (await git(ws, ['diff', '--cached', '--name-only', baseSha])).stdout.split('\n').filter(Boolean);
  const stat = (await git(ws, ['diff', '--cached', '--stat', baseSha])).stdout.trimEnd();
  return { files, stat };
}

/**
 * Refuses, loudly, to push anything but a Nightshift branch; never the default branch.
 * @throws NightshiftError BRANCH_GUARD (not retryable)
 */
export function assertPushableBranch(branch: string, defaultBranch: string): void {
  const name = branch.replace(/^refs\/heads\//, '');
  if (name === defaultBranch || name === 'main' || name === 'master' || name === 'HEAD') {
    throw new NightshiftError('BRANCH_GUARD', `refusing to push to the default branch "${name}"`, { retryable: false, details: { branch } });
  }
  if (!name.startsWith(BRANCH_PREFIX) || name.length <= BRANCH_PREFIX.length || /\.\.|[\s~^:?*[\\]/.test(name)) {
    throw new NightshiftError('BRANCH_GUARD', `refusing to push "${name}": Nightshift only pushes ${BRANCH_PREFIX}<slug> branches`, {
      retryable: false,
      details: { branch },
    });
  }
}

/**
 * Puts everything changed since `baseSha` into one commit on `branch` (created or reset there),
 * authored by the bot, with a `Nightshift-Run` trailer. Returns the commit, or undefined when
 * nothing changed.
 */
export async function commitSquashed(
  ws: string,
  opts: { branch: string; baseSha: string; subject: string; body?: string; workflowId: string; bot: BotIdentity },
): Promise<string | undefined> {
  await git(ws, ['checkout', '--quiet', '-B', opts.branch]);
  await git(ws, ['reset', '--quiet', '--soft', opts.baseSha]);
  await git(ws, ['add', '-A']);
  const staged = (await git(ws, ['diff', '--cached', '--name-only', opts.baseSha])).stdout.trim();
  if (!staged) return undefined;
  const message = `${opts.subject}\n\n${opts.body ? opts.body.trim() + '\n\n' : ''}Nightshift-Run: ${opts.workflowId}\n`;
  await run(
    'git',
    [...baseArgs(), '-C', ws, '-c', `user.name=${opts.bot.name}`, '-c', `user.email=${opts.bot.email}`, 'commit', '--quiet', '--no-verify', '-m', message],
    { code: 'GIT_FAILED' },
  );
  return (await git(ws, ['rev-parse', 'HEAD'])).stdout.trim();
}

/**
 * Pushes HEAD to `branch` on `url` (force: the branch is Nightshift's own).
 * @throws NightshiftError BRANCH_GUARD (not retryable) or PUSH_FAILED (retryable)
 */
export async function pushBranch(ws: string, opts: { url: string; branch: string; defaultBranch: string; token?: string }): Promise<void> {
  assertPushableBranch(opts.branch, opts.defaultBranch);
  await git(ws, ['push', '--quiet', '--force', opts.url, `HEAD:refs/heads/${opts.branch}`], { token: opts.token, url: opts.url, code: 'PUSH_FAILED' });
}
