/**
 * The weekly calibration report's numbers (issue 12, item 4), from ledger rows: per task type,
 * model, repository and requester, how often runs succeed (PR opened; PR merged), escalate (and
 * the stuck rules and budgets behind it), what they cost and how long they take; week-over-week
 * changes; the most expensive failures; and the routing changes the data supports. Pure: the
 * activity and `nightshift report` read the ledger (collect.ts) and call {@link buildCalibration}.
 *
 * Definitions (also in the README):
 * - A run counts in the period of its creation once settled: `done`, or `awaiting_human`.
 * - Escalated: waiting for a human, or ended `escalation_timed_out` / `handed_over`. Its reason is
 *   the last attempt's stuck rule (`stuck:RULE`) or budget (`budget:KIND`), else `other`.
 * - Success (routing): a PR opened and not closed unmerged.
 * - Time: `finishedAt − startedAt` of done runs (ms). Cost: the run's spend (USD).
 */
import type { AttemptRow, PullRequestRow, RunRow } from '../ledger/types.js';
import { routingSuggestions, type RoutingSuggestion } from './routing.js';
import { quantile, rate, sum } from './stats.js';

/** Dimensions the report groups by. */
export const DIMENSIONS = ['taskType', 'model', 'repo', 'requester'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** Figures of one group of runs (all rates 0…1, `undefined` when there are no runs). */
export interface GroupStats {
  key: string;
  runs: number;
  prsOpened: number;
  prsMerged: number;
  /** PRs closed without merging. */
  prsClosedUnmerged: number;
  escalations: number;
  prRate?: number;
  mergeRate?: number;
  escalationRate?: number;
  /** `stuck:no_progress` / `budget:usd` / `other` → escalations. */
  escalationReasons: Record<string, number>;
  /** USD. */
  totalUsd: number;
  medianUsd?: number;
  p90Usd?: number;
  /** Run duration, ms. */
  medianMs?: number;
  p90Ms?: number;
  /** All the group's spend divided by its merged PRs, USD. */
  usdPerMergedPr?: number;
  /** Commits pushed by humans on the group's PRs. */
  humanCommits: number;
  /** Median time from PR opened to merged, ms. */
  medianTimeToMergeMs?: number;
  /** Mean review rounds of the group's PRs. */
  meanReviewRounds?: number;
}

/** One failed run, with where to look. */
export interface ExpensiveFailure {
  workflowId: string;
  title: string;
  repo: string;
  taskType: string;
  model: string;
  usd: number;
  /** `failed`, `escalated: stuck:no_progress`, … */
  what: string;
  /** `nightshift runs show ID`. */
  command: string;
  /** The run in the Temporal Web UI. */
  traceUrl: string;
}

/** One figure this period against the previous one. */
export interface Delta {
  metric: string;
  current?: number;
  previous?: number;
  /** `current − previous`, when both exist. */
  change?: number;
  unit: 'rate' | 'usd' | 'count' | 'ms';
}

/** A daily point of a chart series (UTC day). */
export interface DailyPoint {
  /** `YYYY-MM-DD`. */
  day: string;
  /** `taskType` or `model` value. */
  series: string;
  dimension: 'taskType' | 'model';
  runs: number;
  successRate: number;
  usd: number;
}

/** A point of the cost/success scatter: one model on one task type. */
export interface ScatterPoint {
  model: string;
  taskType: string;
  runs: number;
  successRate: number;
  medianUsd: number;
}

/** The report. */
export interface Calibration {
  /** Period reported: [sinceMs, nowMs) (Unix ms); the previous period is as long, just before. */
  sinceMs: number;
  nowMs: number;
  previousSinceMs: number;
  totals: GroupStats;
  previousTotals: GroupStats;
  /** Runs of the period not settled yet (queued, waiting, running). */
  inFlight: number;
  groups: Record<Dimension, GroupStats[]>;
  deltas: Delta[];
  expensiveFailures: ExpensiveFailure[];
  suggestions: RoutingSuggestion[];
  /** Both periods, by day, for the charts. */
  daily: DailyPoint[];
  scatter: ScatterPoint[];
}

/** Options of {@link buildCalibration}. */
export interface CalibrationOptions {
  /** Base of the Temporal Web UI (`http://localhost:8233`). */
  temporalUiUrl: string;
  namespace: string;
  /** Failures listed (default 5). */
  topFailures?: number;
  /** Routing: least runs per tier to compare (default 5). */
  minSamples?: number;
  /** Routing: how much lower (0…1) the cheap tier's success may be (default 0.05). */
  margin?: number;
}

/** A run with its attempts and tracked PR. */
export interface CalibrationRun {
  run: RunRow;
  attempts: AttemptRow[];
  pr?: PullRequestRow;
}

const NONE = '(none)';
const ESCALATED_OUTCOMES = new Set(['escalation_timed_out', 'handed_over']);

/** Whether the run counts (settled). */
export const settled = (r: RunRow): boolean => r.status === 'done' || r.status === 'awaiting_human';
/** Whether the run asked a human and got no PR from it. */
export const escalated = (r: RunRow): boolean => r.status === 'awaiting_human' || ESCALATED_OUTCOMES.has(r.outcome ?? '');
/** Routing success: a PR opened and not closed unmerged. */
export const succeeded = (c: CalibrationRun): boolean => c.run.outcome === 'pr_opened' && c.pr?.state !== 'closed';

/** The stuck rule or budget behind an escalation (last attempt that names one). */
export function escalationReason(c: CalibrationRun): string {
  for (const a of [...c.attempts].sort((x, y) => y.attempt - x.attempt)) {
    if (a.stuckRule) return `stuck:${a.stuckRule}`;
    if (a.budgetKind) return `budget:${a.budgetKind}`;
  }
  return 'other';
}

/** The group key of a run on a dimension. */
export function keyOf(r: RunRow, d: Dimension): string {
  const v = d === 'taskType' ? r.taskType : d === 'model' ? r.model : d === 'repo' ? r.repo : r.requester;
  return v || NONE;
}

/** Figures of one group of settled runs. */
export function groupStats(key: string, runs: CalibrationRun[]): GroupStats {
  const opened = runs.filter((c) => c.run.outcome === 'pr_opened');
  const merged = runs.filter((c) => c.pr?.state === 'merged');
  const esc = runs.filter((c) => escalated(c.run));
  const reasons: Record<string, number> = {};
  for (const c of esc) {
    const why = escalationReason(c);
    reasons[why] = (reasons[why] ?? 0) + 1;
  }
  const usd = runs.map((c) => c.run.spend.usd);
  const ms = runs.flatMap((c) => (c.run.status === 'done' && c.run.startedAt !== undefined && c.run.finishedAt !== undefined ? [c.run.finishedAt - c.run.startedAt] : []));
  const toMerge = merged.flatMap((c) => (c.pr?.mergedAt !== undefined ? [c.pr.mergedAt - c.pr.openedAt] : []));
  const prs = runs.flatMap((c) => (c.pr ? [c.pr] : []));
  const totalUsd = sum(usd);
  return {
    key,
    runs: runs.length,
    prsOpened: opened.length,
    prsMerged: merged.length,
    prsClosedUnmerged: runs.filter((c) => c.pr?.state === 'closed').length,
    escalations: esc.length,
    prRate: rate(opened.length, runs.length),
    mergeRate: rate(merged.length, runs.length),
    escalationRate: rate(esc.length, runs.length),
    escalationReasons: reasons,
    totalUsd,
    medianUsd: quantile(usd, 0.5),
    p90Usd: quantile(usd, 0.9),
    medianMs: quantile(ms, 0.5),
    p90Ms: quantile(ms, 0.9),
    usdPerMergedPr: merged.length > 0 ? totalUsd / merged.length : undefined,
    humanCommits: sum(prs.map((p) => p.humanCommits)),
    medianTimeToMergeMs: quantile(toMerge, 0.5),
    meanReviewRounds: prs.length ? sum(prs.map((p) => p.reviewRounds)) / prs.length : undefined,
  };
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = m.get(k);
    if (list) list.push(i);
    else m.set(k, [i]);
  }
  return m;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function deltas(cur: GroupStats, prev: GroupStats): Delta[] {
  const d = (metric: string, unit: Delta['unit'], c?: number, p?: number): Delta => ({ metric, unit, current: c, previous: p, change: c !== undefined && p !== undefined ? c - p : undefined });
  return [
    d('runs', 'count', cur.runs, prev.runs),
    d('PR opened', 'rate', cur.prRate, prev.prRate),
    d('PR merged', 'rate', cur.mergeRate, prev.mergeRate),
    d('escalated', 'rate', cur.escalationRate, prev.escalationRate),
    d('median cost', 'usd', cur.medianUsd, prev.medianUsd),
    d('p90 cost', 'usd', cur.p90Usd, prev.p90Usd),
    d('cost per merged PR', 'usd', cur.usdPerMergedPr, prev.usdPerMergedPr),
    d('median time', 'ms', cur.medianMs, prev.medianMs),
    d('spend', 'usd', cur.totalUsd, prev.totalUsd),
    d('human commits on top', 'count', cur.humanCommits, prev.humanCommits),
  ];
}

/**
 * Builds the report of [sinceMs, nowMs) from `runs` (which may hold more: runs created in the
 * previous period feed the deltas and charts; older or later ones are ignored).
 */
export function buildCalibration(runs: CalibrationRun[], sinceMs: number, nowMs: number, opts: CalibrationOptions): Calibration {
  const previousSinceMs = sinceMs - (nowMs - sinceMs);
  const inPeriod = (c: CalibrationRun, from: number, to: number): boolean => c.run.createdAt >= from && c.run.createdAt < to;
  const current = runs.filter((c) => inPeriod(c, sinceMs, nowMs));
  const cur = current.filter((c) => settled(c.run));
  const prev = runs.filter((c) => inPeriod(c, previousSinceMs, sinceMs) && settled(c.run));
  const both = [...prev, ...cur];
  const groups = Object.fromEntries(
    DIMENSIONS.map((d) => [d, [...groupBy(cur, (c) => keyOf(c.run, d))].map(([k, list]) => groupStats(k, list)).sort((a, b) => b.runs - a.runs || a.key.localeCompare(b.key))]),
  ) as Record<Dimension, GroupStats[]>;
  const totals = groupStats('all', cur);
  const previousTotals = groupStats('all', prev);
  const ui = opts.temporalUiUrl.replace(/\/+$/, '');
  const expensiveFailures = cur
    .filter((c) => c.run.outcome !== 'pr_opened')
    .sort((a, b) => b.run.spend.usd - a.run.spend.usd || a.run.workflowId.localeCompare(b.run.workflowId))
    .slice(0, opts.topFailures ?? 5)
    .map((c) => ({
      workflowId: c.run.workflowId,
      title: c.run.title,
      repo: c.run.repo,
      taskType: keyOf(c.run, 'taskType'),
      model: keyOf(c.run, 'model'),
      usd: c.run.spend.usd,
      what: escalated(c.run) ? `escalated: ${escalationReason(c)}` : (c.run.outcome ?? c.run.status).replace(/_/g, ' '),
      command: `nightshift runs show ${c.run.workflowId}`,
      traceUrl: `${ui}/namespaces/${encodeURIComponent(opts.namespace)}/workflows/${encodeURIComponent(c.run.workflowId)}`,
    }));
  const daily: DailyPoint[] = [];
  for (const dimension of ['taskType', 'model'] as const) {
    for (const [k, list] of groupBy(both, (c) => `${day(c.run.createdAt)}\u0000${keyOf(c.run, dimension)}`)) {
      const [d, series] = k.split('\u0000') as [string, string];
      daily.push({ day: d, series, dimension, runs: list.length, successRate: list.filter(succeeded).length / list.length, usd: sum(list.map((c) => c.run.spend.usd)) });
    }
  }
  daily.sort((a, b) => a.day.localeCompare(b.day) || a.series.localeCompare(b.series));
  const scatter = [...groupBy(cur, (c) => `${keyOf(c.run, 'model')}\u0000${keyOf(c.run, 'taskType')}`)].map(([k, list]) => {
    const [model, taskType] = k.split('\u0000') as [string, string];
    return { model, taskType, runs: list.length, successRate: list.filter(succeeded).length / list.length, medianUsd: quantile(list.map((c) => c.run.spend.usd), 0.5) ?? 0 };
  });
  return {
    sinceMs,
    nowMs,
    previousSinceMs,
    totals,
    previousTotals,
    inFlight: current.length - cur.length,
    groups,
    deltas: deltas(totals, previousTotals),
    expensiveFailures,
    suggestions: routingSuggestions(cur, { minSamples: opts.minSamples ?? 5, margin: opts.margin ?? 0.05 }),
    daily,
    scatter,
  };
}
