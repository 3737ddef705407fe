/**
 * The worker of bench/queue.bench.ts, in a process of its own (as `nightshift worker` runs apart
 * from the webhook server and the CLI that start and watch runs): the queue bundle's workflows, the
 * admission activities (their own client, as a worker's) and the bench's holder/work activities.
 *
 * Started by the bench with an IPC channel and the environment below; it sends
 * `{ type: 'ready' }` once polling, `{ type: 'begin' | 'end', workflowId, at }` (epoch ms) from
 * the activities, and answers `{ type: 'memory' }` with `{ type: 'memory', rssMb, heapUsedMb }`
 * (after a main-thread GC when run with --expose-gc). `{ type: 'stop' }` shuts it down.
 *
 * Environment: BENCH_TEMPORAL_ADDRESS (host:port), BENCH_TASK_QUEUE, BENCH_BUNDLE (the bundle's
 * path), BENCH_QUEUE_CACHE (maxCachedWorkflows; 0 = the SDK's default), BENCH_QUEUE_THREADS.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createAdmissionActivities } from '../activities/admission.js';
import { installTemporalLogging, rootLogger } from '../worker/logger.js';
import type { HolderActivities } from '../test/helpers/queueWorkflows.js';
import type { WorkActivities } from './queueWorkflows.js';

/** A message from the bench's worker process to the bench. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'begin' | 'end'; workflowId: string; at: number }
  | { type: 'memory'; rssMb: number; heapUsedMb: number };

/** A message from the bench to its worker process. */
export type BenchMessage = { type: 'memory' } | { type: 'stop' };

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`bench worker: ${name} is not set`);
  return v;
}

const send = (m: WorkerMessage): void => {
  process.send?.(m);
};

const address = need('BENCH_TEMPORAL_ADDRESS');
const taskQueue = need('BENCH_TASK_QUEUE');
const cache = Number(process.env.BENCH_QUEUE_CACHE ?? '100');
const threads = process.env.BENCH_QUEUE_THREADS ? Number(process.env.BENCH_QUEUE_THREADS) : undefined;

// The bench going away (crashed or killed) takes its worker with it, also before the worker exists.
let stopOnce: () => void = () => process.exit(0);
process.on('disconnect', () => stopOnce());

await installTemporalLogging(rootLogger());
const nativeConnection = await NativeConnection.connect({ address });
const client = new Client({ connection: await Connection.connect({ address }) });
const holder: HolderActivities = {
  async holderBegin(e) {
    send({ type: 'begin', workflowId: e.workflowId, at: Date.now() });
  },
  async holderEnd(e) {
    send({ type: 'end', workflowId: e.workflowId, at: Date.now() });
  },
};
const work: WorkActivities = {
  async benchWork(e) {
    send({ type: 'begin', workflowId: e.workflowId, at: Date.now() });
    await new Promise((r) => setTimeout(r, e.workMs));
    send({ type: 'end', workflowId: e.workflowId, at: Date.now() });
  },
};
const worker = await Worker.create({
  connection: nativeConnection,
  taskQueue,
  ...(cache ? { maxCachedWorkflows: cache } : {}),
  workflowBundle: { codePath: need('BENCH_BUNDLE') },
  ...(threads ? { workflowThreadPoolSize: threads } : {}),
  activities: { ...createAdmissionActivities({ client, taskQueue, maxConcurrent: 2, repoCaps: {} }), ...holder, ...work },
});
// Shut down once (Worker.shutdown throws unless the worker is running).
let stopping = false;
stopOnce = () => {
  if (stopping) return;
  stopping = true;
  worker.shutdown();
};
process.on('message', (m: BenchMessage) => {
  if (m.type === 'memory') {
    global.gc?.();
    const mu = process.memoryUsage();
    send({ type: 'memory', rssMb: mu.rss / 2 ** 20, heapUsedMb: mu.heapUsed / 2 ** 20 });
  } else if (m.type === 'stop') {
    stopOnce();
  }
});
const running = worker.run();
send({ type: 'ready' });
await running;
await client.connection.close();
await nativeConnection.close();
process.exit(0);
