/**
 * Bounded history: a run of many attempts (one per tranche, each escalated and answered with
 * guidance) continues as new at tranche boundaries once its history passes
 * `overrides.maxHistoryEvents`, and ends with the outcome and reports of one long execution: every
 * attempt kept, spend summed, one escalation per tranche. Sandbox side stubbed; queue, ledger and
 * sandbox-queue activities real (test/helpers/queueRun.ts) on the time-skipping test server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { agentTask, humanReplySignal } from '../../workflows/index.js';
import { coordinatorIdFor } from '../../workflows/queueCoordinator.js';
import type { TaskRequest } from '../../workflows/types.js';
import { parseConfig } from '../../worker/config.js';
import { startQueueRunWorkers, stubActivities, stubPlan } from '../helpers/queueRun.js';
import { createTimeSkippingEnv, timeSkippingUnavailable } from '../helpers/timeSkipping.js';

const skip = timeSkippingUnavailable();
let env: TestWorkflowEnvironment | undefined;
const config = parseConfig({ gateway: { prices: {} }, repos: { free: { url: '/tmp/none', github: 'acme/free', testCommand: 'true', budget: { minutes: 60, tokens: 1000, usd: 1 } } } });

before(async () => {
  if (!skip) env = await createTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

async function waitFor(pred: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not reached');
}

describe('continue-as-new at tranche boundaries', { timeout: 180_000, skip }, () => {
  test('8 tranches of one failing attempt: several executions, one outcome with every attempt', async () => {
    const e = env!;
    const TRANCHES = 8;
    const { acts, log } = stubActivities({ plan: () => stubPlan('free', { wallClockMs: 3_600_000, tokens: 100_000, usd: 1 }, 1), passes: () => false, attemptUsd: 0.25 });
    const w = await startQueueRunWorkers({ connection: e.nativeConnection, client: e.client, taskQueue: 'can', config, stubs: acts });
    try {
      const req: TaskRequest = { source: { kind: 'cli' }, requester: 'dev', repo: 'free', title: 'Fix add()', task: 'Fix add()', overrides: { maxHistoryEvents: 60 } };
      const out = await w.runUntil(async () => {
        const h = await e.client.workflow.start(agentTask, { taskQueue: 'can', workflowId: 'cli-many-tranches', args: [req] });
        for (let i = 1; i <= TRANCHES; i++) {
          // The handle follows the chain of executions (no run id pinned).
          // The escalation is posted once the run waits for the reply (no query: the handle may point at a closing execution).
          await waitFor(async () => log.reports.filter((r) => r.kind === 'escalation').length === i);
          await h.signal(humanReplySignal, { text: i < TRANCHES ? `try again, hint ${i}` : 'cancel', author: 'oncall', id: `reply-${i}` });
        }
        const result = await h.result();
        const d = await h.describe();
        assert.notEqual(d.runId, d.raw.workflowExecutionInfo?.firstRunId ?? h.firstExecutionRunId, 'the run continued as new');
        return result;
      });
      assert.equal(out.kind, 'cancelled');
      assert.deepEqual(out.attempts.map((a) => a.attempt), [1, 2, 3, 4, 5, 6, 7, 8], 'every attempt, across executions');
      assert.equal(out.spend.usd, 2, '8 × $0.25');
      assert.deepEqual(log.reports.map((r) => r.kind), [...Array<string>(TRANCHES).fill('escalation'), 'cancelled']);
      const row = await w.ledger.getRun('cli-many-tranches');
      assert.equal(row?.run.status, 'done');
      assert.equal(row?.run.attempts, 8);
      assert.equal(row?.attempts.length, 8);
    } finally {
      await e.client.workflow.getHandle(coordinatorIdFor('can')).terminate('test done').catch(() => undefined);
      await w.teardown();
    }
  });
});
