/**
 * Run windows in IANA zones (queue/window.ts): Berlin, New York, Kolkata, overnight windows, days,
 * DST spring-forward and fall-back, a run that would overrun waits, several windows at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localInstant, nextAdmission, openings, toRunWindow, WindowError, type RunWindow } from '../../queue/window.js';
import { IANAZone } from 'luxon';
import { msUntilWindow } from '../../workflows/prompt.js';

const H = 3_600_000;
const at = (iso: string): number => Date.parse(iso);
const berlinNight: RunWindow = { tz: 'Europe/Berlin', start: '22:00', end: '06:00' };

function admitted(nowIso: string, windows: RunWindow[], hours: number): { kind: string; at?: string; reason: string } {
  const a = nextAdmission(at(nowIso), windows, hours * H);
  return a.kind === 'never' ? a : { kind: a.kind, at: new Date(a.atMs).toISOString(), reason: a.reason };
}

test('Berlin: submitted at 15:00 local, starts at 22:00 local (winter CET and summer CEST)', () => {
  const winter = admitted('2025-01-15T14:00:00Z', [berlinNight], 2);
  assert.equal(winter.kind, 'wait');
  assert.equal(winter.at, '2025-01-15T21:00:00.000Z');
  assert.match(winter.reason, /outside the run window; waits until Wed 22:00 GMT\+1/);
  assert.equal(admitted('2025-07-15T13:00:00Z', [berlinNight], 2).at, '2025-07-15T20:00:00.000Z');
});

test('New York and Kolkata: 22:00 local is a different instant in each zone', () => {
  const ny = admitted('2025-07-01T19:00:00Z', [{ tz: 'America/New_York', start: '22:00', end: '06:00' }], 1);
  assert.equal(ny.at, '2025-07-02T02:00:00.000Z'); // EDT, UTC−4
  const nyWinter = admitted('2025-01-06T20:00:00Z', [{ tz: 'America/New_York', start: '22:00', end: '06:00' }], 1);
  assert.equal(nyWinter.at, '2025-01-07T03:00:00.000Z'); // EST, UTC−5
  const kolkata = admitted('2025-07-01T09:30:00Z', [{ tz: 'Asia/Kolkata', start: '22:00', end: '06:00' }], 1);
  assert.equal(kolkata.at, '2025-07-01T16:30:00.000Z'); // IST, UTC+5:30
});

test('inside an overnight window with time to finish: now; a run that would overrun the close waits for the next opening', () => {
  const inside = admitted('2025-01-15T22:30:00Z', [berlinNight], 2); // 23:30 CET
  assert.equal(inside.kind, 'now');
  assert.equal(inside.at, '2025-01-15T22:30:00.000Z');
  assert.match(inside.reason, /before it closes at Thu 06:00/);
  // 04:30 CET, 2 h budget: the window closes at 06:00, so it waits for 22:00 the same day.
  const late = admitted('2025-01-16T03:30:00Z', [berlinNight], 2);
  assert.equal(late.kind, 'wait');
  assert.equal(late.at, '2025-01-16T21:00:00.000Z');
  assert.match(late.reason, /would not finish before the window closes/);
  // Exactly fitting is fine: 04:00 CET with 2 h ends at 06:00.
  assert.equal(admitted('2025-01-16T03:00:00Z', [berlinNight], 2).kind, 'now');
});

test('days are the days a window opens: Friday night runs into Saturday; Saturday afternoon waits for Monday night', () => {
  const weekdays: RunWindow = { ...berlinNight, days: ['mon', 'tue', 'wed', 'thu', 'fri'] };
  // Sat 2025-01-18 01:00 CET: inside Friday's opening.
  assert.equal(admitted('2025-01-18T00:00:00Z', [weekdays], 1).kind, 'now');
  // Sat 15:00 CET → Mon 2025-01-20 22:00 CET.
  assert.equal(admitted('2025-01-18T14:00:00Z', [weekdays], 1).at, '2025-01-20T21:00:00.000Z');
  // A daytime window on weekends only.
  const weekend: RunWindow = { tz: 'Europe/Berlin', start: '09:00', end: '17:00', days: ['sat', 'sun'] };
  assert.equal(admitted('2025-01-15T12:00:00Z', [weekend], 1).at, '2025-01-18T08:00:00.000Z');
});

test('DST spring-forward: a 02:30 start on the night Berlin skips 02:00–03:00 opens at 03:00 CEST; the night is an hour shorter', () => {
  // 2025-03-30: 02:00 CET → 03:00 CEST (01:00Z).
  const zone = IANAZone.create('Europe/Berlin');
  assert.equal(new Date(localInstant(zone, 2025, 3, 30, 150)).toISOString(), '2025-03-30T01:00:00.000Z');
  const early: RunWindow = { tz: 'Europe/Berlin', start: '02:30', end: '05:00' };
  assert.equal(admitted('2025-03-29T23:00:00Z', [early], 1).at, '2025-03-30T01:00:00.000Z');
  // 22:00 CET (21:00Z) → 06:00 CEST (04:00Z): 7 hours that night.
  const [night] = openings(berlinNight, at('2025-03-29T20:00:00Z'), at('2025-03-29T22:00:00Z'));
  assert.deepEqual(night, { openMs: at('2025-03-29T21:00:00Z'), closeMs: at('2025-03-30T04:00:00Z') });
  // A 7.5-hour run does not fit that night; it starts the next night (22:00 CEST = 20:00Z, 8 hours).
  assert.equal(admitted('2025-03-29T12:00:00Z', [berlinNight], 7.5).at, '2025-03-30T20:00:00.000Z');
  assert.equal(admitted('2025-03-29T12:00:00Z', [berlinNight], 7).at, '2025-03-29T21:00:00.000Z');
});

test('DST fall-back: a repeated 02:30 is its first occurrence; the night is an hour longer', () => {
  // 2025-10-26: 03:00 CEST → 02:00 CET (01:00Z); 02:30 is shown at 00:30Z and at 01:30Z.
  const zone = IANAZone.create('Europe/Berlin');
  assert.equal(new Date(localInstant(zone, 2025, 10, 26, 150)).toISOString(), '2025-10-26T00:30:00.000Z');
  // 22:00 CEST (20:00Z) → 06:00 CET (05:00Z): 9 hours, so an 8.5-hour run fits.
  assert.equal(admitted('2025-10-25T12:00:00Z', [berlinNight], 8.5).at, '2025-10-25T20:00:00.000Z');
  // New York falls back a week later (2025-11-02): 22:00 EDT (02:00Z) → 06:00 EST (11:00Z).
  const ny = openings({ tz: 'America/New_York', start: '22:00', end: '06:00' }, at('2025-11-02T03:00:00Z'), at('2025-11-02T03:00:01Z'));
  assert.deepEqual(ny, [{ openMs: at('2025-11-02T02:00:00Z'), closeMs: at('2025-11-02T11:00:00Z') }]);
});

test('several windows (repository and team): the run starts when it fits inside all of them', () => {
  // Berlin 22–06 and New York 18–23 (winter): both open from 00:00 to 05:00 Berlin time.
  const team: RunWindow = { tz: 'America/New_York', start: '18:00', end: '23:00', label: 'team CALC' };
  const a = admitted('2025-01-15T14:00:00Z', [berlinNight, team], 1);
  assert.equal(a.at, '2025-01-15T23:00:00.000Z');
  assert.match(a.reason, /team CALC: 18:00–23:00 America\/New_York/);
  // 4.5 h fits in the 5-hour overlap; 5.5 h never does.
  assert.equal(admitted('2025-01-15T14:00:00Z', [berlinNight, team], 4.5).kind, 'wait');
  assert.equal(admitted('2025-01-15T14:00:00Z', [berlinNight, team], 5.5).kind, 'never');
});

test('a run longer than any opening is never admitted; no window admits at once; a 24-hour window every day is always open', () => {
  const never = admitted('2025-01-15T14:00:00Z', [{ tz: 'UTC', start: '01:00', end: '03:00' }], 3);
  assert.equal(never.kind, 'never');
  assert.match(never.reason, /long enough for the run's time budget \(3 h\)/);
  assert.equal(admitted('2025-01-15T14:00:00Z', [], 3).kind, 'now');
  // 00:00–00:00 every day merges into one opening: a 30-hour run fits now.
  assert.equal(admitted('2025-01-15T14:00:00Z', [{ tz: 'Asia/Kolkata', start: '00:00', end: '00:00' }], 30).kind, 'now');
});

test('the old UTC-hour form reads as a UTC window and agrees with msUntilWindow', () => {
  const legacy = { startHourUtc: 22, endHourUtc: 6 };
  assert.deepEqual(toRunWindow(legacy), { tz: 'UTC', start: '22:00', end: '06:00' });
  for (const iso of ['2025-01-15T14:00:00Z', '2025-01-15T23:00:00Z', '2025-01-16T05:59:00Z', '2025-01-16T06:00:00Z']) {
    const a = nextAdmission(at(iso), [toRunWindow(legacy)], 1);
    assert.ok(a.kind !== 'never');
    assert.equal(a.atMs - at(iso), msUntilWindow(at(iso), legacy), iso);
  }
});

test('an unknown zone or a malformed time is a typed WindowError', () => {
  assert.throws(() => nextAdmission(0, [{ tz: 'Mars/Olympus', start: '22:00', end: '06:00' }], H), (e: unknown) => e instanceof WindowError && e.code === 'WINDOW_INVALID');
  assert.throws(() => nextAdmission(0, [{ tz: 'UTC', start: '25:00', end: '06:00' }], H), WindowError);
});
