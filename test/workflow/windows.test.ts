/**
 * The overnight queue in the run workflow, by skipping time (Temporal's time-skipping test server):
 * the real `admissionTime` / `checkSpendCap` (temp SQLite ledger), the real ledger activities and
 * sandbox queue, the sandbox-bound activities stubbed (test/helpers/queueRun.ts).
 * - submitted at 15:00 Europe/Berlin → prepares at 22:00 local;
 * - a run whose time budget would overrun the window waits for the next one;
 * - across the spring-forward night (02:00 → 03:00): a 7.5 h budget does not fit that night's 7 h;
 * - a team at its daily cap: `deferred` with the cap's message, then it runs the next local day.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { agentTask } from '../../workflows/index.js';
import { coordinatorIdFor } from '../../workflows/queueCoordinator.js';
import type { RunPlan } from '../../workflows/activityTypes.js';
import type { TaskRequest } from '../../workflows/types.js';
import type { Ledger } from '../../ledger/types.js';
import { parseConfig } from '../../worker/config.js';
import { startQueueRunWorkers, stubActivities, stubPlan } from '../helpers/queueRun.js';
import { createTimeSkippingEnv, timeSkippingUnavailable } from '../helpers/timeSkipping.js';

const skip = timeSkippingUnavailable();
const TZ = 'Europe/Berlin';
const HOUR = 3_600_000;
const TASK_QUEUE = 'windows';
let env: TestWorkflowEnvironment | undefined;

const config = parseConfig({
  gateway: { prices: {} },
  linear: { teams: { CALC: 'calculator' } },
  teams: { CALC: { window: { tz: TZ, start: '22:00', end: '06:00' } } },
  spendCaps: { teams: { CALC: { dailyUsd: 10, tz: TZ } } },
  repos: { calculator: { url: '/tmp/none', github: 'acme/calculator', testCommand: 'true', budget: { minutes: 60, tokens: 1000, usd: 4 } } },
});

before(async () => {
  if (!skip) env = await createTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

/** Skips the server's time forward to `t` (epoch ms). */
async function skipTo(e: TestWorkflowEnvironment, t: number): Promise<void> {
  const now = await e.currentTimeMs();
  assert.ok(t >= now, 'time only moves forward');
  await e.sleep(t - now);
}

/** The next local `hh:00` in Berlin at or after `fromMs` whose date satisfies `ok`. */
function nextLocal(fromMs: number, hour: number, ok: (d: DateTime) => boolean = () => true): DateTime {
  let d = DateTime.fromMillis(fromMs, { zone: TZ }).startOf('day').set({ hour });
  while (d.toMillis() < fromMs || !ok(d)) d = d.plus({ days: 1 }).set({ hour });
  return d;
}

const local = (ms: number): string => DateTime.fromMillis(ms, { zone: TZ }).toFormat("ccc yyyy-LL-dd HH:mm ZZ");

/**
 * Runs one task on plan `plan` submitted at `atMs`: time is skipped there while the workers poll
 * (the sandbox queue's coordinator lives across tests: its timers must find a worker). Returns the
 * outcome, the stub log and the ledger row.
 */
async function runTask(e: TestWorkflowEnvironment, workflowId: string, atMs: number, plan: RunPlan, seed?: (l: Ledger, nowMs: number) => Promise<void>) {
  const { acts, log } = stubActivities({ plan: () => plan });
  const w = await startQueueRunWorkers({ connection: e.nativeConnection, client: e.client, taskQueue: TASK_QUEUE, config, stubs: acts });
  try {
    const req: TaskRequest = { source: { kind: 'cli' }, requester: 'dev', repo: plan.repo, title: 'Fix add()', task: 'Fix add()' };
    const out = await w.runUntil(async () => {
      await skipTo(e, atMs);
      await seed?.(w.ledger, await e.currentTimeMs());
      return e.client.workflow.execute(agentTask, { taskQueue: TASK_QUEUE, workflowId, args: [req] });
    });
    const row = await w.ledger.getRun(workflowId);
    return { out, log, row };
  } finally {
    // The sandbox queue's coordinator is not left with timers nobody serves between tests.
    await e.client.workflow.getHandle(coordinatorIdFor(TASK_QUEUE)).terminate('test done').catch(() => undefined);
    await w.teardown();
  }
}

describe('the overnight queue in the run, by skipping time', { timeout: 180_000, skip }, () => {
  test('submitted at 15:00 Berlin: waits, prepares at 22:00 local, opens its PR; the ledger has the run', async () => {
    const e = env!;
    const at15 = nextLocal(await e.currentTimeMs(), 15);
    const { out, log, row } = await runTask(e, 'cli-window-15', at15.toMillis(), stubPlan('calculator', { wallClockMs: HOUR, tokens: 1000, usd: 1 }));
    assert.equal(out.kind, 'pr_opened');
    const prepared = log.preparedAt.get('cli-window-15')!;
    assert.equal(local(prepared).slice(0, 20), at15.set({ hour: 22 }).toFormat('ccc yyyy-LL-dd HH:mm'), `prepared at ${local(prepared)}`);
    assert.equal(row?.run.status, 'done');
    assert.equal(row?.run.team, 'CALC');
    assert.equal(row?.run.outcome, 'pr_opened');
    assert.equal(row?.attempts.length, 1);
    assert.deepEqual(row?.validations.map((v) => v.attempt), [0, 1], 'tests before and attempt 1');
  });

  test('a run whose time budget would overrun the window waits for the next one', async () => {
    const e = env!;
    // 03:00 local: inside the 22:00–06:00 window, but only 3 h are left for a 4 h budget.
    const at3 = nextLocal(await e.currentTimeMs(), 3);
    const { out, log } = await runTask(e, 'cli-window-overrun', at3.toMillis(), stubPlan('calculator', { wallClockMs: 4 * HOUR, tokens: 1000, usd: 1 }));
    assert.equal(out.kind, 'pr_opened');
    assert.equal(local(log.preparedAt.get('cli-window-overrun')!).slice(0, 20), at3.set({ hour: 22 }).toFormat('ccc yyyy-LL-dd HH:mm'));
  });

  test('across the spring-forward night: 7 h that night do not fit a 7.5 h budget; it runs the next night', async () => {
    const e = env!;
    // The Saturday 15:00 before the last Sunday of March (clocks go 02:00 → 03:00 that night).
    const sat = nextLocal(await e.currentTimeMs(), 15, (d) => d.weekday === 6 && d.plus({ days: 1 }).offset !== d.offset);
    const { out, log } = await runTask(e, 'cli-window-dst', sat.toMillis(), stubPlan('calculator', { wallClockMs: 7.5 * HOUR, tokens: 1000, usd: 1 }));
    assert.equal(out.kind, 'pr_opened');
    const prepared = DateTime.fromMillis(log.preparedAt.get('cli-window-dst')!, { zone: TZ });
    assert.equal(prepared.toFormat('ccc HH:mm'), 'Sun 22:00', `prepared at ${local(prepared.toMillis())}`);
    assert.equal(prepared.offset, sat.offset + 60, 'after the change (CEST)');
  });

  test('a team at its daily cap: deferred with the message, then it runs the next day', async () => {
    const e = env!;
    const at23 = nextLocal(await e.currentTimeMs(), 23);
    const { out, log } = await runTask(e, 'cli-capped', at23.toMillis(), stubPlan('calculator', { wallClockMs: HOUR, tokens: 1000, usd: 4 }), async (ledger, nowMs) => {
      await ledger.upsertRun({ workflowId: 'earlier', repo: 'calculator', team: 'CALC', status: 'done', outcome: 'pr_opened', createdAt: nowMs - HOUR, startedAt: nowMs - HOUR, spend: { usd: 8, tokens: 1 } });
    });
    assert.equal(out.kind, 'pr_opened');
    const kinds = log.reports.map((r) => r.kind);
    assert.deepEqual(kinds, ['deferred', 'pr_opened']);
    assert.match(log.reports[0]!.markdown, /team CALC's daily cap is \$10\.00/);
    assert.equal(local(log.preparedAt.get('cli-capped')!).slice(0, 20), at23.plus({ days: 1 }).startOf('day').toFormat('ccc yyyy-LL-dd HH:mm'));
  });
});
