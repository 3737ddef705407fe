/**
 * Host-side git, which never reads anything the sandbox can write.
 *
 * Layout of a run (see {@link prepareRepo}):
 * - the **host git directory** (`gitDir`, under `<stateDir>/gitdirs/`) holds the objects, refs,
 *   index and configuration the host uses; it is never mounted into a sandbox;
 * - the **work tree** (`workTree`, under `<stateDir>/workspaces/`) is mounted at `/workspace`; its
 *   `.git` is the sandbox's own copy of the repository, for the agent's `git status` / `git diff`.
 *   The host never reads it: every host command names `--git-dir` and `--work-tree` explicitly
 *   (no discovery), and git itself never looks into a work tree's top-level `.git` when adding.
 *
 * Every host git command runs with {@link hostGitEnv}: an environment built from scratch (no
 * system or global configuration, an empty HOME, no terminal prompts) and fixed `-c` options (no
 * hooks, no fsmonitor, no credential helpers, no followed tags), so the only configuration in
 * effect is the host git directory's, which Nightshift wrote. A `.gitattributes` in the work tree
 * can name filter or diff drivers, but none is defined, so none runs. Nested repositories the agent
 * may have created (any other `.git` entry in the work tree) are excluded before `git add`, so git
 * never opens them.
 *
 * The push credential travels in the environment (`GIT_CONFIG_COUNT` / `GIT_CONFIG_KEY_n` /
 * `GIT_CONFIG_VALUE_n`, https://git-scm.com/docs/git-config#Documentation/git-config.txt-GITCONFIGCOUNT),
 * scoped to the configured remote's origin, never in argv; errors carry no argv and are redacted.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { ChangedFileSummary } from '../workflows/activityTypes.js';
import { NightshiftError } from './errors.js';
import { run, type ExecResult } from './exec.js';

/** The bot identity commits are made as. */
export interface BotIdentity {
  name: string;
  email: string;
}

/** Where a run's repository lives on the host. */
export interface RepoPaths {
  /** Host-only git directory (never mounted). */
  gitDir: string;
  /** Work tree, mounted at /workspace in sandboxes. */
  workTree: string;
}

/** Prefix of every branch Nightshift pushes. */
export const BRANCH_PREFIX = 'nightshift/';

/** `-c` options of every host git command: nothing that executes or redirects. */
const FIXED_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.untrackedCache=false',
  'core.sshCommand=false',
  'core.askPass=',
  'credential.helper=',
  'push.followTags=false',
  'push.gpgSign=false',
  'push.recurseSubmodules=no',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
  'submodule.recurse=false',
  'protocol.ext.allow=never',
  'diff.external=',
  'status.showUntrackedFiles=all',
  'advice.detachedHead=false',
].flatMap((kv) => ['-c', kv]);

let emptyHome: string | undefined;

/** An empty directory used as HOME and XDG_CONFIG_HOME of host git (no user configuration). */
async function gitHome(): Promise<string> {
  emptyHome ??= await mkdtemp(join(tmpdir(), 'nightshift-git-home-'));
  return emptyHome;
}

/** Environment variables passed through to host git: proxies and trust stores, nothing else. */
const PASSED_ENV = ['PATH', 'LANG', 'TZ', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'GIT_SSL_CAINFO'];

/**
 * The environment of a host git command, built from scratch: no system or global configuration,
 * an empty HOME, no prompts, and, when a token and an https remote are given, an
 * `http.<origin>/.extraHeader` carrying the token (in the environment, not in argv).
 */
export async function hostGitEnv(auth?: { token?: string; url: string }): Promise<NodeJS.ProcessEnv> {
  const home = await gitHome();
  const env: NodeJS.ProcessEnv = {
    HOME: home,
    XDG_CONFIG_HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_ALLOW_PROTOCOL: 'https:http:file',
  };
  for (const k of PASSED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  if (auth?.token && /^https:\/\//i.test(auth.url)) {
    const origin = new URL(auth.url).origin;
    const basic = Buffer.from(`x-access-token:${auth.token}`).toString('base64');
    env.GIT_CONFIG_COUNT = '1';
    env.GIT_CONFIG_KEY_0 = `http.${origin}/.extraHeader`;
    env.GIT_CONFIG_VALUE_0 = `Authorization: Basic ${basic}`;
  }
  return env;
}

type GitCode = 'GIT_FAILED' | 'CLONE_FAILED' | 'PUSH_FAILED';

/** Runs host git on a run's repository (explicit git dir and work tree, fixed configuration). */
export async function hostGit(
  repo: RepoPaths,
  args: string[],
  opts: { auth?: { token?: string; url: string }; code?: GitCode; timeoutMs?: number; indexFile?: string } = {},
): Promise<ExecResult> {
  const env = await hostGitEnv(opts.auth);
  if (opts.indexFile) env.GIT_INDEX_FILE = opts.indexFile;
  return run('git', [...FIXED_CONFIG, `--git-dir=${repo.gitDir}`, `--work-tree=${repo.workTree}`, ...args], {
    code: opts.code ?? 'GIT_FAILED',
    env,
    timeoutMs: opts.timeoutMs,
  });
}

/**
 * Writes the tree that would be pushed into `dest` (a new directory): the commit `rev`, or, without
 * it, the work tree as staged now (exactly what a commit would hold: ignored and nested-repository
 * files excluded). Uses a throw-away index, so the run's own index is untouched. Returns the tree.
 * Validation runs on this export, never on the agent's work tree.
 */
export async function exportTree(repo: RepoPaths, rev: string | undefined, dest: string): Promise<string> {
  const treeSha =
    rev === undefined
      ? await withIndex(repo.gitDir, async () => {
          await stageAll(repo);
          return (await hostGit(repo, ['write-tree'])).stdout.trim();
        })
      : (await hostGit(repo, ['rev-parse', `${rev}^{tree}`])).stdout.trim();
  await mkdir(dest, { recursive: true });
  const indexFile = join(dest, '..', `.${treeSha}.${process.pid}.${Date.now()}.index`);
  try {
    await hostGit(repo, ['read-tree', treeSha], { indexFile });
    await hostGit(repo, ['checkout-index', '--all', '--force', `--prefix=${dest}/`], { indexFile });
  } finally {
    await rm(indexFile, { force: true });
  }
  return treeSha;
}

/**
 * A git command with the hardened host settings ({@link hostGitEnv}, fixed `-c` options) but no
 * fixed repository: for tools that make their own throw-away repositories (evals). `args` may
 * start with `-C <dir>`.
 * @throws NightshiftError GIT_FAILED (or `code`)
 */
export async function hardenedGit(args: string[], opts: { code?: GitCode; timeoutMs?: number } = {}): Promise<ExecResult> {
  return run('git', [...FIXED_CONFIG, ...args], { code: opts.code ?? 'GIT_FAILED', env: await hostGitEnv(), timeoutMs: opts.timeoutMs });
}

/**
 * Writes the tree of `branch` of a local bare repository into `dest` (a new directory) through
 * hardened host git: a shallow bare clone into `scratchGitDir` (host-only, never in `dest`), then
 * {@link exportTree}. Nothing the branch holds (attributes, filters, config) runs on the host.
 * @throws NightshiftError GIT_FAILED
 */
export async function exportBranch(bare: string, branch: string, dest: string, scratchGitDir: string): Promise<void> {
  await hardenedGit(['clone', '--quiet', '--bare', '--depth', '1', '--single-branch', '--no-tags', '--branch', branch, '--', `file://${bare}`, scratchGitDir]);
  await exportTree({ gitDir: scratchGitDir, workTree: dest }, 'HEAD', dest);
}

/**
 * Clones `url` at `branch` into a host-only git directory and checks it out into `workTree`,
 * then gives the work tree its own `.git` (a copy the sandbox may use and change; the host never
 * reads it). The git directory must not exist, the work tree must be absent or empty. Returns the
 * base commit.
 *
 * With `from` (a run re-prepared on another worker host): also fetches `from.branch`, checks that
 * it still points at `from.sha`, takes the parent of `from.sha` (the run's base: WIP commits are
 * squashed onto it) as the base, and leaves the WIP tree in the work tree, uncommitted.
 * @throws NightshiftError CLONE_FAILED (retryable), GIT_FAILED, WIP_MOVED (not retryable: the
 *   branch was changed by someone else since the run pushed it)
 */
export async function prepareRepo(url: string, branch: string, paths: RepoPaths, token?: string, from?: { branch: string; sha: string }): Promise<string> {
  const env = await hostGitEnv({ token, url });
  await run('git', [...FIXED_CONFIG, 'clone', '--quiet', '--bare', '--branch', branch, '--single-branch', '--no-tags', '--', url, paths.gitDir], {
    code: 'CLONE_FAILED',
    env,
    timeoutMs: 10 * 60_000,
  });
  // A bare clone has no index and core.bare=true; the explicit --work-tree makes it a work tree's
  // repository for every later command.
  await hostGit(paths, ['config', 'core.bare', 'false']);
  await mkdir(paths.workTree, { recursive: true });
  if (from) await checkoutWip(paths, url, token, from);
  else await hostGit(paths, ['read-tree', '--reset', '-u', 'HEAD']);
  const baseSha = (await hostGit(paths, ['rev-parse', 'HEAD'])).stdout.trim();
  // The sandbox's own repository: a copy of ours, written before any sandbox ran.
  const sandboxGit = join(paths.workTree, '.git');
  await cp(paths.gitDir, sandboxGit, { recursive: true });
  await hostGit({ gitDir: sandboxGit, workTree: paths.workTree }, ['config', 'remote.origin.url', redactUrl(url)]);
  await hostGit({ gitDir: sandboxGit, workTree: paths.workTree }, ['config', '--unset-all', 'remote.origin.fetch']).catch(() => undefined);
  return baseSha;
}

/**
 * Fetches the WIP branch into the host git directory, checks it is still at `from.sha`, detaches
 * HEAD at its parent (the run's base) and writes the WIP tree into the work tree (the index stays
 * at the base: the partial work is uncommitted, as the agent left it).
 */
async function checkoutWip(paths: RepoPaths, url: string, token: string | undefined, from: { branch: string; sha: string }): Promise<void> {
  if (!/^[0-9a-f]{40,64}$/.test(from.sha) || !from.branch.startsWith(BRANCH_PREFIX)) {
    throw new NightshiftError('GIT_FAILED', `not a Nightshift WIP commit: ${from.branch.slice(0, 80)} at ${from.sha.slice(0, 80)}`, { retryable: false });
  }
  const ref = `refs/nightshift/wip`;
  await hostGit(paths, ['fetch', '--quiet', '--no-tags', '--', url, `+refs/heads/${from.branch}:${ref}`], { auth: { token, url }, code: 'CLONE_FAILED', timeoutMs: 10 * 60_000 });
  const head = (await hostGit(paths, ['rev-parse', ref])).stdout.trim();
  if (head !== from.sha) {
    throw new NightshiftError('WIP_MOVED', `${from.branch} is at ${head.slice(0, 12)}, not at the run's ${from.sha.slice(0, 12)}; someone else pushed to it`, {
      retryable: false,
      details: { branch: from.branch, expected: from.sha, found: head },
    });
  }
  const base = (await hostGit(paths, ['rev-parse', `${from.sha}^`])).stdout.trim();
  await hostGit(paths, ['update-ref', '--no-deref', 'HEAD', base]);
  // Work tree and index at the WIP tree (files it deleted are removed), then the index alone back at the base.
  await hostGit(paths, ['read-tree', '--reset', '-u', from.sha]);
  await hostGit(paths, ['read-tree', '--reset', 'HEAD']);
}

/** A URL with any user info removed (the sandbox's copy never holds a credential). */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Paths (relative to the work tree) of nested repositories the agent may have made: every `.git`
 * entry other than the top-level one. Symbolic links are not followed.
 */
export async function nestedRepos(workTree: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.name === '.git') {
        if (dir !== workTree) found.push(relative(workTree, dir));
        continue;
      }
      if (e.isDirectory() && !e.isSymbolicLink()) await walk(p);
    }
  };
  await walk(workTree);
  return found;
}

/** A path as a gitignore pattern that matches it literally (glob characters escaped), or undefined when none can. */
function literalPattern(path: string, dirOnly = true): string | undefined {
  if (/[\n\r]/.test(path)) return undefined;
  return `/${path.replace(/[\\[\]*?!#]/g, (c) => `\\${c}`).replace(/ $/, '\\ ')}${dirOnly ? '/' : ''}`;
}

/** File in the host git directory listing the environment's seed paths (never staged). */
const SEED_EXCLUDE_FILE = 'nightshift-seed.json';

/**
 * Records the paths the environment seeded into the work tree (its setup's results, such as
 * `node_modules`): {@link stageAll} excludes them, so they are never committed or pushed.
 */
export async function excludeSeedPaths(repo: RepoPaths, paths: string[]): Promise<void> {
  await writeFile(join(repo.gitDir, SEED_EXCLUDE_FILE), JSON.stringify(paths));
}

/**
 * Stages the whole work tree in the host git directory's index (`git add -A`), after excluding
 * nested repositories (written to the host-only `info/exclude`, escaped to match literally), so
 * git does not descend into them. Fails closed: any gitlink (mode 160000) left in the index that
 * the base commit did not have — a nested repository the exclusion could not name, whose HEAD git
 * would record, possibly read from a host path through a `.git` file — is removed from the index.
 */
export async function stageAll(repo: RepoPaths): Promise<void> {
  await withIndex(repo.gitDir, () => stageAllNow(repo));
}

/** Index users waiting per host git directory (this process): `git add` or `write-tree` of two activities at once would collide on `index.lock`, or read the other's index half-staged. */
const indexQueues = new Map<string, Promise<void>>();
/** The git directories whose index the current async context holds ({@link withIndex} is reentrant). */
const heldIndexes = new AsyncLocalStorage<ReadonlySet<string>>();

/**
 * Runs `fn` with the index of `gitDir` to itself among this process's users of it (in call order):
 * staging and whatever reads or writes the staged index after it, as one step. Reentrant.
 */
export async function withIndex<T>(gitDir: string, fn: () => Promise<T>): Promise<T> {
  const held = heldIndexes.getStore();
  if (held?.has(gitDir)) return fn();
  const before = indexQueues.get(gitDir) ?? Promise.resolve();
  let done!: () => void;
  const gate = new Promise<void>((resolve) => (done = resolve));
  const mine = before.then(() => gate);
  indexQueues.set(gitDir, mine);
  await before;
  try {
    return await heldIndexes.run(new Set([...(held ?? []), gitDir]), fn);
  } finally {
    done();
    if (indexQueues.get(gitDir) === mine) indexQueues.delete(gitDir);
  }
}

async function stageAllNow(repo: RepoPaths): Promise<void> {
  const nested = await nestedRepos(repo.workTree);
  await mkdir(join(repo.gitDir, 'info'), { recursive: true });
  const seed = await readFile(join(repo.gitDir, SEED_EXCLUDE_FILE), 'utf8').then((t) => JSON.parse(t) as string[], () => []);
  const patterns = [...nested.map((p) => literalPattern(p)), ...seed.map((p) => literalPattern(p, false))].filter((p): p is string => p !== undefined);
  await writeFile(join(repo.gitDir, 'info', 'exclude'), patterns.map((p) => `${p}\n`).join(''));
  await hostGit(repo, ['add', '-A']);
  // info/exclude ranks below a .gitignore the agent writes (`!/node_modules`): the seed paths
  // leave the index whatever the work tree's ignore files say.
  for (const p of seed) await hostGit(repo, ['--literal-pathspecs', 'rm', '-r', '--cached', '--quiet', '--ignore-unmatch', '--', p]);
  const staged = (await hostGit(repo, ['ls-files', '--stage', '-z'])).stdout.split('\0').filter((e) => e.startsWith('160000 '));
  if (staged.length === 0) return;
  const base = new Set(
    (await hostGit(repo, ['ls-tree', '-r', '-z', 'HEAD']).catch(() => ({ stdout: '' }))).stdout
      .split('\0')
      .filter((e) => e.startsWith('160000 '))
      .map((e) => e.slice(e.indexOf('\t') + 1)),
  );
  const added = staged.map((e) => e.slice(e.indexOf('\t') + 1)).filter((p) => !base.has(p));
  for (const path of added) await hostGit(repo, ['--literal-pathspecs', 'rm', '--cached', '--quiet', '--', path]);
}

/** One changed path, with the lines added and removed (`-1` each for a binary file). */
export type ChangedFile = ChangedFileSummary;

/** Files changed in the work tree since `baseSha` (committed or not, untracked included), and `git diff --stat`. */
export async function diffSince(repo: RepoPaths, baseSha: string): Promise<{ files: string[]; stat: string }> {
  return withIndex(repo.gitDir, async () => {
    await stageAll(repo);
    const files = (await hostGit(repo, ['diff', '--cached', '--no-renames', '--name-only', baseSha])).stdout.split('\n').filter(Boolean);
    const stat = (await hostGit(repo, ['diff', '--cached', '--no-renames', '--stat', baseSha])).stdout.trimEnd();
    return { files, stat };
  });
}

/** Each changed file since `baseSha` with its status and line counts (stages the work tree first). */
export async function changedFiles(repo: RepoPaths, baseSha: string): Promise<ChangedFile[]> {
  await stageAll(repo);
  const status = new Map<string, ChangedFile['status']>();
  const names = (await hostGit(repo, ['diff', '--cached', '--no-renames', '--name-status', '-z', baseSha])).stdout.split('\0');
  for (let i = 0; i + 1 < names.length; i += 2) {
    const s = names[i] ?? '';
    const path = names[i + 1] ?? '';
    status.set(path, s.startsWith('A') ? 'added' : s.startsWith('D') ? 'deleted' : s.startsWith('T') ? 'type_changed' : 'modified');
  }
  const out: ChangedFile[] = [];
  const nums = (await hostGit(repo, ['diff', '--cached', '--no-renames', '--numstat', '-z', baseSha])).stdout.split('\0').filter(Boolean);
  for (const row of nums) {
    const [a, r, ...rest] = row.split('\t');
    const path = rest.join('\t');
    out.push({ path, status: status.get(path) ?? 'modified', added: a === '-' ? -1 : Number(a), removed: r === '-' ? -1 : Number(r) });
  }
  return out;
}

/**
 * A file's content at `rev` (`<sha>` for the base commit, `''` for the staged index), or undefined
 * when absent there. At most `maxBytes` (default 1 MiB) are returned.
 */
export async function fileAt(repo: RepoPaths, rev: string, path: string, maxBytes = 1 << 20): Promise<string | undefined> {
  try {
    const r = await hostGit(repo, ['cat-file', 'blob', `${rev}:${path}`]);
    return r.stdout.slice(0, maxBytes);
  } catch (err) {
    if (err instanceof NightshiftError) return undefined;
    throw err;
  }
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
 * Puts everything changed since `baseSha` into one commit on `branch` (created or reset there) in
 * the host git directory, authored by the bot, with a `Nightshift-Run` trailer: the staged tree,
 * committed with `commit-tree` on the base. HEAD stays at the base (what {@link stageAll} compares
 * gitlinks with). Writes nothing into the work tree. Returns the commit, or undefined when nothing changed. With `tree` (the tree the
 * diff gate reviewed), nothing is committed unless the staged tree is exactly that one.
 * @throws NightshiftError DIFF_GATE (not retryable) when the staged tree is not `tree`; GIT_FAILED
 */
export async function commitSquashed(
  repo: RepoPaths,
  opts: { branch: string; baseSha: string; subject: string; body?: string; workflowId: string; bot: BotIdentity; tree?: string },
): Promise<string | undefined> {
  return withIndex(repo.gitDir, () => commitSquashedNow(repo, opts));
}

async function commitSquashedNow(repo: RepoPaths, opts: Parameters<typeof commitSquashed>[1]): Promise<string | undefined> {
  await stageAll(repo);
  const [tree, baseTree] = await Promise.all([hostGit(repo, ['write-tree']), hostGit(repo, ['rev-parse', `${opts.baseSha}^{tree}`])]).then((r) => r.map((x) => x.stdout.trim()));
  if (tree === baseTree) return undefined;
  if (opts.tree !== undefined && tree !== opts.tree) {
    throw new NightshiftError('DIFF_GATE', 'the workspace changed after the diff gate reviewed it; nothing was pushed', {
      retryable: false,
      details: { reviewedTree: opts.tree, tree },
    });
  }
  const message = cleanMessage(`${opts.subject}\n\n${opts.body ? opts.body.trim() + '\n\n' : ''}Nightshift-Run: ${opts.workflowId}\n`);
  const commit = (await hostGit(repo, ['-c', `user.name=${opts.bot.name}`, '-c', `user.email=${opts.bot.email}`, 'commit-tree', tree!, '-p', opts.baseSha, '-m', message])).stdout.trim();
  await hostGit(repo, ['update-ref', `refs/heads/${opts.branch}`, commit]);
  return commit;
}

/** A commit message as `git commit --cleanup=whitespace` keeps it: no trailing spaces, no runs of blank lines, no leading or trailing blank line. */
function cleanMessage(text: string): string {
  const lines = text.split('\n').map((l) => l.replace(/\s+$/, ''));
  const kept = lines.filter((l, i) => l !== '' || (i > 0 && lines[i - 1] !== ''));
  while (kept[0] === '') kept.shift();
  while (kept.at(-1) === '') kept.pop();
  return `${kept.join('\n')}\n`;
}

/**
 * Pushes `commit` to `branch` on `url` (force: the branch is Nightshift's own): exactly one ref,
 * no tags, to the configured URL (never a remote name, so no configuration can redirect it).
 * @throws NightshiftError BRANCH_GUARD (not retryable) or PUSH_FAILED (retryable)
 */
export async function pushBranch(repo: RepoPaths, opts: { url: string; branch: string; defaultBranch: string; commit: string; token?: string }): Promise<void> {
  assertPushableBranch(opts.branch, opts.defaultBranch);
  if (!/^[0-9a-f]{40,64}$/.test(opts.commit)) {
    throw new NightshiftError('GIT_FAILED', `not a commit id: ${opts.commit.slice(0, 80)}`, { retryable: false });
  }
  await hostGit(repo, ['push', '--quiet', '--force', '--no-verify', '--no-follow-tags', '--', opts.url, `${opts.commit}:refs/heads/${opts.branch}`], {
    auth: { token: opts.token, url: opts.url },
    code: 'PUSH_FAILED',
  });
}

/**
 * Removes a run's host git directory and everything in its work tree, but keeps the work tree
 * directory itself (created when missing): a warm agent sandbox may have it mounted already
 * (activities/warmAgent.ts), and a bind mount follows the directory, not its path.
 */
export async function emptyRepo(paths: RepoPaths): Promise<void> {
  await rm(paths.gitDir, { recursive: true, force: true });
  await mkdir(paths.workTree, { recursive: true });
  const entries = await readdir(paths.workTree);
  await Promise.all(entries.map((name) => rm(join(paths.workTree, name), { recursive: true, force: true })));
}

/** Removes a run's host git directory and work tree. */
export async function removeRepo(paths: RepoPaths): Promise<void> {
  await rm(paths.workTree, { recursive: true, force: true });
  await rm(paths.gitDir, { recursive: true, force: true });
}
