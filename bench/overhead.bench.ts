/**
 * Benchmark: one run's orchestration overhead. The example repository (examples/calculator) fixed by
 * the scripted Claude Code agent (devstack/scripts.ts fixCalculatorScript) through the whole local
 * stack (devstack/stack.ts: dev server, worker, gateway, sandbox, GitHub/Linear stand-ins), timed
 * by phase from the workflow's history, against the same steps done by hand:
 * `git clone`, `docker run` of the agent image (default bridge network, same CPU/memory/pids
 * limits) with the agent CLI against the scripted model, `docker run` of the tests (no network),
 * `git commit` + `git push`. The hand pipeline has no "tests before" run, no sandbox firewall
 * check, no PR, no ledger, no report: the difference is the whole price of the orchestration.
 *
 * BENCH_OVERHEAD_RUNS (3): runs of each pipeline, interleaved (workflow, hand, workflow, …); the
 * medians are compared. Target: workflow ≤ 1.2× the hand-made pipeline.
 *
 * Figures (2-core shared machine, 3 runs): 3,956 ms vs 1,978 ms by hand = 2.00×. Where the extra
 * ~2 s goes: the "tests before" run (~450 ms, by design), runAgent +490 ms over the bare docker run
 * (the iptables isolation check ~90 ms, container create/attach on the internal network, diff),
 * ~20 serial activity hops (~130 ms waiting to start, ~360 ms of workflow tasks between them),
 * prepareWorkspace + prepareEnvironment +140 ms over a clone, reviewChanges + deliver (PR) +220 ms.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../activities/exec.js';
import { CALCULATOR_TESTS, fixCalculatorScript } from '../devstack/scripts.js';
import { ScriptedModelServer } from '../devstack/scriptedModel.js';
import { randomUUID } from 'node:crypto';
import { LocalStack } from '../devstack/stack.js';
import { runResult, startRun } from '../worker/runs.js';
import { workflowIdFor, type TaskRequest } from '../workflows/types.js';
import { envInt, median, printTable, printVerdict } from './lib.js';
import { phasesOf, type RunPhases } from './overheadPhases.js';

const RUNS = envInt('BENCH_OVERHEAD_RUNS', 3, 1, 20);
const AGENT_IMAGE = process.env.BENCH_OVERHEAD_AGENT_IMAGE ?? 'nightshift/claude-code:latest';
const TEST_IMAGE = process.env.BENCH_OVERHEAD_TEST_IMAGE ?? 'nightshift/universal:latest';

/** One hand-made run: the step times (ms). */
type HandRun = Record<'clone' | 'agent' | 'tests' | 'push' | 'total', number>;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const v = await fn();
  return [v, performance.now() - t];
}

/** The same steps by hand, against the stack's bare remote and a scripted model of our own. */
async function handRun(stack: LocalStack, model: ScriptedModelServer, i: number): Promise<HandRun> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-overhead-hand-'));
  const ws = join(dir, 'ws');
  const s = stack.config.sandbox;
  const limits = ['--cpus', String(s.cpus), '--memory', `${s.memoryMb}m`, '--pids-limit', String(s.pids), '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--tmpfs', '/tmp:rw,exec,size=512m'];
  const git = (...args: string[]) => run('git', ['-C', ws, '-c', 'user.name=hand', '-c', 'user.email=hand@example.com', '-c', 'commit.gpgsign=false', ...args]);
  try {
    const t0 = performance.now();
    const [, clone] = await timed(() => run('git', ['clone', '--quiet', stack.bareRepo, ws]));
    await run('chmod', ['-R', 'a+rwX', ws]);
    const [, agent] = await timed(() =>
      run('docker', [
        'run', '--rm', '--add-host', 'host.docker.internal:host-gateway', '--user', '1000:1000', ...limits, '-v', `${ws}:/workspace`, '-w', '/workspace',
        '-e', `ANTHROPIC_BASE_URL=http://host.docker.internal:${new URL(model.url).port}`, '-e', 'ANTHROPIC_API_KEY=hand-run', '-e', 'HOME=/tmp',
        '-e', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1', '-e', 'DISABLE_AUTOUPDATER=1', '-e', 'DISABLE_TELEMETRY=1', '-e', 'DISABLE_ERROR_REPORTING=1', '-e', 'CLAUDE_CODE_MAX_RETRIES=0',
        AGENT_IMAGE, 'claude', '-p', 'Fix add() in calc.py; `python3 -m unittest` must pass.', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', '--model', 'claude-sonnet-4-5',
      ]),
    );
    const [, tests] = await timed(() => run('docker', ['run', '--rm', '--network', 'none', '--user', '1000:1000', ...limits, '-v', `${ws}:/workspace`, '-w', '/workspace', TEST_IMAGE, 'sh', '-c', CALCULATOR_TESTS]));
    const [, push] = await timed(async () => {
      await git('checkout', '--quiet', '-b', `hand/run-${i}`);
      await git('add', '-A');
      await git('commit', '--quiet', '-m', 'fix add');
      await git('push', '--quiet', 'origin', `hand/run-${i}`);
    });
    return { clone, agent, tests, push, total: performance.now() - t0 };
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** One run through the stack as `nightshift run --now` starts it, to its end; the phases from its history. */
async function workflowRun(stack: LocalStack, i: number): Promise<RunPhases & { wall: number }> {
  const t0 = performance.now();
  const workflowId = workflowIdFor({ kind: 'cli' }, randomUUID());
  const req: TaskRequest = {
    source: { kind: 'cli' },
    requester: 'bench',
    repo: 'calculator',
    title: `Fix add() (run ${i})`,
    task: 'add() in calc.py returns the wrong result. Done when `python3 -m unittest` passes.',
    overrides: { now: true },
  };
  await startRun(stack.client, stack.config.temporal.taskQueue, workflowId, req);
  const outcome = await runResult(stack.client, workflowId);
  const wall = performance.now() - t0;
  if (outcome.kind !== 'pr_opened') throw new Error(`run ${workflowId} ended ${outcome.kind}: ${outcome.reason ?? ''}`);
  return { ...(await phasesOf(stack.client, workflowId)), wall };
}

const stack = await LocalStack.start({ script: fixCalculatorScript() });
// On all addresses: the hand-run container reaches it from Docker's default bridge.
const model = new ScriptedModelServer({ script: fixCalculatorScript(), host: '0.0.0.0' });
await model.start();
try {
  const wf: Array<RunPhases & { wall: number }> = [];
  const hand: HandRun[] = [];
  // A warm-up of each (images in the page cache, the worker's first tasks), not counted.
  await workflowRun(stack, 0);
  await handRun(stack, model, 0);
  for (let i = 1; i <= RUNS; i++) {
    wf.push(await workflowRun(stack, i));
    hand.push(await handRun(stack, model, i));
  }
  // The last run's timeline: when each activity was scheduled, started and ended (ms from the workflow's start).
  const lastRun = wf.at(-1)!;
  const t0 = lastRun.firstEventAt;
  console.log('\ntimeline of the last run (ms from the workflow start): scheduled / started / completed  activity');
  for (const a of lastRun.activities) console.log(`${(a.scheduledAt - t0).toFixed(0).padStart(6)} ${(a.startedAt - t0).toFixed(0).padStart(6)} ${(a.completedAt - t0).toFixed(0).padStart(6)}  ${a.name}`);
  console.log(`${lastRun.totalMs.toFixed(0).padStart(20)}  workflow completed`);
  const names = [...new Set(wf.flatMap((r) => r.activities.map((a) => a.name)))];
  printTable(`the run through Nightshift, by activity (median of ${RUNS}; from the workflow's history)`, [
    ...names.map((n) => ({ what: `${n} (run)`, samples: wf.map((r) => r.activities.filter((a) => a.name === n).reduce((s, a) => s + a.runMs, 0)), unit: 'ms', target: '-', digits: 0 })),
    { what: 'activities: scheduled → started (all)', samples: wf.map((r) => r.queueMs), unit: 'ms', target: '-', digits: 0 },
    { what: 'workflow tasks between activities (all)', samples: wf.map((r) => r.gapMs), unit: 'ms', target: '-', digits: 0 },
    { what: 'client start → workflow started', samples: wf.map((r) => r.wall - r.totalMs), unit: 'ms', target: '-', digits: 0 },
    { what: 'workflow started → completed', samples: wf.map((r) => r.totalMs), unit: 'ms', target: '-', digits: 0 },
  ]);
  printTable(`the same steps by hand (median of ${RUNS})`, [
    { what: 'git clone', samples: hand.map((h) => h.clone), unit: 'ms', target: '-', digits: 0 },
    { what: 'docker run: agent CLI vs scripted model', samples: hand.map((h) => h.agent), unit: 'ms', target: '-', digits: 0 },
    { what: 'docker run: tests', samples: hand.map((h) => h.tests), unit: 'ms', target: '-', digits: 0 },
    { what: 'git commit + push', samples: hand.map((h) => h.push), unit: 'ms', target: '-', digits: 0 },
    { what: 'total', samples: hand.map((h) => h.total), unit: 'ms', target: '-', digits: 0 },
  ]);
  const ratio = median(wf.map((r) => r.wall)) / median(hand.map((h) => h.total));
  printTable('whole run vs by hand', [
    { what: 'Nightshift: start → run ended', samples: wf.map((r) => r.wall), unit: 'ms', target: '-', digits: 0 },
    { what: 'by hand', samples: hand.map((h) => h.total), unit: 'ms', target: '-', digits: 0 },
    { what: 'ratio (medians)', samples: [ratio], unit: '', target: '≤ 1.20', met: ratio <= 1.2, digits: 2 },
  ]);
  printVerdict(ratio <= 1.2, `whole run ${ratio.toFixed(2)}× the hand-made pipeline`);
} finally {
  await model.stop();
  await stack.stop();
}
