/**
 * Benchmark: time from the wall-clock deadline to the container stopped (target ≤ 2 s median).
 *
 * Real Docker, the real {@link SandboxManager}, image nightshift/claude-code:latest. Three ways in,
 * each BENCH_N times (default 10):
 * - `runAgentAttempt` + the real Claude Code CLI, stalled: the activity itself (run in
 *   `MockActivityEnvironment` from @temporalio/testing, no Temporal server) with the real runner,
 *   the real gateway and a scripted model that answers one turn and then holds the next response
 *   open; `limits.wallClockMs` = BENCH_CLI_WALL_MS (6000). The container is on the sandbox network
 *   (`--internal` bridge), so this gateway listens on that network's gateway address (host side of
 *   the bridge, not reachable from outside the host); BENCH_NO_BRIDGE=1 skips this way.
 * - `runAgentAttempt` + a silent agent (`sleep 600`): the same activity with a runner whose
 *   command sleeps; `wallClockMs` = 1000. Gateway on 127.0.0.1 (the container never calls it).
 * - The kill path alone: `SandboxManager.start` (network none, `sleep 600`), then at the deadline
 *   the `RunningSandbox.kill()` runAgent uses.
 *
 * The deadline is when runAgent's timer is due: for the activity, the moment it called
 * `SandboxManager.start` + wallClockMs (the wall clock counts container start-up too); for the
 * kill path alone, the moment `start` resolved + the wait. "Container stopped" is
 * when this process receives Docker's `die` event for the container (the daemon's own timestamp
 * is printed too). Also shown: when `exited` resolved (wait + output drain) and when the
 * activity returned (container removed, gateway run closed, diff taken).
 */
import { claudeCodeRunner } from '../activities/agents/runner.js';
import { ScriptedModelServer } from '../devstack/scriptedModel.js';
import { stallScript } from '../devstack/scripts.js';
import { startGateway } from '../test/helpers/gatewayHarness.js';
import type { ModelGateway } from '../worker/gateway/index.js';
import { envInt, median, printTable, printVerdict, type Row } from './lib.js';
import { attempt, DieWatcher, dockerReady, makeWorkspace, newDocker, quietLogger, SETTINGS, sleepRunner, startBridgeGateway, TimedSandbox, wallNow, IMAGE } from './sandboxKit.js';

const N = envInt('BENCH_N', 10, 1, 1000);
const CLI_WALL_MS = envInt('BENCH_CLI_WALL_MS', 6000, 500);
const SLEEP_WALL_MS = 1000;
const TARGET_MS = 2000;

interface Sample {
  /** deadline → die event received */
  stopped?: number;
  /** deadline → die per the daemon's clock */
  stoppedDaemon?: number;
  /** deadline → kill() called */
  killCalled?: number;
  /** deadline → exited resolved */
  exited?: number;
  /** deadline → attempt returned */
  returned?: number;
  note?: string;
}

const pid = process.pid.toString(36);

async function viaAttempt(
  sandbox: TimedSandbox,
  dies: DieWatcher,
  gw: ModelGateway,
  gatewayUrl: string,
  runner: typeof claudeCodeRunner,
  wallClockMs: number,
  label: string,
  i: number,
): Promise<Sample> {
  const ws = makeWorkspace(false);
  const workflowId = `bench-deadline-${label}-${pid}-${i}`;
  try {
    const rec = await attempt({ sandbox, gateway: gw, gatewayUrl, runner, workflowId, workspace: ws, wallClockMs, testCommand: 'true', prompt: 'List the workspace, then wait.' });
    const returnedAt = wallNow();
    const t = sandbox.times;
    if (!t.startCalledAt || !t.id) return { note: 'no container started' };
    // runAgent's wall clock counts from the attempt's start, container start-up included.
    const deadline = t.startCalledAt + wallClockMs;
    const die = await dies.die(t.id, 5000);
    const timeStop = rec.end === 'budget' && rec.budget?.kind === 'time';
    return {
      stopped: die ? die.seenAt - deadline : undefined,
      stoppedDaemon: die ? die.daemonAt - deadline : undefined,
      killCalled: t.killCalledAt !== undefined ? t.killCalledAt - deadline : undefined,
      exited: t.exitedAt !== undefined ? t.exitedAt - deadline : undefined,
      returned: returnedAt - deadline,
      note: timeStop ? undefined : `attempt ended "${rec.end}" (${rec.failure ?? rec.stuck?.rule ?? ''}), not at the deadline`,
    };
  } finally {
    await sandbox.removeRunContainers(workflowId).catch(() => undefined);
    ws.remove();
  }
}

async function viaKill(sandbox: TimedSandbox, dies: DieWatcher, i: number): Promise<Sample> {
  const ws = makeWorkspace(false);
  const workflowId = `bench-deadline-kill-${pid}-${i}`;
  try {
    const s = await sandbox.start({ workflowId, purpose: 'agent', image: IMAGE, cmd: ['sleep', '600'], env: [], workspace: ws.path, network: 'none', onLine: () => undefined });
    const deadline = sandbox.times.startedAt! + SLEEP_WALL_MS;
    await new Promise<void>((r) => setTimeout(r, SLEEP_WALL_MS));
    await s.kill();
    await s.exited;
    const die = await dies.die(s.id, 5000);
    const t = sandbox.times;
    await s.remove();
    return {
      stopped: die ? die.seenAt - deadline : undefined,
      stoppedDaemon: die ? die.daemonAt - deadline : undefined,
      killCalled: t.killCalledAt! - deadline,
      exited: t.exitedAt! - deadline,
    };
  } finally {
    await sandbox.removeRunContainers(workflowId).catch(() => undefined);
    ws.remove();
  }
}

function collect(samples: Sample[], k: keyof Omit<Sample, 'note'>): number[] {
  return samples.filter((s) => !s.note).map((s) => s[k]).filter((v): v is number => typeof v === 'number');
}

async function main(): Promise<void> {
  const docker = newDocker();
  const notReady = await dockerReady(docker);
  if (notReady) {
    console.log(`deadlineStop: not measured: ${notReady}`);
    printVerdict(false, 'nothing measured');
    return;
  }
  const sandbox = new TimedSandbox(docker, SETTINGS, quietLogger());
  await sandbox.ensureNetwork();
  const dies = await DieWatcher.start(docker);
  const model = new ScriptedModelServer({ script: stallScript() });
  await model.start();
  const loopGw = await startGateway(model.url);
  const bridged = process.env.BENCH_NO_BRIDGE === '1' ? undefined : await startBridgeGateway(sandbox, model.url);
  const bridge = bridged?.gw;
  const bridgeUrl = bridge?.url;
  const results: Record<string, Sample[]> = { cli: [], sleep: [], kill: [] };
  const guard = async (f: () => Promise<Sample>): Promise<Sample> => {
    try {
      const s = await f();
      // A container that died before our kill was stopped by someone else (e.g. another worker's orphan sweep).
      if (s.killCalled !== undefined && s.stopped !== undefined && s.stopped < s.killCalled) {
        return { note: 'the container died before the kill was issued (removed by another process?)' };
      }
      return s;
    } catch (err) {
      return { note: `failed: ${(err as Error).message.slice(0, 160)}` };
    }
  };
  try {
    // Runs spoiled by something else (e.g. another worker's orphan sweep removing our container) are retried, up to 2N tries.
    const collectN = async (k: string, one: (i: number) => Promise<Sample>) => {
      for (let i = 0, clean = 0; clean < N && i < 2 * N; i++) {
        const s = await guard(() => one(i));
        results[k]!.push(s);
        if (!s.note) clean++;
      }
    };
    if (bridge) {
      await collectN('cli', async (i) => {
        const before = model.requests.length;
        const s = await viaAttempt(sandbox, dies, bridge, bridge.url, claudeCodeRunner, CLI_WALL_MS, 'cli', i);
        const stalled = model.requests.slice(before).some((r) => r.step && 'stall' in r.step);
        if (!stalled && !s.note) s.note = 'the CLI never reached the stalled turn';
        return s;
      });
    }
    await collectN('sleep', (i) => viaAttempt(sandbox, dies, loopGw, loopGw.url, sleepRunner, SLEEP_WALL_MS, 'sleep', i));
    await collectN('kill', (i) => viaKill(sandbox, dies, i));
  } finally {
    dies.stop();
    await bridged?.close();
    await loopGw.stop();
    await model.stop();
  }

  const rows: Row[] = [];
  const stopRow = (what: string, s: Sample[]): Row => {
    const xs = collect(s, 'stopped');
    return { what, samples: xs, unit: 'ms', target: `≤ ${TARGET_MS} ms median`, met: xs.length > 0 && median(xs) <= TARGET_MS };
  };
  const ctxRow = (what: string, xs: number[]): Row => ({ what, samples: xs, unit: 'ms', target: '-' });
  if (bridge) {
    rows.push(stopRow('runAgentAttempt + claude CLI (stalled): deadline → container stopped', results.cli!));
    rows.push(ctxRow('  … deadline → kill issued', collect(results.cli!, 'killCalled')));
    rows.push(ctxRow('  … deadline → exited resolved (wait + drain)', collect(results.cli!, 'exited')));
    rows.push(ctxRow('  … deadline → runAgentAttempt returned', collect(results.cli!, 'returned')));
  }
  rows.push(stopRow('runAgentAttempt + silent agent: deadline → container stopped', results.sleep!));
  rows.push(ctxRow('  … deadline → exited resolved (wait + drain)', collect(results.sleep!, 'exited')));
  rows.push(ctxRow('  … deadline → runAgentAttempt returned', collect(results.sleep!, 'returned')));
  rows.push(stopRow('SandboxManager kill path alone: deadline → container stopped', results.kill!));
  printTable('Deadline → container stopped (real Docker, nightshift/claude-code:latest)', rows);
  const daemon = (k: string) => median(collect(results[k]!, 'stoppedDaemon')).toFixed(1);
  console.log(
    `die per the daemon's clock, median: ${bridge ? `claude CLI ${daemon('cli')} ms, ` : ''}silent agent ${daemon('sleep')} ms, kill path ${daemon('kill')} ms` +
      (bridgeUrl ? `; gateway for the CLI containers on ${bridgeUrl} (sandbox network gateway address)` : '; claude CLI way skipped (BENCH_NO_BRIDGE=1)'),
  );
  for (const [k, s] of Object.entries(results)) {
    const notes = s.map((x, i) => (x.note ? `#${i}: ${x.note}` : '')).filter(Boolean);
    if (notes.length) console.log(`${k}: ${notes.length}/${s.length} tries not counted: ${notes.slice(0, 3).join(' | ')}`);
  }
  const stopRows = rows.filter((r) => r.met !== undefined);
  printVerdict(stopRows.every((r) => r.met), `median deadline → container stopped ≤ ${TARGET_MS} ms on every way measured`);
}

await main();
