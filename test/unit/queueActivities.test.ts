/**
 * The queue timing activities: `admissionTime` (repository + team windows, the time budget, --now)
 * and `checkSpendCap` on a real SQLite ledger (a team at its daily cap is deferred with the
 * message; the next day the run fits).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createQueueActivities, teamOfRepo, windowsOf } from '../../activities/queue.js';
import { openLedger } from '../../ledger/open.js';
import type { RunPlan } from '../../workflows/activityTypes.js';
import { parseConfig } from '../../worker/config.js';

const at = (iso: string): number => Date.parse(iso);
const config = parseConfig({
  gateway: { prices: {} },
  linear: { teams: { CALC: 'calculator' } },
  teams: { CALC: { window: { tz: 'America/New_York', start: '18:00', end: '23:00' } } },
  spendCaps: { teams: { CALC: { dailyUsd: 10, tz: 'Europe/Berlin' } } },
  repos: { calculator: { url: '/tmp/none', github: 'acme/calculator', testCommand: 'true', budget: { minutes: 60, tokens: 1000, usd: 4 }, window: { tz: 'Europe/Berlin', start: '22:00', end: '06:00' } } },
});
const plan = { repo: 'calculator', budget: { wallClockMs: 3_600_000, tokens: 1000, usd: 4 } } as RunPlan;

test('admissionTime: the repository and its team (from linear.teams) windows together; --now bypasses them', async () => {
  assert.equal(teamOfRepo(config, 'calculator'), 'CALC');
  assert.deepEqual(windowsOf(config, 'calculator').map((w) => w.label), ['repo calculator', 'team CALC']);
  const acts = createQueueActivities({ config, now: () => at('2025-01-15T14:00:00Z') });
  const a = await acts.admissionTime({ plan });
  assert.ok(a.kind === 'wait');
  assert.equal(new Date(a.atMs).toISOString(), '2025-01-15T23:00:00.000Z'); // 00:00 Berlin = 18:00 New York
  const now = await acts.admissionTime({ plan, now: true });
  assert.ok(now.kind === 'now' && now.atMs === at('2025-01-15T14:00:00Z'));
});

test('checkSpendCap: a team at its daily cap is deferred to its next local day, with the message; the next day it runs', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ns-caps-'));
  const ledger = await openLedger({ stateDir });
  try {
    const day = at('2025-01-15T10:00:00Z');
    await ledger.upsertRun({ workflowId: 'a', repo: 'calculator', team: 'CALC', status: 'done', outcome: 'pr_opened', createdAt: day - 3_600_000, startedAt: day - 3_600_000, spend: { usd: 5.5, tokens: 1 } });
    // In flight: counted at its latest known spend.
    await ledger.upsertRun({ workflowId: 'b', repo: 'calculator', team: 'CALC', status: 'running', createdAt: day, startedAt: day, spend: { usd: 1, tokens: 1 } });
    const today = await createQueueActivities({ config, ledger, now: () => day }).checkSpendCap({ plan, workflowId: 'c' });
    assert.equal(today.kind, 'defer');
    assert.ok(today.kind === 'defer');
    assert.equal(today.untilMs, at('2025-01-15T23:00:00Z'));
    assert.match(today.message, /team CALC's daily cap is \$10\.00; \$6\.50 is spent or reserved by runs in flight, \$3\.50 is left, and this run's budget is \$4\.00\. It will run when the next day starts, Thu 16 Jan 00:00/);
    const tomorrow = await createQueueActivities({ config, ledger, now: () => today.untilMs }).checkSpendCap({ plan, workflowId: 'c' });
    assert.equal(tomorrow.kind, 'ok');
    const big = await createQueueActivities({ config, ledger, now: () => day }).checkSpendCap({ plan: { ...plan, budget: { ...plan.budget, usd: 11 } }, workflowId: 'c' });
    assert.equal(big.kind, 'refuse');
    await assert.rejects(createQueueActivities({ config, now: () => day }).checkSpendCap({ plan, workflowId: 'c' }), (e: { code?: string }) => e.code === 'CONFIG_INVALID');
  } finally {
    await ledger.close();
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('reserveSpendCap: runs woken together all pass checkSpendCap, but once granted only those that fit reserve; the others are deferred', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ns-caps-'));
  const ledger = await openLedger({ stateDir });
  try {
    // 22:00 Berlin: three runs requested in the afternoon wake at their window's opening.
    const opening = at('2025-01-15T21:00:00Z');
    for (const id of ['x', 'y', 'z']) await ledger.upsertRun({ workflowId: id, repo: 'calculator', team: 'CALC', status: 'waiting', createdAt: opening - 7 * 3_600_000 });
    const acts = createQueueActivities({ config, ledger, now: () => opening });
    const first = await Promise.all(['x', 'y', 'z'].map((workflowId) => acts.checkSpendCap({ plan, workflowId })));
    assert.deepEqual(first.map((d) => d.kind), ['ok', 'ok', 'ok']);
    const granted = await Promise.all(['x', 'y', 'z'].map((workflowId) => acts.reserveSpendCap({ plan, workflowId, spentUsd: 0 })));
    assert.deepEqual(granted.map((d) => d.kind), ['ok', 'ok', 'defer']);
    const z = granted[2]!;
    assert.ok(z.kind === 'defer');
    assert.match(z.message, /^Deferred: team CALC's daily cap is \$10\.00; \$8\.00 is spent or reserved by runs in flight, \$2\.00 is left/);
    // The deferred run's own pre-check now says the same (reservations counted), the reserved ones still fit.
    assert.equal((await acts.checkSpendCap({ plan, workflowId: 'z' })).kind, 'defer');
    // A reserved run asking again (after guidance, with $3 spent) counts at its own spend: 4 (y) + 3 + 4 > 10.
    await ledger.upsertRun({ workflowId: 'x', status: 'running', startedAt: opening, spend: { usd: 3, tokens: 1 } });
    assert.equal((await acts.reserveSpendCap({ plan, workflowId: 'x', spentUsd: 3 })).kind, 'defer');
  } finally {
    await ledger.close();
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('releaseSpendReservation: a run giving its slot back counts at what it spent, before its final ledger write, so the next run granted that slot fits', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ns-caps-'));
  const ledger = await openLedger({ stateDir });
  try {
    const opening = at('2025-01-15T21:00:00Z');
    for (const id of ['x', 'y', 'z']) await ledger.upsertRun({ workflowId: id, repo: 'calculator', team: 'CALC', status: 'waiting', createdAt: opening - 7 * 3_600_000 });
    const acts = createQueueActivities({ config, ledger, now: () => opening });
    assert.deepEqual((await Promise.all(['x', 'y'].map((workflowId) => acts.reserveSpendCap({ plan, workflowId, spentUsd: 0 })))).map((d) => d.kind), ['ok', 'ok']);
    // x is done after spending $0.50 but its recorder has not written yet (status still running, spend 0): z does not fit.
    await ledger.upsertRun({ workflowId: 'x', status: 'running', startedAt: opening });
    assert.equal((await acts.checkSpendCap({ plan, workflowId: 'z' })).kind, 'defer');
    // x gives its slot back: its reservation goes, its spend is raised to what the workflow knows.
    await acts.releaseSpendReservation({ workflowId: 'x', spentUsd: 0.5 });
    const row = await ledger.getRun('x');
    assert.equal(row?.run.spend.usd, 0.5);
    assert.equal((await acts.reserveSpendCap({ plan, workflowId: 'z', spentUsd: 0 })).kind, 'ok', '0.5 + 4 (y) + 4 (z) fits the $10 day');
    // A spend already recorded higher is kept.
    await acts.releaseSpendReservation({ workflowId: 'y', spentUsd: 0 });
    await ledger.upsertRun({ workflowId: 'y', spend: { usd: 2, tokens: 1 } });
    await acts.releaseSpendReservation({ workflowId: 'y', spentUsd: 1 });
    assert.equal((await ledger.getRun('y'))?.run.spend.usd, 2);
    // Without a ledger there is nothing to release.
    await createQueueActivities({ config: { ...config } }).releaseSpendReservation({ workflowId: 'x', spentUsd: 1 });
  } finally {
    await ledger.close();
    await rm(stateDir, { recursive: true, force: true });
  }
});
