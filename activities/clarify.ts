/**
 * The clarifying assessment at scope (issue 8, item 4; patch `clarify-at-scope`): after scoping, a
 * cheap model judges whether the task is bounded and verifiable and which repository it concerns,
 * by the rules written in {@link ASSESS_SYSTEM_PROMPT}. It answers `proceed` or `ask` (one short
 * question, with choices when the answer is among known values, e.g. repository names).
 *
 * The call goes THROUGH THE MODEL GATEWAY like an agent's: a run key of its own
 * (`<workflowId>#assess-<n>`) opened with what is left of the run's budget, so that it is refused
 * past the budget and its metered spend is returned for the run's spend. Anthropic Messages API,
 * non-streaming: https://docs.anthropic.com/en/api/messages
 *
 * It never fails the run: disabled / no model / an unreachable model / an unreadable answer give
 * `skipped` with the reason (the workflow notes it in the report).
 */
import type { Config } from '../worker/config.js';
import type { Logger } from '../worker/logger.js';
import { ZERO_SPEND, type Spend } from '../workflows/types.js';
import { callCheapModel, jsonObjectIn } from './cheapModel.js';
import type { GatewayPort } from './runAgent.js';
import { resolvePrice } from '../worker/gateway/priceTable.js';

/** Marker in the assessment's system prompt: the scripted model tells assessments from agent requests by it. */
export const ASSESS_MARKER = '[nightshift:assess-task]';

/** Input of `assessTask`. */
export interface AssessTaskInput {
  workflowId: string;
  /** Assessment number within the run (1, 2, …): part of its gateway run key. */
  sequence: number;
  title: string;
  /** The task text, with the answers to earlier questions appended. */
  task: string;
  /** The repository scoping chose. */
  repo: string;
  /** What the run may still spend (its caps minus its spend): the gateway refuses past it. Tokens, USD. */
  limits: { tokens: number; usd: number };
}

/** Result of `assessTask`. */
export interface Assessment {
  /** `skipped`: no assessment ran (see `rationale`); `disabled` says it was off by configuration. */
  decision: 'proceed' | 'ask' | 'skipped';
  /** Why (the model's words, or why it was skipped). */
  rationale: string;
  /** For `ask`: one question a human can answer in a sentence. */
  question?: string;
  /** For `ask`: the choices offered (at most 8). */
  options?: string[];
  /** The options are configured repository names: the answer selects the run's repository. */
  optionsAreRepos?: boolean;
  /** Off by configuration (`scope.clarify`): nothing to record or report. */
  disabled?: boolean;
  /** Metered by the gateway (counts in the run's spend). */
  spend: Spend;
}

/** The activity (register with the worker's others). */
export interface ClarifyActivities {
  /** Assesses a scoped task; never throws for a model failure (returns `skipped`). */
  assessTask(input: AssessTaskInput): Promise<Assessment>;
}

/** What the assessment needs. */
export interface ClarifyDeps {
  config: Pick<Config, 'repos' | 'scope' | 'gateway'>;
  gateway: GatewayPort;
  /** Gateway base URL (reachable from the host: it listens on a host address). */
  gatewayUrl: string;
  logger: Logger;
  /** Longest wait for the model's answer, ms (default 60,000). */
  timeoutMs?: number;
}

/** The rules the model applies (part of the system prompt). */
export const ASSESS_SYSTEM_PROMPT = `${ASSESS_MARKER}
You review a coding task before an autonomous coding agent works on it overnight, alone, in one repository, and opens one pull request that the repository's automated tests validate.
Decide "ask" when ANY of these holds, else "proceed":
1. Not verifiable: the task states no success criterion the repository's tests could show (no behaviour to change, no failing test, no observable result), so nobody could tell whether the change is right.
2. Repository unclear: the task names or implies a repository other than the chosen one, or it could concern several of the configured repositories.
3. Too large: it is not one bounded change for one pull request (several independent features, a rewrite, a migration across the codebase, an open-ended improvement).
Do not ask about details a competent engineer would decide alone. Never ask again what an earlier answer settled.
When you ask: one short question a person can answer in a sentence. When the repository is unclear, "options" lists the configured repository names that could be meant (exact names); otherwise give options only when the answer is one of a few known values.
Answer with ONE JSON object and nothing else:
{"decision":"proceed"|"ask","question":"…","options":["…"],"rationale":"one sentence"}`;

/** The user message: the task, the chosen repository and the configured ones. */
export function assessPrompt(input: Pick<AssessTaskInput, 'title' | 'task' | 'repo'>, repos: string[]): string {
  return [`Configured repositories: ${repos.join(', ')}`, `Chosen repository: ${input.repo}`, `Title: ${input.title}`, 'Task:', input.task].join('\n');
}

/** Reads the model's answer; undefined when it is not the JSON asked for. Pure. */
export function parseAssessment(text: string, repos: string[]): Omit<Assessment, 'spend'> | undefined {
  const o = jsonObjectIn(text);
  if (!o) return undefined;
  const rationale = typeof o.rationale === 'string' ? o.rationale.slice(0, 600) : '';
  if (o.decision === 'proceed') return { decision: 'proceed', rationale };
  if (o.decision !== 'ask' || typeof o.question !== 'string' || !o.question.trim()) return undefined;
  const options = Array.isArray(o.options) ? [...new Set(o.options.filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim().slice(0, 100)))].slice(0, 8) : [];
  const optionsAreRepos = options.length > 0 && options.every((x) => repos.includes(x));
  return { decision: 'ask', question: o.question.trim().slice(0, 1000), rationale, ...(options.length ? { options } : {}), ...(optionsAreRepos ? { optionsAreRepos } : {}) };
}

/** The assessment's settings: on when a model is configured, unless `enabled: false`. */
export function clarifySettings(config: Pick<Config, 'scope'>): { on: boolean; model?: string } {
  const c = config.scope.clarify;
  return { on: c.enabled ?? c.model !== undefined, ...(c.model ? { model: c.model } : {}) };
}

const skipped = (rationale: string, spend: Spend = ZERO_SPEND): Assessment => ({ decision: 'skipped', rationale, spend });

/** Runs one assessment (see the module doc). */
export async function assessTask(deps: ClarifyDeps, input: AssessTaskInput): Promise<Assessment> {
  const { on, model } = clarifySettings(deps.config);
  if (!on) return { ...skipped('the clarifying assessment is off (scope.clarify.enabled)'), disabled: true };
  if (!model) return skipped('no assessment model is configured (scope.clarify.model)');
  if (!resolvePrice(deps.config.gateway.prices, model, 'anthropic')) return skipped(`model "${model}" has no price in gateway.prices nor in the price table, so its spend cannot be budgeted`);
  const log = deps.logger.child({ workflowId: input.workflowId, assess: input.sequence });
  const repos = Object.keys(deps.config.repos);
  const { text, failure, spend } = await callCheapModel(deps, {
    workflowId: input.workflowId,
    runKey: `${input.workflowId}#assess-${input.sequence}`,
    meta: { assess: input.sequence },
    limits: input.limits,
    model,
    system: ASSESS_SYSTEM_PROMPT,
    user: assessPrompt(input, repos),
  });
  if (failure !== undefined) {
    log.warn({ failure }, 'clarifying assessment skipped');
    return skipped(`assessment skipped: ${failure}`, spend);
  }
  const parsed = parseAssessment(text ?? '', repos);
  if (!parsed) return skipped('assessment skipped: the model did not answer with the decision asked for', spend);
  log.info({ decision: parsed.decision }, 'clarifying assessment');
  return { ...parsed, spend };
}
