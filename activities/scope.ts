/**
 * Scoping: is the task bounded and verifiable, which repository, agent, model, budget and risk.
 * Pure over the configuration, so it is tested without Temporal.
 */
import type { RunPlan, ScopeResult } from '../workflows/activityTypes.js';
import type { Budget, TaskRequest } from '../workflows/types.js';
import type { Config } from '../worker/config.js';
import { clarifySettings } from './clarify.js';
import { routeByConfig } from './classify.js';
import { providerOfAgent, resolvePrice } from '../worker/gateway/priceTable.js';

/** Default sandbox image of each agent. */
export const DEFAULT_IMAGES = { 'claude-code': 'nightshift/claude-code:latest', codex: 'nightshift/codex:latest' } as const;
/**
 * The sandbox image of `agent` for repository `repo` as configured (else the default): an image
 * the operator chose, which is trusted to run only what it is told; an environment's image, built
 * by the repository's setup, is not.
 */
export function agentImageOf(config: Pick<Config, 'repos'>, repo: string, agent: keyof typeof DEFAULT_IMAGES): string {
  return config.repos[repo]?.images[agent] ?? DEFAULT_IMAGES[agent];
}

/** Default model of each agent. */
export const DEFAULT_MODELS = { 'claude-code': 'claude-sonnet-4-5', codex: 'gpt-5.5' } as const;

/** Longest task text accepted, in characters: longer is not a bounded overnight task. */
export const MAX_TASK_CHARS = 8000;

/** Lowercase ASCII slug of at most `max` characters. */
export function slugify(text: string, max = 40): string {
  const s = text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s.slice(0, max).replace(/-+$/, '') || 'task';
}

/** A short stable hash (FNV-1a, base 36) used to keep slugs unique per run. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36).slice(0, 6);
}

/**
 * Decides whether and how a task runs.
 * Rejections name the reason and what to do; a budget override above the policy maximum is
 * refused with the maximum named. A task that names no configured repository is refused with
 * `repoUnknown` (the repositories to ask about) when `scope.clarify` is on and more than one
 * repository is configured; with it off or one repository, a plain refusal.
 */
export function scope(config: Config, req: TaskRequest, workflowId: string): ScopeResult {
  const repoNames = Object.keys(config.repos);
  // With the clarifying assessment on and a choice to make, the run asks which repository.
  const ask = clarifySettings(config).on && repoNames.length > 1 ? { repoUnknown: { repos: repoNames, answerWaitMs: Math.round(config.escalationWaitHours * 3_600_000) } } : {};
  if (!req.repo) {
    return { ok: false, reason: `no repository is named for this task. Known repositories: ${repoNames.join(', ')}.`, ...ask };
  }
  const repo = config.repos[req.repo];
  if (!repo) return { ok: false, reason: `unknown repository "${req.repo}". Known repositories: ${repoNames.join(', ')}.`, ...ask };
  const text = `${req.title}\n${req.task}`.trim();
  if (req.task.trim().length < 10 && req.title.trim().length < 10) {
    return { ok: false, reason: 'the task is too short to act on: say what should change and how the tests show it.' };
  }
  if (req.task.length > MAX_TASK_CHARS) {
    return { ok: false, reason: `the task is ${req.task.length} characters long (limit ${MAX_TASK_CHARS}): split it into bounded tasks.` };
  }
  const o = req.overrides ?? {};
  const agent = o.agent ?? repo.agent;
  const model = o.model ?? repo.models[agent] ?? DEFAULT_MODELS[agent];
  if (!resolvePrice(config.gateway.prices, model, providerOfAgent(agent))) {
    return { ok: false, reason: `model "${model}" has no price in gateway.prices nor in the price table, so its spend cannot be budgeted.` };
  }
  const base: Budget = { wallClockMs: repo.budget.minutes * 60_000, tokens: repo.budget.tokens, usd: repo.budget.usd };
  const max: Budget = repo.maxBudget
    ? { wallClockMs: repo.maxBudget.minutes * 60_000, tokens: repo.maxBudget.tokens, usd: repo.maxBudget.usd }
    : base;
  const budget: Budget = { ...base, ...(o.budget ?? {}) };
  const over: string[] = [];
  if (budget.wallClockMs > max.wallClockMs) over.push(`time ${budget.wallClockMs / 60_000} min > maximum ${max.wallClockMs / 60_000} min`);
  if (budget.tokens > max.tokens) over.push(`tokens ${budget.tokens} > maximum ${max.tokens}`);
  if (budget.usd > max.usd) over.push(`dollars $${budget.usd} > maximum $${max.usd}`);
  if (over.length > 0) return { ok: false, reason: `the budget override is above this repository's policy: ${over.join('; ')}.` };
  if (budget.wallClockMs <= 0 || budget.tokens <= 0 || budget.usd <= 0) {
    return { ok: false, reason: 'the budget override must be positive.' };
  }
  const maxAttempts = Math.min(o.maxAttempts ?? repo.maxAttempts, repo.maxAttempts);
  const lower = text.toLowerCase();
  const riskReasons = repo.riskyPaths.filter((p) => lower.includes(p.toLowerCase().replace(/\*+$/, '')));
  const plan: RunPlan = {
    repo: req.repo,
    url: repo.url,
    github: repo.github,
    defaultBranch: repo.defaultBranch,
    agent,
    model,
    image: repo.images[agent] ?? DEFAULT_IMAGES[agent],
    testCommand: repo.testCommand,
    budget,
    maxAttempts,
    risk: riskReasons.length > 0 ? 'high' : 'low',
    riskReasons,
    riskyPaths: repo.riskyPaths,
    maxChangedFiles: repo.maxChangedFiles,
    maxChangedLines: repo.maxChangedLines,
    testChangesPolicy: repo.validation.testChanges,
    slug: `${slugify(req.source.kind === 'linear' && req.source.issueIdentifier ? `${req.source.issueIdentifier} ${req.title}` : req.title)}-${shortHash(workflowId)}`,
    // The old UTC-hour form only (the workflow's msUntilWindow); every form goes through the admissionTime activity.
    window: repo.window && 'startHourUtc' in repo.window ? repo.window : undefined,
    escalationWaitMs: Math.round(config.escalationWaitHours * 3_600_000),
    agentEgress: repo.environment.agentEgress,
    // The workflow classifies the task and routes its model next (activities/classify.ts).
    classify: true,
    // Whether the workflow asks the cheap model to assess the task (off: no `assessTask` call).
    assess: clarifySettings(config).on,
  };
  // Without a classification model the routing is configuration alone: decided here, not by a
  // `classifyTask` call of the workflow (the same decision, one activity fewer).
  const byConfig = routeByConfig(config, {
    title: req.title,
    task: req.task,
    repo: req.repo,
    agent,
    ...(req.labels?.length ? { labels: req.labels } : {}),
    ...(o.model || o.tier ? { override: { ...(o.model ? { model: o.model } : {}), ...(o.tier ? { tier: o.tier } : {}) } } : {}),
  });
  if (byConfig && !byConfig.ok) return { ok: false, reason: byConfig.refusal };
  if (byConfig?.ok) return { ok: true, plan: { ...plan, model: byConfig.routing.model, routing: { ...byConfig.routing, spend: byConfig.spend } } };
  return { ok: true, plan };
}
