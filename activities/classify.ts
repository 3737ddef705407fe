/**
 * Task classification and model routing at scope (issue 12, items 1–2; patch `model-routing`).
 *
 * Classification: the task's type, expected size and risk, decided by a cheap model through the
 * gateway (metered, within the run's budget, like the clarifying assessment: cheapModel.ts) by
 * the rules in {@link CLASSIFY_SYSTEM_PROMPT}; the configuration forces what it knows (a request
 * label in `classification.labels` → the type; a risky path of the repository named in the task →
 * risk high). Without a model (none configured, off, unpriced, unreachable, unreadable answer)
 * the configuration and defaults decide, and the rationale says so.
 *
 * Routing: the repository's policy (worker/routingConfig.ts `effectivePolicy`) chooses a tier
 * (workflows/routing.ts `chooseTier`; a request's `tier` / `model` override capped by `maxTier`),
 * the agent's tier models (`models.tiers`) the model; `escalateModelOnRetry` the model of attempts
 * after a failed one. A model priced neither in `gateway.prices` nor in the price table refuses the
 * run with the reason.
 */
import type { Config } from '../worker/config.js';
import type { Logger } from '../worker/logger.js';
import { providerOfAgent, resolvePrice } from '../worker/gateway/priceTable.js';
import { effectivePolicy } from '../worker/routingConfig.js';
import {
  chooseTier,
  escalatedTier,
  MODEL_TIERS,
  TASK_RISKS,
  TASK_SIZES,
  TASK_TYPES,
  type ModelTier,
  type RoutingDecision,
  type TaskClassification,
  type TaskRisk,
  type TaskSize,
  type TaskType,
} from '../workflows/routing.js';
import { ZERO_SPEND, type AgentKind, type Spend, type TaskOverrides } from '../workflows/types.js';
import { callCheapModel, jsonObjectIn, type CheapModelDeps } from './cheapModel.js';

/** Marker in the classification's system prompt: the scripted model tells classifications by it. */
export const CLASSIFY_MARKER = '[nightshift:classify-task]';

/** Input of `classifyTask`. */
export interface ClassifyTaskInput {
  workflowId: string;
  title: string;
  task: string;
  /** The repository scoping chose (a key of `repos`). */
  repo: string;
  /** The agent scoping chose. */
  agent: AgentKind;
  /** The request's labels (Linear issue labels). */
  labels?: string[];
  /** The request's `model` / `tier` override. */
  override?: Pick<TaskOverrides, 'model' | 'tier'>;
  /** What the run may still spend: tokens, USD (the gateway refuses past it). */
  limits: { tokens: number; usd: number };
}

/** Result of `classifyTask`: the routing decision, or why the run cannot be routed (`refusal`). */
export type ClassifyResult = { ok: true; routing: RoutingDecision; spend: Spend } | { ok: false; refusal: string; spend: Spend };

/** The activity (registered with the worker's others). */
export interface ClassifyActivities {
  /** Classifies and routes a scoped task; never throws for a model failure (config/defaults decide). */
  classifyTask(input: ClassifyTaskInput): Promise<ClassifyResult>;
}

/** What classification needs. */
export interface ClassifyDeps extends CheapModelDeps {
  config: Pick<Config, 'repos' | 'gateway' | 'models' | 'routing' | 'classification'>;
}

/** The rules the model applies (its system prompt). */
export const CLASSIFY_SYSTEM_PROMPT = `${CLASSIFY_MARKER}
You classify a coding task before an autonomous coding agent works on it in one repository.
type: "bug_fix" (wrong behaviour to correct), "tests" (write or extend tests only), "refactor" (restructure without changing behaviour), "dependency_update" (bump or replace a dependency), "docs" (documentation or comments only), "feature" (new behaviour). When several apply, the main deliverable decides.
size: "small" (one function or file, under ~50 changed lines), "medium" (a few files, under ~300 lines), "large" (many files or more).
risk: "high" when it touches security, authentication, payments, data migrations, concurrency, public APIs or configuration that deploys; "medium" when it changes behaviour users rely on; else "low".
Answer with ONE JSON object and nothing else:
{"type":"…","size":"…","risk":"…","rationale":"one sentence"}`;

/** The user message: the repository and the task. */
export function classifyPrompt(input: Pick<ClassifyTaskInput, 'title' | 'task' | 'repo'>): string {
  return [`Repository: ${input.repo}`, `Title: ${input.title}`, 'Task:', input.task].join('\n');
}

const oneOf = <T extends string>(values: readonly T[], v: unknown): T | undefined => (typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : undefined);

/** Reads the model's answer; undefined when it is not the JSON asked for (every field a known value). Pure. */
export function parseClassification(text: string): Omit<TaskClassification, 'source'> | undefined {
  const o = jsonObjectIn(text);
  if (!o) return undefined;
  const type = oneOf(TASK_TYPES, o.type);
  const size = oneOf(TASK_SIZES, o.size);
  const risk = oneOf(TASK_RISKS, o.risk);
  if (!type || !size || !risk) return undefined;
  return { type, size, risk, rationale: typeof o.rationale === 'string' ? o.rationale.slice(0, 600) : '' };
}

/** What the configuration forces: a type from a label, high risk from risky paths named in the task. Pure. */
export function configForced(config: Pick<Config, 'classification'>, riskyPaths: string[], input: Pick<ClassifyTaskInput, 'title' | 'task' | 'labels'>): { type?: TaskType; label?: string; risky: string[] } {
  const labels = config.classification.labels;
  const label = (input.labels ?? []).find((l) => labels[l] !== undefined);
  const text = `${input.title}\n${input.task}`.toLowerCase();
  const risky = riskyPaths.filter((p) => text.includes(p.toLowerCase().replace(/\*+$/, '')));
  return { ...(label ? { type: labels[label], label } : {}), risky };
}

/** Defaults when neither the model nor the configuration decides. */
export const DEFAULT_CLASSIFICATION = { type: 'feature', size: 'medium', risk: 'low' } as const satisfies { type: TaskType; size: TaskSize; risk: TaskRisk };

/**
 * Combines the model's answer (when any) with what the configuration forces (config wins for the
 * fields it decides). `fallback`: why no model decided, said in the rationale. Pure.
 */
export function combineClassification(model: Omit<TaskClassification, 'source'> | undefined, forced: ReturnType<typeof configForced>, fallback: string): TaskClassification {
  const notes: string[] = [];
  if (forced.type) notes.push(`type ${forced.type} from label "${forced.label}"`);
  if (forced.risky.length) notes.push(`risk high: the task names risky path${forced.risky.length > 1 ? 's' : ''} ${forced.risky.join(', ')}`);
  const byConfig = notes.length > 0;
  const base = model ?? DEFAULT_CLASSIFICATION;
  const rationale = model ? [model.rationale, ...notes.map((n) => `config: ${n}`)].filter(Boolean).join('; ') : [`${fallback}: ${byConfig ? 'configuration and defaults decide' : 'defaults decide'}`, ...notes].join('; ');
  return {
    type: forced.type ?? base.type,
    size: base.size,
    risk: forced.risky.length ? 'high' : base.risk,
    rationale,
    source: model ? 'model' : byConfig ? 'config' : 'default',
  };
}

/** The classification model: `classification.model`; none when `classification.enabled` is false. */
export function classifyModel(config: Pick<Config, 'classification'>): string | undefined {
  if (config.classification.enabled === false) return undefined;
  return config.classification.model;
}

/** Why no model classifies tasks (when {@link classifyModel} gives none). */
function noModelReason(config: Pick<Config, 'classification'>): string {
  return config.classification.enabled === false ? 'classification by a model is off (classification.enabled)' : 'no classification model is configured (classification.model)';
}

/**
 * The routing decision when no model classifies tasks (configuration and defaults decide): what
 * `classifyTask` would answer, computed at scope so that the run makes no activity call for it.
 * Undefined when a model is configured (the workflow's `classifyTask` calls it).
 */
export function routeByConfig(config: ClassifyDeps['config'], input: Omit<ClassifyTaskInput, 'workflowId' | 'limits'>): ClassifyResult | undefined {
  if (classifyModel(config)) return undefined;
  const classification = combineClassification(undefined, configForced(config, config.repos[input.repo]?.riskyPaths ?? [], input), noModelReason(config));
  const routed = route(config, input.repo, input.agent, classification, input.override);
  return routed.ok ? { ok: true, routing: routed.routing, spend: ZERO_SPEND } : { ok: false, refusal: routed.refusal, spend: ZERO_SPEND };
}

/** Classifies the task: the model when configured and it answers, combined with what the config forces. */
export async function classify(deps: ClassifyDeps, input: ClassifyTaskInput, log: Logger): Promise<{ classification: TaskClassification; spend: Spend }> {
  const forced = configForced(deps.config, deps.config.repos[input.repo]?.riskyPaths ?? [], input);
  const model = classifyModel(deps.config);
  if (!model) return { classification: combineClassification(undefined, forced, noModelReason(deps.config)), spend: ZERO_SPEND };
  if (!resolvePrice(deps.config.gateway.prices, model, 'anthropic')) {
    return { classification: combineClassification(undefined, forced, `model "${model}" has no price, so it was not called`), spend: ZERO_SPEND };
  }
  const answer = await callCheapModel(deps, {
    workflowId: input.workflowId,
    runKey: `${input.workflowId}#classify`,
    meta: { classify: true },
    limits: input.limits,
    model,
    system: CLASSIFY_SYSTEM_PROMPT,
    user: classifyPrompt(input),
    maxTokens: 512,
  });
  const parsed = answer.text !== undefined ? parseClassification(answer.text) : undefined;
  if (!parsed) {
    const why = answer.failure ? `classification skipped: ${answer.failure}` : 'classification skipped: the model did not answer with the fields asked for';
    log.warn({ why }, 'classification fell back to configuration');
    return { classification: combineClassification(undefined, forced, why), spend: answer.spend };
  }
  return { classification: combineClassification(parsed, forced, ''), spend: answer.spend };
}

/**
 * Routes a classified task: the tier (policy, override capped), its model for the agent, and the
 * model of attempts after a failed one. Returns a refusal when a chosen model has no price. Pure
 * over the configuration.
 */
export function route(
  config: ClassifyDeps['config'],
  repoName: string,
  agent: AgentKind,
  c: TaskClassification,
  override: ClassifyTaskInput['override'] = {},
): { ok: true; routing: RoutingDecision } | { ok: false; refusal: string } {
  const repo = config.repos[repoName];
  const policy = effectivePolicy(config.routing, repo?.routing);
  // A repository's pinned model (repos.<name>.models.<agent>) is its default tier's model.
  const models: Record<ModelTier, string> = { ...config.models.tiers[agent], ...(repo?.models[agent] ? { [policy.defaultTier]: repo.models[agent] } : {}) };
  let choice = chooseTier(policy, c, override.tier);
  let model = models[choice.tier];
  if (!override.tier && override.model) {
    // A model override counts at its tier (a model of no tier counts as the largest) and is capped like a tier.
    const own = MODEL_TIERS.find((t) => models[t] === override.model) ?? 'large';
    choice = chooseTier(policy, c, own);
    const capped = choice.tier !== own;
    model = capped ? models[choice.tier] : override.model;
    choice = { tier: choice.tier, rule: capped ? `override (model ${override.model} requested, capped at maxTier ${choice.tier})` : `override (model ${override.model} requested)` };
  }
  const retryTier = escalatedTier(choice.tier, policy.escalateModelOnRetry);
  const retry = retryTier !== choice.tier ? { tier: retryTier, model: models[retryTier] } : undefined;
  const provider = providerOfAgent(agent);
  for (const [m, t] of [[model, choice.tier], ...(retry ? [[retry.model, retry.tier]] : [])] as Array<[string, ModelTier]>) {
    if (!resolvePrice(config.gateway.prices, m, provider)) {
      return { ok: false, refusal: `model "${m}" (tier ${t}) has no price in gateway.prices nor in the price table, so its spend cannot be budgeted.` };
    }
  }
  return { ok: true, routing: { classification: c, tier: choice.tier, rule: choice.rule, model, ...(retry ? { retry } : {}) } };
}

/** The `classifyTask` activity (see the module doc). */
export async function classifyTask(deps: ClassifyDeps, input: ClassifyTaskInput): Promise<ClassifyResult> {
  const log = deps.logger.child({ workflowId: input.workflowId, classify: true });
  const { classification, spend } = await classify(deps, input, log);
  const routed = route(deps.config, input.repo, input.agent, classification, input.override);
  if (!routed.ok) return { ok: false, refusal: routed.refusal, spend };
  log.info({ type: classification.type, size: classification.size, risk: classification.risk, source: classification.source, tier: routed.routing.tier, model: routed.routing.model, rule: routed.routing.rule }, 'task classified and routed');
  return { ok: true, routing: routed.routing, spend };
}
