/**
 * The sandbox queue under load, on the real Temporal dev server: `slotHolder` runs (a stand-in for
 * a run: acquire a slot, work 0.5–1 s, release) against the real coordinator and admission
 * activities. Global cap 2, repository A cap 1; the holders report begin/end to this process,
 * which checks the caps at every begin and samples the running set every 100 ms.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { createAdmissionActivities } from '../../activities/admission.js';
import { queueQuery, type QueueView } from '../../workflows/queueCoordinator.js';
import { startDevServer } from '../../worker/temporal.js';
import { formatQueue, readQueue } from '../../worker/queueCommand.js';
import { slotHolder, type HolderActivities } from '../helpers/queueWorkflows.js';

const TASK_QUEUE = 'queue-test';
const CAPS = { global: 2, repoA: 1 };

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const live = new Map<string, string>();
const begins: { workflowId: string; repo: string; team: string; priority: number; grantSeq: number; at: number }[] = [];
const violations: string[] = [];
const peak = { global: 0, repoA: 0 };

function checkCaps(where: string): void {
  const n = live.size;
  const a = [...live.values()].filter((r) => r === 'A').length;
  peak.global = Math.max(peak.global, n);
  peak.repoA = Math.max(peak.repoA, a);
  if (n > CAPS.global || a > CAPS.repoA) violations.push(`${where}: ${n} running, ${a} on A: ${[...live.keys()].join(', ')}`);
}

before(async () => {
  env = await startDevServer({});
  const holderActivities: HolderActivities = {
    async holderBegin(e) {
      live.set(e.workflowId, e.repo);
      begins.push({ ...e, at: Date.now() });
      checkCaps(`begin ${e.workflowId}`);
    },
    async holderEnd(e) {
      live.delete(e.workflowId);
    },
  };
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowsPath: fileURLToPath(new URL('../helpers/queueWorkflows.js', import.meta.url)),
    activities: {
      ...createAdmissionActivities({ client: env.client, taskQueue: TASK_QUEUE, maxConcurrent: CAPS.global, repoCaps: { A: CAPS.repoA }, reclaimEveryMs: 1_000, maxHistoryEvents: 300 }),
      ...holderActivities,
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
  // An error (the coordinator not started yet) counts as not yet.
  while (!(await Promise.resolve().then(fn).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function queueOf(coordinatorId: string): Promise<QueueView> {
  return env.client.workflow.getHandle(coordinatorId).query(queueQuery);
}

function startHolder(coordinatorId: string, id: string, ask: { repo: string; team: string; priority: number; workMs: number }): Promise<WorkflowHandle<typeof slotHolder>> {
  return env.client.workflow.start(slotHolder, { taskQueue: TASK_QUEUE, workflowId: id, args: [{ ...ask, coordinatorId }], workflowExecutionTimeout: '5 minutes' });
}

describe('sandbox queue', { timeout: 240_000 }, () => {
  test('30 runs: caps hold, high priority first, teams alternate, the coordinator continues as new', { timeout: 180_000 }, async () => {
    const coord = 'queue-load';
    // Two blockers hold both slots while the other 28 queue up, so that the order is the policy's.
    const blockers = [await startHolder(coord, 'blocker-1', { repo: 'B', team: 'X', priority: 3, workMs: 600_000 }), await startHolder(coord, 'blocker-2', { repo: 'B', team: 'Y', priority: 3, workMs: 600_000 })];
    await until('the blockers to hold both slots', () => begins.length === 2, 30_000);
    const firstRunId = (await env.client.workflow.getHandle(coord).describe()).runId;

    const asks: { id: string; repo: string; team: string; priority: number }[] = [];
    // Normal priority: all of team X first (older), then team Y; 4 of each team on repository A.
    for (const team of ['X', 'Y']) for (let i = 0; i < 11; i++) asks.push({ id: `n-${team}-${i}`, repo: i % 3 === 0 && i < 12 ? 'A' : 'B', team, priority: 3 });
    for (let i = 0; i < 6; i++) asks.push({ id: `h-${i}`, repo: 'B', team: i % 2 ? 'Y' : 'X', priority: 1 });
    const handles: WorkflowHandle<typeof slotHolder>[] = [];
    for (const [i, a] of asks.entries()) handles.push(await startHolder(coord, a.id, { repo: a.repo, team: a.team, priority: a.priority, workMs: 500 + ((i * 97) % 500) }));
    await until('28 waiting', async () => (await queueOf(coord)).waiting.length === 28, 60_000);
    const view = await queueOf(coord);
    assert.deepEqual(view.waiting.slice(0, 6).map((w) => w.priority), [1, 1, 1, 1, 1, 1], 'queue positions put the urgent runs first');

    const sampled: string[] = [];
    const sampler = setInterval(() => {
      checkCaps('sample');
      queueOf(coord)
        .then((q) => {
          if (q.running.length > CAPS.global || q.running.filter((r) => r.repo === 'A').length > CAPS.repoA) sampled.push(JSON.stringify(q.running));
        })
        .catch(() => undefined);
    }, 100);
    try {
      for (const b of blockers) await b.cancel();
      await Promise.all([...blockers.map((b) => b.result().catch(() => undefined)), ...handles.map((h) => h.result())]);
    } finally {
      clearInterval(sampler);
    }

    assert.deepEqual(violations, [], 'caps never exceeded (at each begin and in each 100 ms sample)');
    assert.deepEqual(sampled, [], "the coordinator's own running set never exceeded the caps");
    assert.equal(peak.global, CAPS.global, 'the global cap was reached (the runs did overlap)');
    assert.equal(peak.repoA, CAPS.repoA);
    const order = begins.filter((b) => !b.workflowId.startsWith('blocker')).sort((a, b) => a.grantSeq - b.grantSeq);
    assert.equal(order.length, 28);
    assert.deepEqual(order.slice(0, 6).map((b) => b.priority), [1, 1, 1, 1, 1, 1], 'urgent runs admitted before every normal one');
    const teams = order.slice(6, 16).map((b) => b.team);
    for (let i = 1; i < teams.length; i++) assert.notEqual(teams[i], teams[i - 1], `teams alternate at equal priority: ${teams.join('')}`);
    const after = await env.client.workflow.getHandle(coord).describe();
    assert.notEqual(after.runId, firstRunId, 'the coordinator continued as new (history bound) and kept its state');
    const q = await queueOf(coord);
    assert.deepEqual([q.running.length, q.waiting.length, q.granted], [0, 0, 30]);
  });

  test('a holder terminated without release is reclaimed; a run cancelled while waiting withdraws', { timeout: 60_000 }, async () => {
    const coord = 'queue-reclaim';
    const h1 = await startHolder(coord, 'r-1', { repo: 'B', team: 'X', priority: 3, workMs: 600_000 });
    const h2 = await startHolder(coord, 'r-2', { repo: 'B', team: 'X', priority: 3, workMs: 600_000 });
    await until('both slots held', async () => (await queueOf(coord)).running.length === 2, 30_000);
    const w = await startHolder(coord, 'r-waiter', { repo: 'B', team: 'X', priority: 3, workMs: 100 });
    const quitter = await startHolder(coord, 'r-quitter', { repo: 'B', team: 'Y', priority: 4, workMs: 100 });
    await until('two waiting', async () => (await queueOf(coord)).waiting.length === 2, 30_000);
    const printed = formatQueue(await readQueue(env.client, coord));
    assert.match(printed, /running {3}2\n {2}r-[12] {2}B {2}X {2}normal/);
    assert.match(printed, /waiting {3}2\n +1\. r-waiter {2}B {2}X {2}normal.*\n +2\. r-quitter {2}B {2}Y {2}low/, printed);
    assert.equal(formatQueue(await readQueue(env.client, 'no-such-coordinator')), 'queue: empty (no run has asked for a sandbox yet)');
    await quitter.cancel();
    await until('the cancelled run to leave the queue', async () => (await queueOf(coord)).waiting.every((x) => x.workflowId !== 'r-quitter'), 10_000);

    const t0 = Date.now();
    await h1.terminate('crashed without a release');
    await w.result();
    const reclaimMs = Date.now() - t0;
    assert.ok(reclaimMs < 5_000, `reclaimed within the 1 s reclaim period (+ slack): ${reclaimMs} ms`);
    const q = await queueOf(coord);
    assert.ok(!q.running.some((r) => r.workflowId === 'r-1'), 'the terminated holder no longer holds a slot');
    assert.ok(!q.running.some((r) => r.workflowId === 'r-quitter') && !q.waiting.some((r) => r.workflowId === 'r-quitter'), 'the cancelled run was never granted');
    await h2.cancel();
    await h2.result().catch(() => undefined);
  });

  test('a coordinator terminated while a run waits: the run asks again, the coordinator starts anew and grants it', { timeout: 60_000 }, async () => {
    const coord = 'queue-reask';
    // Repository A is capped at 1: the holder keeps the waiter waiting.
    const holder = await startHolder(coord, 'ra-holder', { repo: 'A', team: 'X', priority: 3, workMs: 600_000 });
    await until('the slot held', async () => (await queueOf(coord)).running.length === 1, 30_000);
    const ask = { repo: 'A', team: 'X', priority: 3, workMs: 100, reaskMs: 1_000, coordinatorId: coord };
    const waiter = await env.client.workflow.start(slotHolder, { taskQueue: TASK_QUEUE, workflowId: 'ra-waiter', args: [ask], workflowExecutionTimeout: '5 minutes' });
    await until('the run waiting', async () => (await queueOf(coord)).waiting.length === 1, 30_000);
    // The coordinator is lost (terminated by an operator, or its history reset) with the run waiting.
    await env.client.workflow.getHandle(coord).terminate('operator reset');
    await holder.terminate('gone with the coordinator');
    const grantSeq = await waiter.result();
    assert.ok(grantSeq >= 1, 'the waiting run was granted by the new coordinator');
    const q = await queueOf(coord);
    assert.equal(q.waiting.length, 0);
  });
});
