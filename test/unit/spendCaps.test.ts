/**
 * Spend caps (queue/spendCaps.ts): local day and month periods, ok / defer / refuse with messages
 * that name the cap, what is left and when the run will run; the configuration's validation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capPeriods, decideSpend, periodBounds, type CapUsage, type SpendCapsConfig } from '../../queue/spendCaps.js';
import { parseConfig } from '../../worker/config.js';

const at = (iso: string): number => Date.parse(iso);
const caps: SpendCapsConfig = {
  teams: { CALC: { dailyUsd: 20, monthlyUsd: 200, tz: 'Europe/Berlin' } },
  repos: { calculator: { dailyUsd: 50 } },
};
const withSpend = (nowIso: string, spent: (c: { scope: string; period: string }) => number): CapUsage[] =>
  capPeriods(caps, { repo: 'calculator', team: 'CALC' }, at(nowIso)).map((c) => ({ ...c, spentUsd: spent(c) }));

test('periods are local days and months in the cap zone, DST days included', () => {
  // 2025-03-30 in Berlin is 23 hours long.
  const day = periodBounds(at('2025-03-30T12:00:00Z'), 'Europe/Berlin', 'day');
  assert.deepEqual(day, { startMs: at('2025-03-29T23:00:00Z'), endMs: at('2025-03-30T22:00:00Z') });
  const month = periodBounds(at('2025-01-31T23:30:00Z'), 'Europe/Berlin', 'month'); // already February in Berlin
  assert.deepEqual(month, { startMs: at('2025-01-31T23:00:00Z'), endMs: at('2025-02-28T23:00:00Z') });
  const periods = capPeriods(caps, { repo: 'calculator', team: 'CALC' }, at('2025-01-15T12:00:00Z'));
  assert.deepEqual(periods.map((p) => `${p.scope}:${p.key}:${p.period}:${p.capUsd}:${p.tz}`), ['team:CALC:day:20:Europe/Berlin', 'team:CALC:month:200:Europe/Berlin', 'repo:calculator:day:50:UTC']);
  assert.deepEqual(capPeriods(caps, { repo: 'other' }, 0), []);
});

test('within every cap: ok', () => {
  const d = decideSpend(withSpend('2025-01-15T12:00:00Z', () => 10), 5);
  assert.equal(d.kind, 'ok');
  assert.match(d.message, /team CALC's daily cap: \$10\.00 left/);
});

test("a team at its daily cap: the run is deferred to the team's next local midnight, and the message says which cap, what is left and when", () => {
  const d = decideSpend(withSpend('2025-01-15T12:00:00Z', (c) => (c.scope === 'team' && c.period === 'day' ? 18.4 : 20)), 5);
  assert.equal(d.kind, 'defer');
  assert.ok(d.kind === 'defer');
  assert.equal(d.untilMs, at('2025-01-15T23:00:00Z')); // 00:00 CET on the 16th
  assert.match(d.message, /team CALC's daily cap is \$20\.00; \$18\.40 is spent or reserved by runs in flight, \$1\.60 is left, and this run's budget is \$5\.00/);
  assert.match(d.message, /It will run when the next day starts, Thu 16 Jan 00:00 GMT\+1/);
  // The next day: the daily spend starts over, the run fits.
  assert.equal(decideSpend(withSpend('2025-01-15T23:00:00Z', (c) => (c.period === 'day' ? 0 : 25)), 5).kind, 'ok');
});

test('several caps over: the one that frees last decides (the month)', () => {
  const d = decideSpend(withSpend('2025-01-15T12:00:00Z', (c) => (c.period === 'month' ? 199 : 19)), 5);
  assert.ok(d.kind === 'defer');
  assert.equal(d.cap.period, 'month');
  assert.equal(d.untilMs, at('2025-01-31T23:00:00Z'));
  assert.match(d.message, /team CALC's monthly cap is \$200\.00; \$199\.00 is spent/);
});

test('a budget above the cap itself is refused, whatever was spent', () => {
  const d = decideSpend(withSpend('2025-01-15T12:00:00Z', () => 0), 25);
  assert.equal(d.kind, 'refuse');
  assert.match(d.message, /this run's budget \(\$25\.00\) is above team CALC's daily cap of \$20\.00/);
});

test('configuration: caps, team windows and the digest validate; a bad zone names its key', () => {
  const base = {
    gateway: { prices: {} },
    repos: { calculator: { url: '/tmp/x', github: 'a/b', testCommand: 'true', budget: { minutes: 10, tokens: 1000, usd: 1 }, team: 'CALC', window: { tz: 'Europe/Berlin', start: '22:00', end: '06:00', days: ['mon', 'fri'] } } },
  };
  const c = parseConfig({ ...base, teams: { CALC: { window: { startHourUtc: 22, endHourUtc: 6 } } }, spendCaps: { teams: { CALC: { dailyUsd: 20 } } }, digest: { teams: { CALC: { channel: 'C1', tz: 'Asia/Kolkata' } } } });
  assert.equal(c.spendCaps.teams.CALC!.tz, 'UTC');
  assert.deepEqual(c.digest.teams.CALC, { channel: 'C1', at: '08:00', tz: 'Asia/Kolkata', sinceHours: 24 });
  assert.throws(() => parseConfig({ ...base, spendCaps: { teams: { CALC: { dailyUsd: 20, tz: 'Europe/Berlim' } } } }), (e: Error & { issues?: string[] }) => e.issues?.some((i) => i.startsWith('spendCaps.teams.CALC.tz: expected an IANA time zone')) === true);
  assert.throws(() => parseConfig({ ...base, spendCaps: { repos: { calculator: { tz: 'UTC' } } } }), /set dailyUsd, monthlyUsd or both/);
  assert.throws(() => parseConfig({ ...base, repos: { calculator: { ...base.repos.calculator, window: { tz: 'UTC', start: '22:00', end: '6' } } } }), /repos\.calculator\.window/);
});
