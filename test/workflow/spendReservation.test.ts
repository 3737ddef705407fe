/**
 * Spend caps when runs wake together, and the escalation's reason in the ledger, by skipping time
 * (real queue timing, ledger and sandbox-queue activities; sandbox side stubbed, test/helpers/queueRun.ts):
 * - three runs submitted at 15:00 Berlin all pass the cap check at 22:00 (nothing spent yet); once
 *   granted a slot the third no longer fits (spent or reserved by the two before it), gives its
 *   slot back, is deferred once (one "Deferred" wording) and runs the next local day: the day's
 *   spend stays within the cap;
 * - an escalated run's ledger row says why it escalated, not why it was admitted.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { agentTask, cancelSignal } from '../../workflows/index.js';
import { coordinatorIdFor } from '../../workflows/queueCoordinator.js';
import type { Activities } from '../../workflows/activityTypes.js';
import { ZERO_SPEND, type TaskRequest } from '../../workflows/types.js';
import { parseConfig } from '../../worker/config.js';
import { startQueueRunWorkers, stubActivities, stubPlan } from '../helpers/queueRun.js';
import { createTimeSkippingEnv, timeSkippingUnavailable } from '../helpers/timeSkipping.js';

const skip = timeSkippingUnavailable();
const TZ = 'Europe/Berlin';
const HOUR = 3_600_000;
const TASK_QUEUE = 'reserve';
const ESCALATED_QUEUE = 'reserve-escalated';
let env: TestWorkflowEnvironment | undefined;

const config = parseConfig({
  gateway: { prices: {} },
  linear: { teams: { CALC: 'calculator' } },
  teams: { CALC: { window: { tz: TZ, start: '22:00', end: '06:00' } } },
  spendCaps: { teams: { CALC: { dailyUsd: 10, tz: TZ } } },
  repos: { calculator: { url: '/tmp/none', github: 'acme/calculator', testCommand: 'true', budget: { minutes: 60, tokens: 1000, usd: 4 } } },
});

// A fresh test server per test: the Java test server's time-skipping lock can be left unbalanced
// by concurrent signal-with-starts (three runs asking the coordinator at once: "Unbalanced lock
// and unlock calls"), after which time no longer skips for the next test.
beforeEach(async () => {
  if (!skip) env = await createTimeSkippingEnv();
});
afterEach(async () => {
  await env?.teardown();
  env = undefined;
});

async function skipTo(e: TestWorkflowEnvironment, t: number): Promise<void> {
  const now = await e.currentTimeMs();
  if (t > now) await e.sleep(t - now);
}

async function waitFor(pred: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not reached');
}

/** The next local 15:00 in Berlin at or after `fromMs`. */
function next15(fromMs: number): DateTime {
  let d = DateTime.fromMillis(fromMs, { zone: TZ }).startOf('day').set({ hour: 15 });
  while (d.toMillis() < fromMs) d = d.plus({ days: 1 }).set({ hour: 15 });
  return d;
}

/** The stubs plus the clarifying assessment, off (as without `scope.clarify.model`). */
const withClarifyOff = (acts: Activities): Activities =>
  ({ ...acts, assessTask: async () => ({ decision: 'skipped', rationale: 'off', disabled: true, spend: ZERO_SPEND }) }) as Activities;

const req = (title: string): TaskRequest => ({ source: { kind: 'cli' }, requester: 'dev', repo: 'calculator', title, task: title });

describe('spend caps and reasons in the run, by skipping time', { timeout: 180_000, skip }, () => {
  test('three runs waking at 22:00 under a $10 daily cap with $4 budgets: the third is deferred to the next day', async () => {
    const e = env!;
    // Each run spends $3.50: two are $7 spent (or $8 reserved while they run); a third $4 would pass $10.
    const { acts, log } = stubActivities({ plan: () => stubPlan('calculator', { wallClockMs: HOUR, tokens: 1000, usd: 4 }), attemptUsd: 3.5 });
    const w = await startQueueRunWorkers({ connection: e.nativeConnection, client: e.client, taskQueue: TASK_QUEUE, config, stubs: withClarifyOff(acts) });
    const ids = ['cli-wake-a', 'cli-wake-b', 'cli-wake-c'];
    try {
      const at15 = next15(await e.currentTimeMs());
      const outs = await w.runUntil(async () => {
        await skipTo(e, at15.toMillis());
        const hs = await Promise.all(ids.map((id) => e.client.workflow.start(agentTask, { taskQueue: TASK_QUEUE, workflowId: id, args: [req(id)] })));
        // Time skips while the test sleeps (an awaited result re-locks it once it returns): past the next local midnight.
        await skipTo(e, at15.plus({ days: 1 }).startOf('day').toMillis() + HOUR);
        return Promise.all(hs.map((h) => h.result()));
      });
      assert.deepEqual(outs.map((o) => o.kind), ['pr_opened', 'pr_opened', 'pr_opened']);
      const nightStart = at15.set({ hour: 22 }).toMillis();
      const nextDay = at15.plus({ days: 1 }).startOf('day').toMillis();
      const prepared = ids.map((id) => log.preparedAt.get(id)!);
      const tonight = prepared.filter((t) => t >= nightStart && t < nextDay);
      assert.equal(tonight.length, 2, `prepared at ${prepared.map((t) => DateTime.fromMillis(t, { zone: TZ }).toISO()).join(', ')}`);
      assert.equal(prepared.filter((t) => t >= nextDay && t < nextDay + 5 * 60_000).length, 1, 'the third prepares when the next local day starts');
      // The day's spend stays within its cap.
      const day = await w.ledger.spendBetween({ team: 'CALC' }, at15.startOf('day').toMillis(), nextDay);
      assert.ok(day.usd <= 10, `spent $${day.usd} on a $10 day`);
      // One `deferred` report, worded once.
      const deferred = log.reports.filter((r) => r.kind === 'deferred');
      assert.equal(deferred.length, 1);
      assert.match(deferred[0]!.markdown, /^Deferred: team CALC's daily cap is \$10\.00; \$[78]\.[05]0 is spent or reserved by runs in flight/);
      assert.doesNotMatch(deferred[0]!.markdown, /Deferred.*Deferred/s);
    } finally {
      // A run left waiting for its next period would wake later with no worker polling its queue,
      // and a time-skipping server does not skip past a workflow task nobody takes.
      for (const id of ids) await e.client.workflow.getHandle(id).terminate('test done').catch(() => undefined);
      await e.client.workflow.getHandle(coordinatorIdFor(TASK_QUEUE)).terminate('test done').catch(() => undefined);
      await w.teardown();
    }
  });

  test('an escalated run: the ledger says why it escalated, not why it was admitted', async () => {
    const e = env!;
    const { acts, log } = stubActivities({ plan: () => stubPlan('calculator', { wallClockMs: HOUR, tokens: 1000, usd: 1 }, 1), passes: () => false });
    const w = await startQueueRunWorkers({ connection: e.nativeConnection, client: e.client, taskQueue: ESCALATED_QUEUE, config, stubs: withClarifyOff(acts) });
    const id = 'cli-escalated-reason';
    try {
      const at15 = next15(await e.currentTimeMs());
      const row = await w.runUntil(async () => {
        await skipTo(e, at15.toMillis());
        const h = await e.client.workflow.start(agentTask, { taskQueue: ESCALATED_QUEUE, workflowId: id, args: [req('Fix add()')] });
        await skipTo(e, at15.set({ hour: 23 }).toMillis());
        await waitFor(async () => log.reports.some((r) => r.kind === 'escalation'));
        await waitFor(async () => (await w.ledger.getRun(id))?.run.status === 'awaiting_human');
        const r = await w.ledger.getRun(id);
        await h.signal(cancelSignal, { by: 'dev' });
        await h.result();
        return r;
      });
      assert.equal(row?.run.reason, 'the tests still fail after 1 attempt');
    } finally {
      await e.client.workflow.getHandle(coordinatorIdFor(ESCALATED_QUEUE)).terminate('test done').catch(() => undefined);
      await w.teardown();
    }
  });
});
