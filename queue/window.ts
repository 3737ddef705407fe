/**
 * Run windows in IANA time zones, and when a run may start. Pure (luxon's zone data, no clock, no
 * I/O); used by the `admissionTime` activity, never by workflow code (luxon reads Intl).
 *
 * A window `{ tz: 'Europe/Berlin', start: '22:00', end: '06:00', days: ['mon', …] }` opens at
 * `start` local time on each day of `days` (the day it OPENS; all days when absent) and closes at
 * the next `end` local time: the same day when `end > start`, the next day otherwise (overnight);
 * `start === end` is a 24-hour window. Wall-clock times are read as "the first instant the local
 * clock shows that time": a time skipped by a spring-forward change (02:30 in Berlin on the last
 * Sunday of March) is the end of the gap (03:00 CEST); a time shown twice by a fall-back change is
 * its first occurrence. Zones: https://moment.github.io/luxon/#/zones
 */
import { DateTime, IANAZone } from 'luxon';

/** Day names, Monday first (luxon's `weekday` 1–7). */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
/** A day of the week. */
export type Weekday = (typeof WEEKDAYS)[number];

/** A run window: local times `HH:MM` (24-hour) in an IANA zone. */
export interface RunWindow {
  /** IANA zone name, e.g. `Europe/Berlin`, `America/New_York`, `Asia/Kolkata`, `UTC`. */
  tz: string;
  /** Opening time, `HH:MM` local. */
  start: string;
  /** Closing time, `HH:MM` local; at or before `start`: the next day. */
  end: string;
  /** Days on which the window opens; absent or empty: every day. */
  days?: Weekday[];
  /** Where the window comes from, for messages (`repo calculator`, `team CALC`). */
  label?: string;
}

/** The old configuration form: UTC hours, `[startHourUtc, endHourUtc)`. */
export interface LegacyUtcWindow {
  startHourUtc: number;
  endHourUtc: number;
}

/** When a run may start: at once (`atMs` = now), later, or never (no window is long enough). */
export type Admission =
  | { kind: 'now' | 'wait'; /** Epoch ms. */ atMs: number; reason: string }
  | { kind: 'never'; reason: string };

/** Thrown for a window that cannot be read (bad zone or time); `code` WINDOW_INVALID. */
export class WindowError extends Error {
  readonly code = 'WINDOW_INVALID';
  constructor(
    message: string,
    readonly details: { window: unknown },
  ) {
    super(message);
    this.name = 'WindowError';
  }
}

const MINUTE = 60_000;
/** How far ahead openings are searched, days (covers weekly `days` lists twice). */
const HORIZON_DAYS = 15;

/** Converts the old UTC-hour form to a {@link RunWindow}; a new-form window is returned as is. */
export function toRunWindow(w: RunWindow | LegacyUtcWindow): RunWindow {
  if ('tz' in w) return w;
  const hh = (h: number): string => `${String(h).padStart(2, '0')}:00`;
  return { tz: 'UTC', start: hh(w.startHourUtc), end: hh(w.endHourUtc) };
}

/** Whether `tz` is an IANA zone name this runtime knows. */
export function isValidZone(tz: string): boolean {
  return IANAZone.isValidZone(tz);
}

/** `HH:MM` → minutes after midnight. @throws WindowError when malformed. */
export function parseClock(hhmm: string, window?: unknown): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new WindowError(`"${hhmm}" is not a time HH:MM (24-hour)`, { window });
  return Number(m[1]) * 60 + Number(m[2]);
}

/**
 * The first instant (epoch ms) at which the clock of `zone` shows `minutes` after midnight on the
 * local date `y-m-d` (see the module doc for DST gaps and overlaps).
 */
export function localInstant(zone: IANAZone, y: number, m: number, d: number, minutes: number): number {
  const wall = Date.UTC(y, m - 1, d, 0, minutes);
  // The offsets in force around that wall time (a change happens at most once in a day here).
  const around = [zone.offset(wall - 14 * 60 * MINUTE), zone.offset(wall + 14 * 60 * MINUTE)];
  const valid = around.map((off) => wall - off * MINUTE).filter((t) => zone.offset(t) === (wall - t) / MINUTE);
  if (valid.length > 0) return Math.min(...valid);
  // A gap: the wall time never shows; the clock jumps past it at the transition. Find it.
  let lo = wall - Math.max(...around) * MINUTE; // still the old offset
  let hi = wall - Math.min(...around) * MINUTE; // already the new one
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (zone.offset(mid) === zone.offset(lo)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** One opening of a window: `[openMs, closeMs)`. */
export interface Opening {
  openMs: number;
  closeMs: number;
}

/**
 * The openings of `window` that overlap `[fromMs, toMs)`, in order, adjacent ones merged (a
 * 24-hour window every day is one long opening).
 * @throws WindowError for an unknown zone or a malformed time
 */
export function openings(window: RunWindow, fromMs: number, toMs: number): Opening[] {
  const zone = IANAZone.create(window.tz);
  if (!zone.isValid) throw new WindowError(`"${window.tz}" is not an IANA time zone`, { window });
  const start = parseClock(window.start, window);
  const end = parseClock(window.end, window);
  const days = window.days && window.days.length > 0 ? new Set(window.days) : undefined;
  const out: Opening[] = [];
  // From the day before `fromMs` (an overnight opening that started then) to past `toMs`.
  let day = DateTime.fromMillis(fromMs, { zone }).startOf('day').minus({ days: 1 });
  const last = DateTime.fromMillis(toMs, { zone }).startOf('day');
  for (; day <= last; day = day.plus({ days: 1 })) {
    if (days && !days.has(WEEKDAYS[day.weekday - 1]!)) continue;
    const openMs = localInstant(zone, day.year, day.month, day.day, start);
    const closeDay = end > start ? day : day.plus({ days: 1 });
    const closeMs = localInstant(zone, closeDay.year, closeDay.month, closeDay.day, end);
    if (closeMs <= fromMs || openMs >= toMs) continue;
    const prev = out.at(-1);
    if (prev && openMs <= prev.closeMs) prev.closeMs = Math.max(prev.closeMs, closeMs);
    else out.push({ openMs, closeMs });
  }
  return out;
}

/** `tz start–end (days)` for messages. */
export function describeWindow(w: RunWindow): string {
  const days = w.days && w.days.length > 0 && w.days.length < 7 ? ` ${w.days.join(',')}` : '';
  return `${w.label ? `${w.label}: ` : ''}${w.start}–${w.end}${days} ${w.tz}`;
}

/** `Tue 22:00 CET` in the window's zone. */
function localLabel(ms: number, tz: string): string {
  return DateTime.fromMillis(ms, { zone: tz }).toFormat('ccc HH:mm ZZZZ');
}

/** `1 h 30 min`. */
export function formatDuration(ms: number): string {
  const min = Math.ceil(ms / MINUTE);
  const h = Math.floor(min / 60);
  const rest = min % 60;
  return h > 0 ? `${h} h${rest ? ` ${rest} min` : ''}` : `${rest} min`;
}

/**
 * When a run expected to take `expectedDurationMs` (its time budget) may start at or after
 * `nowMs`: at once when it is inside every window with time to finish before each closes; else the
 * first instant at which it is (the next opening where it fits); `never` when no such instant
 * exists within 15 days (a window shorter than the run). No windows: at once.
 * @throws WindowError for an unknown zone or a malformed time
 */
export function nextAdmission(nowMs: number, windows: RunWindow[], expectedDurationMs: number): Admission {
  if (windows.length === 0) return { kind: 'now', atMs: nowMs, reason: 'no run window' };
  const toMs = nowMs + HORIZON_DAYS * 24 * 60 * MINUTE;
  // Per window, the instants a run may start: [open, close - duration] of each opening.
  const starts = windows.map((w) =>
    openings(w, nowMs, toMs + expectedDurationMs)
      .map((o) => ({ from: o.openMs, to: o.closeMs - expectedDurationMs }))
      .filter((r) => r.to >= r.from && r.to >= nowMs),
  );
  const admits = (t: number): boolean => starts.every((ranges) => ranges.some((r) => r.from <= t && t <= r.to));
  const needs = formatDuration(expectedDurationMs);
  if (admits(nowMs)) {
    const closes = Math.min(...starts.map((ranges) => ranges.find((r) => r.from <= nowMs && nowMs <= r.to)!.to + expectedDurationMs));
    const names = windows.map(describeWindow).join('; ');
    return { kind: 'now', atMs: nowMs, reason: `inside the run window (${names}) with time to finish (${needs}) before it closes at ${localLabel(closes, windows[0]!.tz)}` };
  }
  const candidates = [...new Set(starts.flat().map((r) => r.from).filter((t) => t > nowMs))].sort((a, b) => a - b);
  const at = candidates.find(admits);
  if (at === undefined) {
    return { kind: 'never', reason: `no opening of the run window (${windows.map(describeWindow).join('; ')}) in the next ${HORIZON_DAYS} days is long enough for the run's time budget (${needs})` };
  }
  const inside = windows.every((_, i) => openings(windows[i]!, nowMs, nowMs + 1).some((o) => o.openMs <= nowMs && nowMs < o.closeMs));
  const why = inside ? `the run (up to ${needs}) would not finish before the window closes` : 'outside the run window';
  return { kind: 'wait', atMs: at, reason: `${why}; waits until ${windows.map((w) => localLabel(at, w.tz)).join(' / ')} (${windows.map(describeWindow).join('; ')})` };
}
