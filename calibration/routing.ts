/**
 * Routing suggestions the data supports: for a task type, a cheaper model tier that succeeds
 * (PR opened and not closed unmerged) about as often as the most expensive tier tried on it.
 */
import type { CalibrationRun } from './build.js';
import { quantile } from './stats.js';

/** Model tiers, cheapest first (the routing policy's `model_tier`). */
export const TIER_ORDER = ['small', 'medium', 'large'] as const;

/** One suggestion: route `taskType` to `toTier` instead of `fromTier`. */
export interface RoutingSuggestion {
  taskType: string;
  /** The cheaper tier that did as well. */
  toTier: string;
  /** The most expensive tier it was compared with. */
  fromTier: string;
  /** Success rate (0…1) and runs of each. */
  toSuccess: number;
  toRuns: number;
  fromSuccess: number;
  fromRuns: number;
  /** Median cost per run, USD. */
  toMedianUsd: number;
  fromMedianUsd: number;
  /** One line for people. */
  text: string;
}

const pct = (r: number): string => `${Math.round(r * 100)}%`;

/**
 * Suggestions over settled runs: per task type, the cheapest tier with at least `minSamples`
 * runs whose success rate is ≥ that of the most expensive tier with `minSamples` runs − `margin`
 * (0…1) and whose median cost is lower. Runs without a task type or tier are left out.
 */
export function routingSuggestions(runs: CalibrationRun[], opts: { minSamples: number; margin: number }): RoutingSuggestion[] {
  const byType = new Map<string, Map<string, CalibrationRun[]>>();
  for (const c of runs) {
    const { taskType, modelTier } = c.run;
    if (!taskType || !modelTier || !(TIER_ORDER as readonly string[]).includes(modelTier)) continue;
    const tiers = byType.get(taskType) ?? new Map<string, CalibrationRun[]>();
    byType.set(taskType, tiers);
    tiers.set(modelTier, [...(tiers.get(modelTier) ?? []), c]);
  }
  const out: RoutingSuggestion[] = [];
  for (const [taskType, tiers] of [...byType].sort(([a], [b]) => a.localeCompare(b))) {
    const stats = TIER_ORDER.flatMap((tier) => {
      const list = tiers.get(tier) ?? [];
      if (list.length < opts.minSamples) return [];
      const ok = list.filter((c) => c.run.outcome === 'pr_opened' && c.pr?.state !== 'closed').length;
      return [{ tier, runs: list.length, success: ok / list.length, medianUsd: quantile(list.map((c) => c.run.spend.usd), 0.5) ?? 0 }];
    });
    const top = stats.at(-1);
    if (!top) continue;
    const cheap = stats.slice(0, -1).find((s) => s.success >= top.success - opts.margin && s.medianUsd < top.medianUsd);
    if (!cheap) continue;
    out.push({
      taskType,
      toTier: cheap.tier,
      fromTier: top.tier,
      toSuccess: cheap.success,
      toRuns: cheap.runs,
      fromSuccess: top.success,
      fromRuns: top.runs,
      toMedianUsd: cheap.medianUsd,
      fromMedianUsd: top.medianUsd,
      text: `Route ${taskType} to the ${cheap.tier} tier: ${pct(cheap.success)} success over ${cheap.runs} runs vs ${pct(top.success)} over ${top.runs} on ${top.tier}, median $${cheap.medianUsd.toFixed(2)} vs $${top.medianUsd.toFixed(2)} a run.`,
    });
  }
  return out;
}
