/**
 * Daily and monthly spend caps (USD) per team and per repository: which periods apply to a run,
 * and whether its dollar budget fits what is left. Pure (luxon zones; no clock, no I/O): the
 * `checkSpendCap` activity reads the spend so far from the ledger and asks {@link decideSpend}.
 *
 * A period is a local calendar day or month in the cap's IANA zone (`tz`); the next period starts
 * at the next local midnight (or the first of the next month), whatever DST does.
 */
import { DateTime } from 'luxon';

/** One cap, USD. At least one of the two is set. */
export interface SpendCap {
  /** Most a team or repository may spend in one local day, USD. */
  dailyUsd?: number;
  /** Most it may spend in one local calendar month, USD. */
  monthlyUsd?: number;
  /** IANA zone of the day and month boundaries (default UTC). */
  tz?: string;
}

/** `spendCaps` in the configuration: per team key and per repository name. */
export interface SpendCapsConfig {
  teams: Record<string, SpendCap>;
  repos: Record<string, SpendCap>;
}

/** One cap period that applies to a run, with its bounds. */
export interface CapPeriod {
  scope: 'team' | 'repo';
  /** Team key or repository name. */
  key: string;
  period: 'day' | 'month';
  capUsd: number;
  tz: string;
  /** Epoch ms, inclusive. */
  startMs: number;
  /** Epoch ms, exclusive: the start of the next period. */
  endMs: number;
}

/** A {@link CapPeriod} with what was spent in it so far (ledger, runs in flight included), USD. */
export interface CapUsage extends CapPeriod {
  spentUsd: number;
}

/** The verdict on a run's dollar budget. */
export type SpendDecision =
  | { kind: 'ok'; message: string }
  | { kind: 'defer'; /** Epoch ms: the start of the period after the binding cap's. */ untilMs: number; message: string; cap: CapUsage }
  | { kind: 'refuse'; message: string; cap: CapPeriod };

/** The local day or month containing `nowMs` in `tz`: `[startMs, endMs)`. */
export function periodBounds(nowMs: number, tz: string, period: 'day' | 'month'): { startMs: number; endMs: number } {
  const start = DateTime.fromMillis(nowMs, { zone: tz }).startOf(period);
  return { startMs: start.toMillis(), endMs: start.plus(period === 'day' ? { days: 1 } : { months: 1 }).toMillis() };
}

/**
 * The cap periods that apply to a run of `repo` for `team` (absent: no team cap) at `nowMs`: the
 * team's and the repository's daily and monthly caps, those configured.
 */
export function capPeriods(caps: SpendCapsConfig, target: { repo: string; team?: string }, nowMs: number): CapPeriod[] {
  const out: CapPeriod[] = [];
  const add = (scope: 'team' | 'repo', key: string, cap: SpendCap | undefined): void => {
    if (!cap) return;
    const tz = cap.tz ?? 'UTC';
    for (const [period, capUsd] of [['day', cap.dailyUsd], ['month', cap.monthlyUsd]] as const) {
      if (capUsd === undefined) continue;
      out.push({ scope, key, period, capUsd, tz, ...periodBounds(nowMs, tz, period) });
    }
  };
  if (target.team) add('team', target.team, caps.teams[target.team]);
  add('repo', target.repo, caps.repos[target.repo]);
  return out;
}

const usd = (n: number): string => `$${n.toFixed(2)}`;
/** `team CALC's daily cap`. */
export function capName(c: CapPeriod): string {
  return `${c.scope} ${c.key}'s ${c.period === 'day' ? 'daily' : 'monthly'} cap`;
}
const when = (ms: number, tz: string): string => DateTime.fromMillis(ms, { zone: tz }).toFormat("ccc d LLL HH:mm ZZZZ");

/**
 * Whether a run whose dollar budget is `runUsd` may start now: `refuse` when the budget alone is
 * above a cap (it could never run); `defer` until the next period of the cap that binds last when
 * spent + budget would pass a cap; else `ok`. Messages name the cap, what is left, and when the
 * run will run.
 */
export function decideSpend(usage: CapUsage[], runUsd: number): SpendDecision {
  const tooBig = usage.find((c) => runUsd > c.capUsd);
  if (tooBig) {
    return {
      kind: 'refuse',
      cap: tooBig,
      message: `Refused: this run's budget (${usd(runUsd)}) is above ${capName(tooBig)} of ${usd(tooBig.capUsd)}, so it could never run. Lower the budget or raise the cap.`,
    };
  }
  const over = usage.filter((c) => c.spentUsd + runUsd > c.capUsd).sort((a, b) => b.endMs - a.endMs);
  const binding = over[0];
  if (binding) {
    const left = Math.max(0, binding.capUsd - binding.spentUsd);
    return {
      kind: 'defer',
      cap: binding,
      untilMs: binding.endMs,
      message:
        `Deferred: ${capName(binding)} is ${usd(binding.capUsd)}; ${usd(binding.spentUsd)} is spent or reserved by runs in flight, ` +
        `${usd(left)} is left, and this run's budget is ${usd(runUsd)}. It will run when the next ${binding.period} starts, ${when(binding.endMs, binding.tz)}.`,
    };
  }
  if (usage.length === 0) return { kind: 'ok', message: 'no spend cap applies' };
  const tightest = [...usage].sort((a, b) => a.capUsd - a.spentUsd - (b.capUsd - b.spentUsd))[0]!;
  return { kind: 'ok', message: `within the caps (${capName(tightest)}: ${usd(tightest.capUsd - tightest.spentUsd)} left before this run's ${usd(runUsd)})` };
}
