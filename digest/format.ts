/** Small formatting helpers shared by the digest's Markdown and Block Kit renderings. */
import { DateTime } from 'luxon';
import type { CapUsage } from '../queue/spendCaps.js';
import type { Digest } from './build.js';

/** `$1.23`. */
export const usd = (n: number): string => `$${n.toFixed(2)}`;

/** `3 h 20 min`, `2 d 4 h`, `12 min`. */
export function age(ms: number): string {
  const min = Math.floor(ms / 60_000);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h${min % 60 ? ` ${min % 60} min` : ''}`;
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

/** `12.3k tokens`. */
export const tokens = (n: number): string => (n >= 1000 ? `${(n / 1000).toFixed(1)}k tokens` : `${n} tokens`);

/** `$18.40 of $20.00 today (Europe/Berlin), $1.60 left`. */
export function capText(c: CapUsage): string {
  const left = Math.max(0, c.capUsd - c.spentUsd);
  return `${usd(c.spentUsd)} of ${usd(c.capUsd)} ${c.period === 'day' ? 'today' : 'this month'} (${c.tz}), ${usd(left)} left`;
}

/** The digest's heading: team and period, in `tz`. */
export function heading(d: Digest, tz = 'UTC'): string {
  const f = (ms: number): string => DateTime.fromMillis(ms, { zone: tz }).toFormat('ccc d LLL HH:mm');
  return `Nightshift digest${d.team ? ` — ${d.team}` : ''}: ${f(d.sinceMs)} → ${f(d.nowMs)} (${tz})`;
}

/** One line of totals. */
export function totalsLine(d: Digest): string {
  const t = d.totals;
  return `${t.runs} runs · ${t.prs} PRs opened · ${t.escalations} waiting for a human · ${t.ended} rejected or failed · ${t.open} still queued or running · ${usd(t.usd)} · ${tokens(t.tokens)}`;
}

/** Shortens to `max` characters with an ellipsis. */
export function clip(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}
