/**
 * The coordinator's reclaim check runs beside admissions (patch `coordinator-async-reclaim`): with
 * a thousand waiting runs the check (`findClosedRuns`, one describe per run) takes seconds, and a
 * slot released meanwhile must be granted onwards at once. Real dev server, real coordinator and
 * holders; the reclaim activity is the real one, slowed down by a wrapper.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createAdmissionActivities } from '../../activities/admission.js';
import { queueQuery } from '../../workflows/queueCoordinator.js';
import { startDevServer } from '../../worker/temporal.js';
import { slotHolder, type HolderActivities } from '../helpers/queueWorkflows.js';

const TQ = 'queue-slow-reclaim';
const RECLAIM_MS = 8_000;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const begins = new Map<string, number>();
let reclaimStarted: number | undefined;

before(async () => {
  env = await startDevServer({});
  const admission = createAdmissionActivities({ client: env.client, taskQueue: TQ, maxConcurrent: 1, repoCaps: {}, reclaimEveryMs: 1_000 });
  const holder: HolderActivities = {
    async holderBegin(e) {
      begins.set(e.workflowId, Date.now());
    },
    async holderEnd() {},
  };
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TQ,
    workflowsPath: fileURLToPath(new URL('../helpers/queueWorkflows.js', import.meta.url)),
    activities: {
      ...admission,
      ...holder,
      // The real check, made slow (as with a thousand runs to describe).
      async findClosedRuns(ids: string[]) {
        reclaimStarted ??= Date.now();
        await new Promise((r) => setTimeout(r, RECLAIM_MS));
        return admission.findClosedRuns(ids);
      },
    },
  });
  running = worker.run();
});

after(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running?.catch(() => undefined);
  await env?.teardown();
});

async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(fn).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a slot released while the reclaim check runs is granted onwards within a second', { timeout: 90_000 }, async () => {
  const coordinatorId = 'slow-reclaim';
  const args = (workMs: number) => [{ repo: 'r', team: 't', workMs, coordinatorId }] as [Parameters<typeof slotHolder>[0]];
  const first = await env.client.workflow.start(slotHolder, { taskQueue: TQ, workflowId: 'holder-1', args: args(3_600_000) });
  await until('the first grant', () => begins.has('holder-1'), 20_000);
  const second = await env.client.workflow.start(slotHolder, { taskQueue: TQ, workflowId: 'holder-2', args: args(100) });
  await until('the second run waiting', async () => (await env.client.workflow.getHandle(coordinatorId).query(queueQuery)).waiting.length === 1, 20_000);
  // The reclaim check starts (every second) and takes RECLAIM_MS; release in the middle of it.
  await until('a reclaim check running', () => reclaimStarted !== undefined, 20_000);
  await new Promise((r) => setTimeout(r, 1_000));
  const released = Date.now();
  await first.cancel();
  await until('the second run admitted', () => begins.has('holder-2'), 20_000);
  const admitMs = begins.get('holder-2')! - released;
  assert.ok(Date.now() - reclaimStarted! < RECLAIM_MS, 'the reclaim check was still running when the slot was granted');
  assert.ok(admitMs < 1_000, `granted ${admitMs} ms after the release`);
  assert.equal(await second.result(), 2);
});
