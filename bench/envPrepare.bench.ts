/**
 * Benchmark: environment preparation, first run vs cached run (issue 7). Targets: a cached
 * preparation takes ≤ 10 % of the first one, and the cached path adds ≤ 2 s over the bare
 * `docker run` of the test command.
 *
 * Real Docker, real registries (npm, PyPI), the real `prepareEnvironment` / `seedWorkspace` and
 * `SandboxManager`; the repositories are test/fixtures/repos/{node,python} with their one setup
 * line (`npm ci`, `pip install -r requirements.txt`). For each, on fresh clones:
 * - first: `prepareEnvironment` with `force` (setup runs, the image is committed) + `seedWorkspace`,
 *   BENCH_FIRST_N times (default 3: each one downloads from the registry);
 * - cached: the same without `force` (the image is found by its key, no setup) + `seedWorkspace`,
 *   BENCH_N times (default 5);
 * - bare: `docker run --rm --network none -u <sandbox user> -v <seeded work tree>:/workspace
 *   -w /workspace <environment image> sh -c '<test command>'`, the docker CLI as a person with a
 *   ready image and a ready checkout would run it, BENCH_N times;
 * - cached path: cached preparation + what the run's test step does (export of the base tree, the
 *   seeded test command in a Nightshift sandbox), BENCH_N times.
 * Overhead = median(cached path) − median(bare). Times are wall clock, ms. The images made are
 * removed at the end (BENCH_KEEP=1 keeps them).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { exportTree, type RepoPaths } from '../activities/git.js';
import { prepareEnvironment, seedWorkspace, sandboxTestCommand, type EnvironmentDeps } from '../activities/environment/prepare.js';
import { SandboxManager } from '../activities/sandbox.js';
import { ECOSYSTEM_FIXES } from '../devstack/ecosystemScripts.js';
import { parseConfig, type EnvironmentConfig } from '../worker/config.js';
import { createRootLogger } from '../worker/logger.js';
import { fixtureRemote, ownBySandbox, sandboxClone } from '../test/helpers/fixtureRepo.js';
import { removeEnvironmentImages } from '../test/helpers/ecosystemRun.js';
import { envInt, median, nowMs, printTable, printVerdict, type Row } from './lib.js';

const N = envInt('BENCH_N', 5, 1, 100);
const FIRST_N = envInt('BENCH_FIRST_N', 3, 1, 20);
const RATIO_TARGET = 0.1;
const OVERHEAD_TARGET_MS = 2000;
const AGENT_IMAGE = 'nightshift/claude-code:latest';

const logger = createRootLogger('warn');
const docker = new Docker();
const base = parseConfig({ gateway: { prices: {} }, repos: { r: { url: 'x', github: 'a/b', testCommand: 't', budget: { minutes: 1, tokens: 1, usd: 1 } } } });
const sandbox = new SandboxManager(docker, { ...base.sandbox, setupNetwork: base.environments.network }, logger);
const suffix = process.pid.toString(36);

let dir = '';
let exports = 0;


/**
 * `prepareEnvironment` then `seedWorkspace` on a fresh clone, as the run's activity does: the ms of
 * each (`prepare`, `seed`) and the result.
 */
async function prepareOnce(deps: EnvironmentDeps, repo: string, remote: string, cfg: EnvironmentConfig, force: boolean) {
  const { paths, baseSha } = await sandboxClone(dir, remote, base.sandbox.user);
  const t0 = nowMs();
  const env = await prepareEnvironment(deps, { workflowId: `bench-env-${suffix}`, repo, config: cfg, agent: 'claude-code', agentImage: AGENT_IMAGE, repoPaths: paths, baseSha, force });
  const t1 = nowMs();
  await seedWorkspace(sandbox, { workflowId: `bench-env-${suffix}`, image: env.image, seed: env.seed, workTree: paths.workTree, repo: paths });
  return { prepare: t1 - t0, seed: nowMs() - t1, env, paths, baseSha };
}

/** Runs `docker args…` (the CLI), resolving with the exit code and the output's tail. */
function dockerCli(args: string[]): Promise<{ code: number; tail: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (d: Buffer) => (out = (out + d.toString()).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, tail: out }));
  });
}

/** The seeded test command in a Nightshift sandbox on an export of the base tree (the run's test step). */
async function sandboxTest(paths: RepoPaths, baseSha: string, image: string, seed: string[], testCommand: string): Promise<{ code: number; tail: string }> {
  const exportDir = join(dir, `export${++exports}`);
  await exportTree(paths, baseSha, exportDir);
  await ownBySandbox(exportDir, base.sandbox.user);
  const lines: string[] = [];
  const c = await sandbox.start({ workflowId: `bench-env-${suffix}`, purpose: 'tests', image, cmd: sandboxTestCommand(testCommand, seed), env: ['CI=true'], workspace: exportDir, network: 'none', onLine: (_s, l) => lines.push(l) });
  try {
    return { code: await c.exited, tail: lines.slice(-20).join('\n') };
  } finally {
    await c.remove();
  }
}

/** Samples, ms. */
interface Figures {
  /** `prepareEnvironment`, forced build. */
  first: number[];
  /** `seedWorkspace` after a first build. */
  firstSeed: number[];
  /** `prepareEnvironment`, found in the cache. */
  cached: number[];
  /** `seedWorkspace` after a cached preparation. */
  cachedSeed: number[];
  bare: number[];
  cachedPath: number[];
}

async function measure(eco: 'node' | 'python'): Promise<Figures> {
  const fix = ECOSYSTEM_FIXES[eco];
  const repo = `bench-${eco}-${suffix}`;
  const remote = await fixtureRemote(join(dir, repo), eco);
  const deps: EnvironmentDeps = { docker, sandbox, settings: base.environments, stateDir: join(dir, 'state'), logger };
  const cfg = base.repos.r!.environment;
  const envCfg: EnvironmentConfig = { ...cfg, setup: [fix.setup] };
  const f: Figures = { first: [], firstSeed: [], cached: [], cachedSeed: [], bare: [], cachedPath: [] };

  for (let i = 0; i < FIRST_N; i++) {
    const r = await prepareOnce(deps, repo, remote, envCfg, true);
    if (r.env.cached) throw new Error(`${eco}: a forced preparation came from the cache`);
    f.first.push(r.prepare);
    f.firstSeed.push(r.seed);
    console.log(`${eco}: first ${i + 1}/${FIRST_N}: prepare ${r.prepare.toFixed(0)} ms + seed ${r.seed.toFixed(0)} ms (${r.env.image}, seed ${JSON.stringify(r.env.seed)})`);
  }
  let last: Awaited<ReturnType<typeof prepareOnce>> | undefined;
  for (let i = 0; i < N; i++) {
    const r = await prepareOnce(deps, repo, remote, envCfg, false);
    if (!r.env.cached) throw new Error(`${eco}: the second preparation was not cached`);
    f.cached.push(r.prepare);
    f.cachedSeed.push(r.seed);
    last = r;
  }
  const { env, paths } = last!;
  for (let i = 0; i < N; i++) {
    const t0 = nowMs();
    const r = await dockerCli(['run', '--rm', '--network', 'none', '-u', base.sandbox.user, '-e', 'CI=true', '-v', `${paths.workTree}:/workspace`, '-w', '/workspace', env.image, 'sh', '-c', fix.testCommand]);
    f.bare.push(nowMs() - t0);
    if (i === 0) console.log(`${eco}: bare docker run exit ${r.code}; tail: ${r.tail.trim().split('\n').slice(-2).join(' | ')}`);
  }
  for (let i = 0; i < N; i++) {
    const t0 = nowMs();
    const p = await prepareOnce(deps, repo, remote, envCfg, false);
    const r = await sandboxTest(p.paths, p.baseSha, p.env.image, p.env.seed, fix.testCommand);
    f.cachedPath.push(nowMs() - t0);
    if (i === 0) console.log(`${eco}: cached path test exit ${r.code}; tail: ${r.tail.trim().split('\n').slice(-2).join(' | ')}`);
  }
  return f;
}

async function main(): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), 'nightshift-bench-env-'));
  const repos = ['node', 'python'].map((e) => `bench-${e}-${suffix}`);
  let allMet = true;
  const why: string[] = [];
  try {
    for (const eco of ['node', 'python'] as const) {
      const f = await measure(eco);
      const sum = (x: number[], y: number[]) => x.map((v, i) => v + (y[i] ?? 0));
      const ratio = median(f.cached) / median(f.first);
      const activityRatio = median(sum(f.cached, f.cachedSeed)) / median(sum(f.first, f.firstSeed));
      const overhead = median(f.cachedPath) - median(f.bare);
      const ratioMet = ratio <= RATIO_TARGET;
      const overheadMet = overhead <= OVERHEAD_TARGET_MS;
      allMet &&= ratioMet && overheadMet;
      const fix = ECOSYSTEM_FIXES[eco];
      const rows: Row[] = [
        { what: `first prepareEnvironment (forced: ${fix.setup})`, samples: f.first, unit: 'ms', target: '-', digits: 0 },
        { what: 'cached prepareEnvironment (found by key)', samples: f.cached, unit: 'ms', target: `≤ ${RATIO_TARGET * 100} % of first`, met: ratioMet, digits: 0 },
        { what: 'first: prepare + seedWorkspace (the activity)', samples: sum(f.first, f.firstSeed), unit: 'ms', target: '-', digits: 0 },
        { what: 'cached: prepare + seedWorkspace (the activity)', samples: sum(f.cached, f.cachedSeed), unit: 'ms', target: '-', digits: 0 },
        { what: `bare docker run: ${fix.testCommand}`, samples: f.bare, unit: 'ms', target: '-', digits: 0 },
        { what: 'cached activity + export + seeded test run', samples: f.cachedPath, unit: 'ms', target: `≤ bare + ${OVERHEAD_TARGET_MS} ms`, met: overheadMet, digits: 0 },
      ];
      printTable(`${eco}: environment preparation, first vs cached (ms)`, rows);
      console.log(`cached/first prepareEnvironment = ${(ratio * 100).toFixed(1)} % (target ≤ ${RATIO_TARGET * 100} %): ${ratioMet ? 'PASS' : 'MISS'}`);
      console.log(`  (with seedWorkspace, the whole activity: ${(activityRatio * 100).toFixed(1)} %)`);
      console.log(`cached path − bare docker run = ${overhead.toFixed(0)} ms (target ≤ ${OVERHEAD_TARGET_MS} ms): ${overheadMet ? 'PASS' : 'MISS'}`);
      why.push(`${eco}: cached ${(ratio * 100).toFixed(1)} % of first, overhead ${overhead.toFixed(0)} ms`);
    }
  } finally {
    if (process.env.BENCH_KEEP !== '1') await removeEnvironmentImages(docker, repos);
    await rm(dir, { recursive: true, force: true });
  }
  printVerdict(allMet, why.join('; '));
}

await main();
