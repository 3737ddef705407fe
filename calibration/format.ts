/** Formatting shared by the report's Markdown and HTML. */
import type { Delta } from './build.js';

/** `42%`, or `–` when undefined. */
export const pct = (r: number | undefined): string => (r === undefined ? '–' : `${Math.round(r * 100)}%`);
/** `$1.23`, or `–`. */
export const usd = (n: number | undefined): string => (n === undefined ? '–' : `$${n.toFixed(2)}`);
/** `12 min`, `3.5 h`, `2.0 d`, or `–`. */
export function dur(ms: number | undefined): string {
  if (ms === undefined) return '–';
  const min = ms / 60_000;
  if (min < 90) return `${Math.round(min)} min`;
  if (min < 48 * 60) return `${(min / 60).toFixed(1)} h`;
  return `${(min / 1440).toFixed(1)} d`;
}
/** `a: 2, b: 1` by count. */
export const reasons = (r: Record<string, number>): string =>
  Object.entries(r)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '–';

/** A delta's current value, previous value and change, formatted by its unit. */
export function deltaText(d: Delta): { current: string; previous: string; change: string } {
  const f = (v: number | undefined): string => (d.unit === 'rate' ? pct(v) : d.unit === 'usd' ? usd(v) : d.unit === 'ms' ? dur(v) : v === undefined ? '–' : String(v));
  let change = '–';
  if (d.change !== undefined) {
    const sign = d.change > 0 ? '+' : d.change < 0 ? '−' : '±';
    const abs = Math.abs(d.change);
    change = d.unit === 'rate' ? `${sign}${Math.round(abs * 100)} pts` : `${sign}${f(abs)}`;
  }
  return { current: f(d.current), previous: f(d.previous), change };
}

/** `2024-05-06` (UTC). */
export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
