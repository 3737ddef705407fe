/**
 * Model routing (issue 12, item 2): a task's classification (type × size × risk) chooses a model
 * tier by a policy of rules (first match wins); the tier maps to a concrete model per agent.
 * Pure and free of side effects: used by the `classifyTask` activity (which decides) and by
 * workflow code (the tier of a later attempt, the report line).
 */
import type { Spend } from './types.js';

/** What kind of change a task asks for. */
export const TASK_TYPES = ['bug_fix', 'tests', 'refactor', 'dependency_update', 'docs', 'feature'] as const;
export type TaskType = (typeof TASK_TYPES)[number];
/** Expected size of the change. */
export const TASK_SIZES = ['small', 'medium', 'large'] as const;
export type TaskSize = (typeof TASK_SIZES)[number];
/** Risk of the change. */
export const TASK_RISKS = ['low', 'medium', 'high'] as const;
export type TaskRisk = (typeof TASK_RISKS)[number];
/** Model tiers, cheapest first. */
export const MODEL_TIERS = ['small', 'medium', 'large'] as const;
export type ModelTier = (typeof MODEL_TIERS)[number];

/** A task's classification at scope and where it came from. */
export interface TaskClassification {
  type: TaskType;
  size: TaskSize;
  risk: TaskRisk;
  /** One sentence: the model's words, or which configuration / default decided. */
  rationale: string;
  /** `model`: the cheap model decided (config may still have forced a field); `config`: labels / risky paths; `default`: nothing did. */
  source: 'model' | 'config' | 'default';
}

/** One routing rule: every key of `when` must match (a value or a list of values); absent keys match anything. */
export interface RoutingRule {
  when: { type?: TaskType | TaskType[]; size?: TaskSize | TaskSize[]; risk?: TaskRisk | TaskRisk[] };
  tier: ModelTier;
}

/** A routing policy (the default one, or a repository's). */
export interface RoutingPolicy {
  /** Rules in order; the first that matches decides. */
  rules: RoutingRule[];
  /** Tier when no rule matches. */
  defaultTier: ModelTier;
  /** Highest tier a request override may choose (absent: any). */
  maxTier?: ModelTier;
  /** After a failed attempt, the next uses a stronger tier: `true` one tier up, or that tier. Absent/false: the same model. */
  escalateModelOnRetry?: boolean | ModelTier;
}

/** Which tier the policy chose and why. */
export interface TierChoice {
  tier: ModelTier;
  /** `routing[<i>]: <condition>`, `default`, or `override (…)`. */
  rule: string;
}

const rank = (t: ModelTier): number => MODEL_TIERS.indexOf(t);
const list = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

/** Whether `rule` matches `c`. Pure. */
export function ruleMatches(rule: RoutingRule, c: Pick<TaskClassification, 'type' | 'size' | 'risk'>): boolean {
  const ok = <T>(want: T | T[] | undefined, have: T) => list(want)?.includes(have) ?? true;
  return ok(rule.when.type, c.type) && ok(rule.when.size, c.size) && ok(rule.when.risk, c.risk);
}

/** A rule's condition as text: `type in [docs, tests], risk high` (`any task` when empty). */
export function describeWhen(when: RoutingRule['when']): string {
  const parts = (['type', 'size', 'risk'] as const).flatMap((k) => {
    const v = when[k];
    if (v === undefined) return [];
    return Array.isArray(v) ? [`${k} in [${v.join(', ')}]`] : [`${k} ${v}`];
  });
  return parts.length ? parts.join(', ') : 'any task';
}

/** The lower of two tiers. */
export function minTier(a: ModelTier, b: ModelTier): ModelTier {
  return rank(a) <= rank(b) ? a : b;
}

/**
 * The tier for a classified task: a request's override tier capped by `maxTier`, else the first
 * matching rule, else the default tier. Pure.
 */
export function chooseTier(policy: RoutingPolicy, c: Pick<TaskClassification, 'type' | 'size' | 'risk'>, override?: ModelTier): TierChoice {
  if (override) {
    const capped = policy.maxTier ? minTier(override, policy.maxTier) : override;
    return { tier: capped, rule: capped === override ? `override (tier ${override} requested)` : `override (tier ${override} requested, capped at maxTier ${capped})` };
  }
  const i = policy.rules.findIndex((r) => ruleMatches(r, c));
  if (i >= 0) return { tier: policy.rules[i]!.tier, rule: `routing[${i}]: ${describeWhen(policy.rules[i]!.when)}` };
  return { tier: policy.defaultTier, rule: 'default' };
}

/**
 * The tier of the attempt after a failed one: one up (`true`, at most `large`), the named tier when
 * stronger, else unchanged (`false`/absent). Pure.
 */
export function escalatedTier(tier: ModelTier, escalate: RoutingPolicy['escalateModelOnRetry']): ModelTier {
  if (escalate === true) return MODEL_TIERS[Math.min(rank(tier) + 1, MODEL_TIERS.length - 1)]!;
  if (typeof escalate === 'string' && rank(escalate) > rank(tier)) return escalate;
  return tier;
}

/** What routing decided for a run (kept in the plan; workflow and ledger read it). */
export interface RoutingDecision {
  classification: TaskClassification;
  tier: ModelTier;
  /** The rule that chose the tier (see {@link TierChoice.rule}). */
  rule: string;
  /** The model of the first attempt. */
  model: string;
  /** Attempts after a failed one use this tier and model (absent: the same model). */
  retry?: { tier: ModelTier; model: string };
  /** Spend of the classification's model call (counts in the run's spend; set by the workflow). */
  spend?: Spend;
}

/** The model and tier attempt `n` uses (attempt 1, and every attempt without escalation: the routed model). */
export function modelForAttempt(d: RoutingDecision, n: number): { model: string; tier: ModelTier } {
  return n > 1 && d.retry ? d.retry : { model: d.model, tier: d.tier };
}

/**
 * The report / PR body line: `Task: bug_fix, small, low risk — model claude-x (tier small, rule
 * routing[0]: type in [docs, tests]); classified by model`, plus the retry model once attempts used it.
 */
export function describeRouting(d: RoutingDecision, attemptsRun = 1): string {
  const c = d.classification;
  const retry = d.retry && attemptsRun > 1 ? `; after a failed attempt ${d.retry.model} (tier ${d.retry.tier}, escalateModelOnRetry)` : '';
  return `Task: ${c.type}, ${c.size}, ${c.risk} risk — model ${d.model} (tier ${d.tier}, rule ${d.rule})${retry}; classified by ${c.source}`;
}
