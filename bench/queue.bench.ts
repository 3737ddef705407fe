/**
 * Benchmark: the sandbox queue (workflows/queueCoordinator.ts) on the real dev server, with the
 * test stand-in `slotHolder` (acquire, hold, release) in place of runs. The worker runs in a process
 * of its own (bench/queueWorker.ts, as `nightshift worker` runs apart from the front ends that start
 * and watch runs); this process is the client.
 *
 * 1. BENCH_QUEUE_WAITING (1,000) runs held waiting behind 2 holders: the worker process's RSS as
 *    the last run arrives and once they are held waiting (sampled for BENCH_QUEUE_SETTLE_S, 20 s),
 *    the Temporal dev server's RSS, and the time from a holder's cancel to the next run's first
 *    activity (its slot granted), sampled BENCH_QUEUE_ADMITS (10) times. Targets: worker RSS
 *    ≤ 250 MB (held waiting), admit ≤ 1 s.
 * 2. BENCH_QUEUE_RUNS (100) runs (`slotWorker`: grant → one work activity of BENCH_QUEUE_WORK_MS
 *    (1,000) ms → release, as a real run's sandbox work) at concurrency 2, all queued first:
 *    makespan (from freeing the slots to the last run's end) vs ideal (runs × work / 2), target
 *    ≤ 1.1×; and where a handoff's time goes, segment by segment, from the histories
 *    (bench/queueHandoff.ts).
 * BENCH_QUEUE_CACHE (100, as config temporal.maxCachedWorkflows): the worker's maxCachedWorkflows
 * (0: the SDK's default, every waiting run stays cached: ~560 MB at 1,000 waiting).
 * BENCH_WORKER_MALLOC_ARENA_MAX (2, as the worker images set MALLOC_ARENA_MAX; empty: glibc's
 * default), BENCH_WORKER_EXEC_ARGV (V8 flags of the worker process), BENCH_QUEUE_PARTS (`1,2`).
 * The workflows are loaded from a bundle cached on disk (worker/workflowBundle.ts), as the worker does.
 *
 * Figures (2-core machine, 2026-11-30):
 * - 1,000 waiting: worker RSS 223–254 MB held waiting over 5 runs (median 230; V8 shrinks the
 *   workflow thread's heap ~10 s after the burst), 305–317 MB as the last arrives (in ~20 s);
 *   started ~150 MB. With glibc's default arenas ~270 MB held waiting (the Temporal core's and V8's
 *   threads each keep freed memory in an arena of their own); `--max-old-space-size=96` instead
 *   gets 272 MB and risks an out-of-memory crash. A cache of 20 gave 202–212 MB, of 32 239 MB (one
 *   run each), at the price of replaying each run at its grant (makespan 1.121×). Measured in one
 *   process with the client (before 2026-11-30): 278–292 MB.
 * - Admit: 59–79 ms median, 102–195 ms at most, over 7 runs of 10 (384–401 ms before the dev server's history queues could be read more than
 *   20 times a second: worker/temporal.ts DEV_SERVER_DYNAMIC_CONFIG).
 * - Makespan of 1 s runs: 1.079–1.105× ideal over 4 runs (1.12–1.15× while the bench long-polled
 *   100 results). A handoff is ~65–90 ms median: three workflow tasks (A's, the coordinator's, B's;
 *   ~6 ms schedule-to-start, ~10 ms on the worker, ~5 ms to complete each) and two signals; each
 *   run's work activity also costs ~35 ms over its 1,000 ms (RespondActivityTaskCompleted ~17 ms).
 *   A reclaim timer loop of its own in the coordinator saved ~3 ms a handoff but was reverted (an
 *   admission stalled once after a reclaim, cause not found). Of 10 s runs 1.016×.
 */
import { execFileSync, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { queueQuery } from '../workflows/queueCoordinator.js';
import { startDevServer } from '../worker/temporal.js';
import { ensureWorkflowBundle } from '../worker/workflowBundle.js';
import type { BenchMessage, WorkerMessage } from './queueWorker.js';
import { slotHolder, slotWorker } from './queueWorkflows.js';
import { HANDOFF_SEGMENTS, handoffs } from './queueHandoff.js';
import { envInt, median, printTable, printVerdict } from './lib.js';

const WAITING = envInt('BENCH_QUEUE_WAITING', 1_000, 10, 10_000);
const ADMITS = envInt('BENCH_QUEUE_ADMITS', 10, 1, 100);
const RUNS = envInt('BENCH_QUEUE_RUNS', 100, 4, 1_000);
const WORK_MS = envInt('BENCH_QUEUE_WORK_MS', 1_000, 50, 60_000);
/** The worker's workflow cache (waiting runs are evicted and replayed on their grant); 0 = the SDK's default. */
const CACHE = envInt('BENCH_QUEUE_CACHE', 100, 0, 100_000);
/** How long the worker's RSS is sampled once every run waits, s. */
const SETTLE_S = envInt('BENCH_QUEUE_SETTLE_S', 20, 0, 300);
/**
 * glibc's malloc arenas of the worker process (BENCH_WORKER_MALLOC_ARENA_MAX; default 2, as the
 * worker images set MALLOC_ARENA_MAX; empty for glibc's default of 8 per core).
 */
const ARENAS = process.env.BENCH_WORKER_MALLOC_ARENA_MAX ?? '2';
const TQ = 'queue-bench';
const PARTS = new Set((process.env.BENCH_QUEUE_PARTS ?? '1,2').split(',').map((p) => p.trim()));

/** RSS in MB of this process's child processes whose command line mentions `temporal` (the dev server). */
function serverRssMb(): number {
  const out = execFileSync('ps', ['--ppid', String(process.pid), '-o', 'rss=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => /temporal/.test(l))
    .reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[0]) / 1024, 0);
}

async function until(fn: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(fn).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const { codePath } = await ensureWorkflowBundle({
  entry: fileURLToPath(new URL('./queueWorkflows.js', import.meta.url)),
  outPath: fileURLToPath(new URL('./.cache/queue-workflows-bundle.js', import.meta.url)),
});
const env = await startDevServer({});
const begins = new Map<string, number>();
const ends = new Map<string, number>();
// The worker runs in a process of its own (bench/queueWorker.ts), as in a deployment: its RSS is
// the worker's alone, not this client's (1,000 starts, queue queries, histories).
const workerProc = fork(fileURLToPath(new URL('./queueWorker.js', import.meta.url)), [], {
  // BENCH_WORKER_EXEC_ARGV: V8 flags for the worker alone (e.g. `--max-old-space-size=128`).
  execArgv: ['--expose-gc', ...(process.env.BENCH_WORKER_EXEC_ARGV ?? '').split(' ').filter(Boolean)],
  env: {
    ...process.env,
    BENCH_TEMPORAL_ADDRESS: env.address,
    BENCH_TASK_QUEUE: TQ,
    BENCH_BUNDLE: codePath,
    BENCH_QUEUE_CACHE: String(CACHE),
    ...(ARENAS ? { MALLOC_ARENA_MAX: ARENAS } : {}),
    ...(process.env.BENCH_QUEUE_THREADS ? { BENCH_QUEUE_THREADS: process.env.BENCH_QUEUE_THREADS } : {}),
  },
});
/** A reply the bench waits for from its worker (settled by the reply, the worker's exit or a timeout). */
let pending: { resolve: (m: { rssMb: number; heapUsedMb: number }) => void; reject: (err: Error) => void } | undefined;
let signalReady: (() => void) | undefined;
const workerGone = new Promise<never>((_, reject) => {
  workerProc.once('exit', (code, signal) => {
    const err = new Error(`the bench worker exited (${signal ?? `exit ${code}`})`);
    pending?.reject(err);
    reject(err);
  });
});
workerGone.catch(() => undefined);
const workerReady = new Promise<void>((resolve) => (signalReady = resolve));
workerProc.on('message', (m: WorkerMessage) => {
  if (m.type === 'ready') signalReady?.();
  else if (m.type === 'begin') begins.set(m.workflowId, m.at);
  else if (m.type === 'end') ends.set(m.workflowId, m.at);
  else if (m.type === 'memory') pending?.resolve(m);
});
/** `p`, or a rejection after `ms` ms or when the worker exits. */
function fromWorker<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the bench worker: no ${what} within ${ms} ms`)), ms)));
  return Promise.race([p, workerGone, late]).finally(() => clearTimeout(timer));
}
/** The worker process's RSS and main-thread heap (after its GC), MB. */
function workerMemory(): Promise<{ rssMb: number; heapUsedMb: number }> {
  const reply = new Promise<{ rssMb: number; heapUsedMb: number }>((resolve, reject) => (pending = { resolve, reject }));
  workerProc.send({ type: 'memory' } satisfies BenchMessage);
  return fromWorker(reply, 30_000, 'memory figures');
}
let rssBeforeWorker: number;
try {
  await fromWorker(workerReady, 120_000, "'ready'");
  rssBeforeWorker = (await workerMemory()).rssMb;
} catch (err) {
  workerProc.kill('SIGKILL');
  await env.teardown();
  throw err;
}

async function startMany(coord: string, prefix: string, n: number, workMs: number, wf: typeof slotHolder | typeof slotWorker = slotHolder): Promise<WorkflowHandle[]> {
  const handles: WorkflowHandle[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = Array.from({ length: Math.min(50, n - i) }, (_, j) =>
      env.client.workflow.start(wf as typeof slotHolder, { taskQueue: TQ, workflowId: `${prefix}-${i + j}`, args: [{ repo: 'r', team: `t${(i + j) % 3}`, workMs, coordinatorId: coord }] }),
    );
    handles.push(...(await Promise.all(batch)));
  }
  return handles;
}

let verdict = true;
const verdicts: string[] = [];
try {
  // --- 1. many waiting -------------------------------------------------------------------------
  if (PARTS.has('1')) {
    const c1 = 'bench-queue-waiting';
    const baseRss = (await workerMemory()).rssMb;
    const blockers = await startMany(c1, 'blk', 2, 3_600_000);
    await until(() => begins.size === 2, 60_000, 'the blockers');
    const t0 = Date.now();
    const waiters = await startMany(c1, 'w', WAITING, 3_600_000);
    await until(async () => (await env.client.workflow.getHandle(c1).query(queueQuery)).waiting.length === WAITING, 600_000, `${WAITING} waiting`);
    const queuedS = (Date.now() - t0) / 1000;
    // RSS as the last of the 1,000 arrives (the peak of their arrival), then held waiting: sampled
    // every second for SETTLE_S seconds (V8's memory reducer shrinks an isolate's heap some
    // seconds after its allocations stop: here about 10 s), the last sample counted.
    const arrival = await workerMemory();
    const settled = [arrival.rssMb];
    for (let k = 0; k < SETTLE_S; k++) {
      await new Promise((r) => setTimeout(r, 1000));
      settled.push((await workerMemory()).rssMb);
    }
    const workerRss = settled.at(-1)!;
    console.log(`worker process: RSS ${arrival.rssMb.toFixed(0)} MB as the last run arrived, ${workerRss.toFixed(0)} MB held waiting (after ${settled.length - 1} s); main-thread heap used ${arrival.heapUsedMb.toFixed(0)} MB; this process (the client): RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
    const serverRss = serverRssMb();
    const admits: number[] = [];
    const holders = [...blockers];
    for (let i = 0; i < ADMITS; i++) {
      const before = begins.size;
      const victim = holders.shift()!;
      const tc = Date.now();
      await victim.cancel();
      await until(() => begins.size > before, 30_000, 'the next admission').catch(async (err: unknown) => {
        const q = await env.client.workflow.getHandle(c1).query(queueQuery);
        const d = await env.client.workflow.getHandle(c1).describe();
        console.log(`no admission: coordinator ${d.status.name}, history ${d.historyLength} events, running ${q.running.map((r) => r.workflowId).join(',')}, ${q.waiting.length} waiting, granted ${q.granted}; victim ${(await victim.describe()).status.name}`);
        throw err;
      });
      const admitted = [...begins.entries()].find(([id, t]) => t >= tc && id.startsWith('w-'))!;
      admits.push(admitted[1] - tc);
      holders.push(waiters.find((w) => w.workflowId === admitted[0])!);
  }
  printTable(`${WAITING} runs waiting (queued in ${queuedS.toFixed(1)} s)`, [
    { what: 'worker process RSS, started (bundle loaded)', samples: [rssBeforeWorker], unit: 'MB', target: '-' },
    { what: 'worker process RSS, before part 1', samples: [baseRss], unit: 'MB', target: '-' },
    { what: 'worker process RSS as the last run arrived', samples: [arrival.rssMb], unit: 'MB', target: '-' },
    { what: 'worker process RSS, runs held waiting', samples: [workerRss], unit: 'MB', target: '≤ 250 MB', met: workerRss <= 250 },
    { what: 'Temporal dev server RSS', samples: [serverRss], unit: 'MB', target: '-' },
    { what: 'cancel of a holder → next run admitted', samples: admits, unit: 'ms', target: '≤ 1000 ms max', met: Math.max(...admits) <= 1000, digits: 0 },
  ]);
  await Promise.all([...holders, ...waiters].map((h) => h.terminate('bench part 1 done').catch(() => undefined)));
  verdict &&= workerRss <= 250 && Math.max(...admits) <= 1000;
  verdicts.push(`worker RSS ${workerRss.toFixed(0)} MB, admit max ${Math.max(...admits)} ms`);
  }

  // --- 2. makespan -------------------------------------------------------------------------------
  if (PARTS.has('2')) {
    const c2 = 'bench-queue-makespan';
    const b2 = await startMany(c2, 'blk2', 2, 3_600_000);
    await until(() => begins.has('blk2-0') && begins.has('blk2-1'), 60_000, 'the blockers of part 2');
    const runs = await startMany(c2, 'm', RUNS, WORK_MS, slotWorker);
    await until(async () => (await env.client.workflow.getHandle(c2).query(queueQuery)).waiting.length === RUNS, 300_000, `${RUNS} waiting`);
    const ts = Date.now();
    await Promise.all(b2.map((b) => b.cancel()));
    // Every run's work ended (the worker says so over IPC: no client long-polls 100 results from the
    // server meanwhile, as nobody does in a deployment), then each run's result (closed by then).
    await until(() => runs.every((r) => ends.has(r.workflowId)), 600_000, `${RUNS} runs' work`);
    await Promise.all(runs.map((r) => r.result()));
    const makespan = Math.max(...runs.map((r) => ends.get(r.workflowId)!)) - ts;
    const ideal = (RUNS * WORK_MS) / 2;
    const ratio = makespan / ideal;
    printTable(`${RUNS} runs of ${WORK_MS} ms at concurrency 2`, [
      { what: 'makespan', samples: [makespan], unit: 'ms', target: '-', digits: 0 },
      { what: 'ideal (runs × work / 2)', samples: [ideal], unit: 'ms', target: '-', digits: 0 },
      { what: 'makespan / ideal', samples: [ratio], unit: '', target: '≤ 1.10', met: ratio <= 1.1, digits: 3 },
    ]);
    const hs = await handoffs(env.client, c2, ts, RUNS);
    printTable(`where a handoff goes (${hs.length} handoffs, from the histories)`, [
      ...HANDOFF_SEGMENTS.map((what, i) => ({ what, samples: hs.map((h) => h.segments[i]!), unit: 'ms', target: '-', digits: 1 })),
      { what: 'total: A done → B started', samples: hs.map((h) => h.segments.reduce((a, b) => a + b, 0)), unit: 'ms', target: '-', digits: 1 },
    ]);
    if (process.env.BENCH_QUEUE_DUMP) {
      const { historyOf } = await import('./history.js');
      for (const id of [c2, hs[5]!.from, hs[5]!.to]) {
        const ev = await historyOf(env.client, id);
        const t0 = ev.find((e) => e.at >= ts)?.at ?? 0;
        console.log(`-- ${id}`);
        for (const e of ev.filter((e) => e.at >= ts).slice(0, 60)) console.log(`${(e.at - t0).toFixed(1).padStart(8)} ${e.id} ${e.kind}`);
      }
  }
  const perHandoff = (makespan - ideal) / (RUNS / 2);
  console.log(`makespan − ideal per handoff: ${perHandoff.toFixed(0)} ms; median handoff from the histories ${median(hs.map((h) => h.segments.reduce((a, b) => a + b, 0))).toFixed(0)} ms`);
  verdict &&= ratio <= 1.1;
  verdicts.push(`makespan ${ratio.toFixed(3)}× ideal`);
  }
  printVerdict(verdict, verdicts.join(', '));
} finally {
  const exited = new Promise((r) => workerProc.once('exit', r));
  if (workerProc.exitCode === null) workerProc.send({ type: 'stop' } satisfies BenchMessage);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
  workerProc.kill('SIGKILL');
  await env.teardown();
}
