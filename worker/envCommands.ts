/**
 * `nightshift env …`: environments from a terminal, without Temporal and without an agent.
 *
 *   nightshift env build REPO [--force]     prepare (or find) the environment, with progress
 *   nightshift env check REPO               prepare, run the test command once, print the verdict
 *   nightshift env list [--json]            cached environments: key, size, last use
 *   nightshift env prune [--all] [--repo R] [--dry-run]   remove per the size / age limits (or all)
 *
 * Exit codes: 0 done (check: the environment runs the tests, passing or failing); 2 the
 * environment is broken (check) or cannot be made (build).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import Docker from 'dockerode';
import { listEnvironments, pruneEnvironments, type CachedEnvironment } from '../activities/environment/cache.js';
import { isDependencyFile } from '../activities/environment/cacheKey.js';
import { classifyPreflight } from '../activities/environment/preflight.js';
import { prepareEnvironment, seedWorkspace, type PreparedEnvironmentDetails } from '../activities/environment/prepare.js';
import { NightshiftError } from '../activities/errors.js';
import { run } from '../activities/exec.js';
import { exportTree, hostGit, prepareRepo, removeRepo, type RepoPaths } from '../activities/git.js';
import { DEFAULT_IMAGES } from '../activities/scope.js';
import { SandboxManager } from '../activities/sandbox.js';
import { sandboxUser } from '../activities/index.js';
import { runRepoTests } from '../activities/validate/run.js';
import type { Config } from './config.js';
import { secretsFromEnv } from './config.js';
import { createRootLogger, type Logger } from './logger.js';

/** The commands log warnings only (LOG_LEVEL overrides): their output is the progress and the verdict. */
let cliLogger: Logger | undefined;
const rootLogger = (): Logger => (cliLogger ??= createRootLogger(process.env.LOG_LEVEL ?? 'warn'));

/** Bytes as MB / GB for a person. */
function size(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  return bytes >= 1e6 ? `${Math.round(bytes / 1e6)} MB` : `${Math.round(bytes / 1e3)} kB`;
}

/** A progress printer: each line prefixed with the seconds since `start`. */
function progress(out: NodeJS.WritableStream, start = Date.now()): (line: string) => void {
  return (line) => out.write(`[${((Date.now() - start) / 1000).toFixed(1).padStart(6)}s] ${printable(line)}\n`);
}

/** Setup and build output without control characters (no terminal escape sequences reach the operator's terminal). */
export function printable(line: string): string {
  return [...line].map((c) => (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? (c === '\t' ? ' ' : '�') : c)).join('');
}

/** The repository's configuration. @throws NightshiftError CONFIG_INVALID naming the known ones */
function repoOf(config: Config, name: string): Config['repos'][string] {
  const repo = config.repos[name];
  if (!repo) throw new NightshiftError('CONFIG_INVALID', `unknown repository "${name}"; known: ${Object.keys(config.repos).join(', ')}`, { retryable: false });
  return repo;
}

/** A fresh clone of the repository's default branch under the state directory. */
async function cloneFor(config: Config, name: string): Promise<{ paths: RepoPaths; baseSha: string; dispose: () => Promise<void> }> {
  const repo = repoOf(config, name);
  const root = join(config.stateDir, 'env-cli');
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(join(root, `${name}-`));
  const paths = { gitDir: join(dir, 'git'), workTree: join(dir, 'work') };
  const baseSha = await prepareRepo(repo.url, repo.defaultBranch, paths, secretsFromEnv().githubToken);
  return { paths, baseSha, dispose: () => removeRepo(paths).then(() => rm(dir, { recursive: true, force: true })) };
}

function sandboxFor(config: Config, docker: Docker): SandboxManager {
  return new SandboxManager(docker, { ...config.sandbox, user: sandboxUser(config.sandbox.user), setupNetwork: config.environments.network }, rootLogger());
}

/** Prepares REPO's environment at its default branch, printing progress. */
async function build(config: Config, name: string, opts: { force?: boolean; out: NodeJS.WritableStream; say?: (line: string) => void }): Promise<{ env: PreparedEnvironmentDetails; paths: RepoPaths; baseSha: string; sandbox: SandboxManager; dispose: () => Promise<void> }> {
  const repo = repoOf(config, name);
  const say = opts.say ?? progress(opts.out);
  say(`cloning ${name} (${repo.defaultBranch})`);
  const clone = await cloneFor(config, name);
  const docker = new Docker();
  const sandbox = sandboxFor(config, docker);
  try {
    const env = await prepareEnvironment(
      { docker, sandbox, settings: config.environments, stateDir: config.stateDir, logger: rootLogger() },
      {
        workflowId: `env-${name}-${randomBytes(3).toString('hex')}`,
        repo: name,
        config: repo.environment,
        agent: repo.agent,
        agentImage: repo.images[repo.agent] ?? DEFAULT_IMAGES[repo.agent],
        repoPaths: clone.paths,
        baseSha: clone.baseSha,
        force: opts.force,
        onProgress: say,
      },
    );
    for (const w of env.warnings) say(`warning: ${w}`);
    return { env, paths: clone.paths, baseSha: clone.baseSha, sandbox, dispose: clone.dispose };
  } catch (err) {
    await clone.dispose();
    throw err;
  }
}

/** Prints what a failed preparation says (command, output tail) and returns exit code 2. */
function reportFailure(err: unknown, out: NodeJS.WritableStream): number {
  if (!(err instanceof NightshiftError) || !err.code.startsWith('ENV_')) throw err;
  const d = (err.options.details ?? {}) as { command?: string; outputTail?: string };
  out.write(`\nenvironment broken: ${err.message}\n`);
  if (d.command) out.write(`command: ${d.command}\n`);
  if (d.outputTail) out.write(`--- output (tail) ---\n${d.outputTail.split('\n').map(printable).join('\n')}\n`);
  return 2;
}

function summary(env: PreparedEnvironmentDetails): string {
  return [
    `image     ${env.image}`,
    `source    ${env.source}${env.spec.sourcePath ? ` (${env.spec.sourcePath})` : ''}`,
    `key       ${env.key.slice(0, 16)}`,
    `setup     ${env.setup.length ? env.setup.join(' && ') : '(none)'}`,
    `seed      ${env.seed.length ? env.seed.join(', ') : '(none)'}`,
    `prepared  ${env.cached ? 'from the cache' : 'built'} in ${(env.prepareMs / 1000).toFixed(1)} s`,
  ].join('\n');
}

/** The `env build` command. Returns the exit code. */
export async function envBuild(config: Config, name: string, opts: { force?: boolean; out?: NodeJS.WritableStream } = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  try {
    const b = await build(config, name, { force: opts.force, out });
    await b.dispose();
    out.write(`\n${summary(b.env)}\n`);
    return 0;
  } catch (err) {
    return reportFailure(err, out);
  }
}

/** The `env check` command: prepare, run the test command once on the base commit, print the verdict. Returns the exit code. */
export async function envCheck(config: Config, name: string, opts: { out?: NodeJS.WritableStream } = {}): Promise<number> {
  const out = opts.out ?? process.stdout;
  const repo = repoOf(config, name);
  const say = progress(out);
  let b: Awaited<ReturnType<typeof build>>;
  try {
    b = await build(config, name, { out, say });
  } catch (err) {
    return reportFailure(err, out);
  }
  const dir = join(config.stateDir, 'env-cli', `check-${randomBytes(4).toString('hex')}`);
  try {
    await exportTree(b.paths, b.baseSha, dir);
    if (process.getuid?.() === 0) await run('chown', ['-R', b.sandbox.settings.user, dir], { code: 'SANDBOX_FAILED' });
    await seedWorkspace(b.sandbox, { workflowId: `env-${name}`, image: b.env.image, seed: b.env.seed, workTree: dir });
    say(`running ${repo.testCommand}`);
    const plan = { testCommand: repo.testCommand, image: b.env.image, environment: b.env };
    const { result, report } = await runRepoTests(
      { sandbox: b.sandbox, logger: rootLogger() },
      { workflowId: `env-${name}`, plan, workspace: { path: dir, gitDir: b.paths.gitDir, baseSha: b.baseSha }, label: 'check', attempt: 0 },
    );
    const tracked = (await hostGit(b.paths, ['ls-tree', '-r', '-z', '--name-only', b.baseSha])).stdout.split('\0').filter(Boolean);
    const verdict = classifyPreflight({ result, report, trackedPaths: tracked, declared: { setup: b.env.setup, source: b.env.source }, dependencyFiles: tracked.filter(isDependencyFile), timedOut: result.timedOut });
    out.write(`\n${summary(b.env)}\ntests     ${repo.testCommand}: exit ${result.exitCode} in ${(result.durationMs / 1000).toFixed(1)} s`);
    if (result.counts) out.write(` (${result.counts.passed} passed, ${result.counts.failed} failed, ${result.counts.skipped} skipped)`);
    out.write('\n\n');
    if (verdict.verdict === 'environment_broken') {
      out.write(`environment broken: ${verdict.reason}\n${verdict.hint ? `declare: ${verdict.hint}\n` : ''}--- output (tail) ---\n${result.outputTail.split('\n').map(printable).join('\n')}\n`);
      return 2;
    }
    out.write(verdict.verdict === 'ok' ? 'environment ok: the tests pass\n' : `environment ok: the tests run and fail (${result.failingTests.slice(0, 5).join(', ') || verdict.reason}); that is the agent's job\n`);
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await b.dispose();
  }
}

/** Rows of `env list`. */
export function formatEnvironments(envs: CachedEnvironment[], now = new Date()): string {
  if (envs.length === 0) return 'no cached environments\n';
  const ago = (iso: string): string => {
    const h = (now.getTime() - Date.parse(iso)) / 3_600_000;
    return h < 1 ? `${Math.max(0, Math.round(h * 60))} min ago` : h < 48 ? `${Math.round(h)} h ago` : `${Math.round(h / 24)} d ago`;
  };
  const rows = envs.map((e) => [e.repo, e.agent, e.key.slice(0, 12), e.source, size(e.ownBytes), ago(e.lastUsedAt), e.setup.join(' && ')]);
  const head = ['REPO', 'AGENT', 'KEY', 'SOURCE', 'ADDS', 'LAST USED', 'SETUP'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  const total = envs.reduce((s, e) => s + e.ownBytes, 0);
  return `${[line(head), ...rows.map(line)].join('\n')}\n\n${envs.length} environment(s), ${size(total)} over their bases\n`;
}

/** Adds `env build|check|list|prune` to the program. */
export function registerEnvCommands(program: Command, load: () => Config): void {
  const env = program.command('env').description('repository environments: build, check, list, prune (no agent, no tokens)');
  env
    .command('build')
    .description("prepare REPO's environment (base image + setup, cached by lock files), with progress")
    .argument('<repo>', 'repository (a key of repos)')
    .option('--force', 'run setup again even when a cached environment has the key')
    .action(async (name: string, o: { force?: boolean }) => {
      process.exitCode = await envBuild(load(), name, { force: o.force });
    });
  env
    .command('check')
    .description("prepare REPO's environment and run its test command once: environment ok / tests failing / environment broken")
    .argument('<repo>', 'repository (a key of repos)')
    .action(async (name: string) => {
      process.exitCode = await envCheck(load(), name);
    });
  env
    .command('list')
    .description('cached environments: repository, key, size, last use')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const config = load();
      const envs = await listEnvironments(new Docker(), config.stateDir);
      process.stdout.write(o.json ? `${JSON.stringify(envs, null, 2)}\n` : formatEnvironments(envs));
    });
  env
    .command('prune')
    .description('remove cached environments unused for environments.maxAgeDays, then the least recently used above environments.maxTotalGb')
    .option('--all', 'remove every cached environment')
    .option('--repo <name>', "only this repository's environments")
    .option('--dry-run', 'say what would be removed')
    .action(async (o: { all?: boolean; dryRun?: boolean; repo?: string }) => {
      const config = load();
      const r = await pruneEnvironments(new Docker(), config.stateDir, {
        maxTotalBytes: config.environments.maxTotalGb * 1e9,
        maxAgeDays: config.environments.maxAgeDays,
        all: o.all,
        dryRun: o.dryRun,
        repo: o.repo,
      });
      for (const x of r.removed) process.stdout.write(`${o.dryRun ? 'would remove' : 'removed'} ${x.image} (${x.reason}, ${size(x.ownBytes)})\n`);
      for (const x of r.skipped) process.stdout.write(`kept ${x.image}: ${x.why}\n`);
      process.stdout.write(`${r.removed.length} ${o.dryRun ? 'would be removed' : 'removed'}, ${size(r.keptBytes)} kept\n`);
    });
}
