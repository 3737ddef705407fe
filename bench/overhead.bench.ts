/**
 * Benchmark: one run's orchestration overhead. The example repository (examples/calculator) fixed by
 * the scripted Claude Code agent (devstack/scripts.ts fixCalculatorScript) through the whole local
 * stack (devstack/stack.ts: dev server, worker, gateway, sandbox, GitHub/Linear stand-ins), timed
 * by phase from the workflow's history, against the same steps done by hand:
 * `git clone`, `docker run` of the tests before the change (no network: Nightshift's pipeline runs
 * them too, to tell a broken environment from a broken change, so the hand side does the same steps),
 * `docker run` of the agent image (default bridge network, same CPU/memory/pids limits) with the
 * agent CLI against the scripted model, `docker run` of the tests after it, `git commit` +
 * `git push`. The hand pipeline has no sandbox firewall check, no diff review, no PR, no ledger,
 * no report: the difference is the whole price of the orchestration.
 *
 * BENCH_OVERHEAD_RUNS (3): runs of each pipeline, interleaved (workflow, hand, workflow, …); the
 * medians are compared. Target: workflow ≤ 1.2× the hand-made pipeline.
 *
 * Figures (2-core machine, 3 runs a sample, 2026-12-01): 1.14×, 1.15× and 1.20× in three samples
 * (1,862 vs 1,635 ms, 1,841 vs 1,604, 1,962 vs 1,640). What got it there from 1.39–1.50×:
 * - warm starts (activities/warmAgent.ts, activities/validate/warmTests.ts): the first attempt's
 *   agent container boots (CLI waiting for its prompt on stdin) beside the workspace's preparation
 *   and the tests before; each attempt's validation sandbox starts while its agent works. The
 *   agent's container start and CLI boot (~0.6 s) and the tests' container start (~0.2 s) leave
 *   the critical path: runAgent ~900 ms from its prompt vs ~1,100 ms for the hand `docker run`,
 *   the validation ~130 ms vs ~230 ms;
 * - fewer hops before the clone (~85 ms now, ~190 before): no assessTask / classifyTask call when
 *   no model is configured (scope decides), the window and the spend cap asked at once, the host
 *   claimed beside the spend reservation;
 * - delivery: the PR created first (looked up only on a 422), the squashed commit through
 *   commit-tree (3 git processes fewer), the cleanup beside the report.
 * Still over the hand pipeline (last sample's timeline): ~100 ms of hops before the clone
 * (scope, admission, the slot's grant from the queue coordinator, ~20 ms), prepareWorkspace ~115
 * ms over a 17 ms clone (the sandbox's copy of the git directory, chown), review + deliver ~140 ms
 * over a ~35 ms push (the diff gate, the PR on the GitHub stand-in), ~75 ms after the PR
 * (report, ledger, slot release, cleanup). The hand pipeline has none of these.
 * Before the dev server's history queues could be read more than 20 times a second
 * (worker/temporal.ts) every hop cost ~17 ms more: 1.43× then, 2.00× before eager execution.
 */
import { Client } from '@temporalio/client';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NightshiftError } from '../activities/errors.js';
import { run } from '../activities/exec.js';
import { CALCULATOR_TESTS, fixCalculatorScript } from '../devstack/scripts.js';
import { ScriptedModelServer } from '../devstack/scriptedModel.js';
import { randomUUID } from 'node:crypto';
import { LocalStack } from '../devstack/stack.js';
import { canStartEagerly, runResult, startRun } from '../worker/runs.js';
import { DEV_SERVER_DYNAMIC_CONFIG, startDevServer } from '../worker/temporal.js';
import { workflowIdFor, type TaskRequest } from '../workflows/types.js';
import { envInt, median, printTable, printVerdict } from './lib.js';
import { phasesOf, type RunPhases } from './overheadPhases.js';

const RUNS = envInt('BENCH_OVERHEAD_RUNS', 3, 1, 20);
const AGENT_IMAGE = process.env.BENCH_OVERHEAD_AGENT_IMAGE ?? 'nightshift/claude-code:latest';
const TEST_IMAGE = process.env.BENCH_OVERHEAD_TEST_IMAGE ?? 'nightshift/universal:latest';
/**
 * BENCH_OVERHEAD_EAGER (1): the dev server's dynamic config (worker/temporal.ts: eager activity
 * execution and the raised queue-reader rates) and eager workflow start; 0 for none of them.
 */
const EAGER = envInt('BENCH_OVERHEAD_EAGER', 1, 0, 1) === 1;

/** One hand-made run: the step times (ms). */
type HandRun = Record<'clone' | 'testsBefore' | 'agent' | 'tests' | 'push' | 'total', number>;

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
    const runTests = () => run('docker', ['run', '--rm', '--network', 'none', '--user', '1000:1000', ...limits, '-v', `${ws}:/workspace`, '-w', '/workspace', TEST_IMAGE, 'sh', '-c', CALCULATOR_TESTS]);
    // Before the change the calculator's tests fail (exit 1): that is the point of the run; any other failure is the bench's.
    const [, testsBefore] = await timed(() =>
      runTests().then(
        () => undefined,
        (err: unknown) => {
          if (!(err instanceof NightshiftError && err.options.details?.exitCode === 1)) throw err;
        },
      ),
    );
    const [, agent] = await timed(() =>
      run('docker', [
        'run', '--rm', '--add-host', 'host.docker.internal:host-gateway', '--user', '1000:1000', ...limits, '-v', `${ws}:/workspace`, '-w', '/workspace',
        '-e', `ANTHROPIC_BASE_URL=http://host.docker.internal:${new URL(model.url).port}`, '-e', 'ANTHROPIC_API_KEY=hand-run', '-e', 'HOME=/tmp',
        '-e', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1', '-e', 'DISABLE_AUTOUPDATER=1', '-e', 'DISABLE_TELEMETRY=1', '-e', 'DISABLE_ERROR_REPORTING=1', '-e', 'CLAUDE_CODE_MAX_RETRIES=0',
        AGENT_IMAGE, 'claude', '-p', 'Fix add() in calc.py; `python3 -m unittest` must pass.', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', '--model', 'claude-sonnet-4-5',
      ]),
    );
    const [, tests] = await timed(runTests);
    const [, push] = await timed(async () => {
      await git('checkout', '--quiet', '-b', `hand/run-${i}`);
      await git('add', '-A');
      await git('commit', '--quiet', '-m', 'fix add');
      await git('push', '--quiet', 'origin', `hand/run-${i}`);
    });
    return { clone, testsBefore, agent, tests, push, total: performance.now() - t0 };
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** One run through the stack as `nightshift run --now` starts it, to its end; the phases from its history. */
async function workflowRun(stack: LocalStack, starter: Client, i: number): Promise<RunPhases & { wall: number }> {
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
  await startRun(starter, stack.config.temporal.taskQueue, workflowId, req);
  const outcome = await runResult(starter, workflowId);
  const wall = performance.now() - t0;
  if (outcome.kind !== 'pr_opened') throw new Error(`run ${workflowId} ended ${outcome.kind}: ${outcome.reason ?? ''}`);
  return { ...(await phasesOf(stack.client, workflowId)), wall };
}

const dynamicConfig = EAGER ? DEV_SERVER_DYNAMIC_CONFIG : [];
const stack = await LocalStack.start({ script: fixCalculatorScript(), temporal: await startDevServer({ dynamicConfig }) });
// The runs are started as the worker's own front ends would in `nightshift dev`: with EAGER, a
// client on the worker's NativeConnection, so the start is eager (worker/runs.ts).
const starter = EAGER ? new Client({ connection: stack.temporal.nativeConnection, namespace: stack.temporal.namespace ?? 'default' }) : stack.client;
console.log(`eager workflow start: ${canStartEagerly(starter) ? 'requested' : 'off'}; dev server dynamic config: ${dynamicConfig.join(', ') || 'none'}`);
// On all addresses: the hand-run container reaches it from Docker's default bridge.
const model = new ScriptedModelServer({ script: fixCalculatorScript(), host: '0.0.0.0' });
await model.start();
try {
  const wf: Array<RunPhases & { wall: number }> = [];
  const hand: HandRun[] = [];
  // A warm-up of each (images in the page cache, the worker's first tasks), not counted.
  await workflowRun(stack, starter, 0);
  await handRun(stack, model, 0);
  for (let i = 1; i <= RUNS; i++) {
    wf.push(await workflowRun(stack, starter, i));
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
  printTable(`the same steps by hand (median of ${RUNS}; tests before AND after the change, as Nightshift runs them)`, [
    { what: 'git clone', samples: hand.map((h) => h.clone), unit: 'ms', target: '-', digits: 0 },
    { what: 'docker run: tests before the change', samples: hand.map((h) => h.testsBefore), unit: 'ms', target: '-', digits: 0 },
    { what: 'docker run: agent CLI vs scripted model', samples: hand.map((h) => h.agent), unit: 'ms', target: '-', digits: 0 },
    { what: 'docker run: tests after the change', samples: hand.map((h) => h.tests), unit: 'ms', target: '-', digits: 0 },
    { what: 'git commit + push', samples: hand.map((h) => h.push), unit: 'ms', target: '-', digits: 0 },
    { what: 'total', samples: hand.map((h) => h.total), unit: 'ms', target: '-', digits: 0 },
  ]);
  const ratio = median(wf.map((r) => r.wall)) / median(hand.map((h) => h.total));
  printTable('whole run vs by hand', [
    { what: 'Nightshift: start → run ended', samples: wf.map((r) => r.wall), unit: 'ms', target: '-', digits: 0 },
    { what: 'by hand (the same steps: clone, tests before, agent, tests after, push)', samples: hand.map((h) => h.total), unit: 'ms', target: '-', digits: 0 },
    { what: 'ratio (medians)', samples: [ratio], unit: '', target: '≤ 1.20', met: ratio <= 1.2, digits: 2 },
  ]);
  printVerdict(ratio <= 1.2, `whole run ${ratio.toFixed(2)}× the hand-made pipeline`);
} finally {
  await model.stop();
  await stack.stop();
  // The stack does not own a dev server it was given.
  await stack.temporal.teardown();
}
