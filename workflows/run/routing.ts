/**
 * Task classification and model routing at scope (issue 12; patch `model-routing`): after the
 * clarifying assessment lets the run proceed, the `classifyTask` activity (activities/classify.ts)
 * classifies the task (cheap model through the gateway, within the run's budget; config forces
 * labels and risky paths) and routes it to a tier and model. The plan then carries the decision:
 * attempt 1 uses its model, attempts after a failed one the escalated model when the policy says
 * (`escalateModelOnRetry`). Workflow code.
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { ClassifyActivities } from '../../activities/classify.js';
import type { Report, RunPlan } from '../activityTypes.js';
import { describeRouting, modelForAttempt } from '../routing.js';
import type { SummaryFormat } from '../summary.js';
import { PATCH_MODEL_ROUTING } from './patches.js';
import { spendOf, type RunState } from './state.js';

const acts = proxyActivities<ClassifyActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
});

/**
 * Classifies and routes the scoped task (`s.plan` set): sets `s.plan.routing` and `s.plan.model`.
 * Returns undefined to go on, or the refusal (a routed model without a price) for the caller to
 * reject the run with. No-op on runs before the patch and for plans that do not ask (`classify`). Throws what `classifyTask` throws.
 */
export async function routeStep(s: RunState): Promise<string | undefined> {
  const plan = s.plan!;
  if (!plan.classify || plan.routing || !patched(PATCH_MODEL_ROUTING)) return undefined;
  const caps = s.caps ?? plan.budget;
  const spent = spendOf(s);
  const o = s.req.overrides ?? {};
  const r = await acts.classifyTask({
    workflowId: s.workflowId,
    title: s.req.title,
    task: s.req.task,
    repo: plan.repo,
    agent: plan.agent,
    ...(s.req.labels?.length ? { labels: s.req.labels } : {}),
    ...(o.model || o.tier ? { override: { ...(o.model ? { model: o.model } : {}), ...(o.tier ? { tier: o.tier } : {}) } } : {}),
    limits: { tokens: Math.max(0, caps.tokens - spent.tokens), usd: Math.max(0, caps.usd - spent.usd) },
  });
  // (A refused run's classification spend, a few cents at most, is not in its report.)
  if (!r.ok) return r.refusal;
  s.plan = { ...plan, model: r.routing.model, routing: { ...r.routing, spend: r.spend } };
  return undefined;
}

/** The plan attempt `n` runs with: the escalated model after a failed attempt when routing says so. */
export function planForAttempt(p: RunPlan, n: number): RunPlan {
  if (!p.routing) return p;
  const { model } = modelForAttempt(p.routing, n);
  return model === p.model ? p : { ...p, model };
}

/** Report kinds that end a run or hand it to a human: they carry the routing line. */
const FINAL_KINDS: ReadonlySet<Report['kind']> = new Set(['escalation', 'timed_out', 'cancelled', 'handed_over', 'failed', 'environment_failed']);

/** The routing line of a final report other than `pr_opened` (whose summary carries it); undefined without routing. */
export function routingNote(s: Pick<RunState, 'plan' | 'attempts'>, kind: Report['kind'], format: SummaryFormat): string | undefined {
  const d = s.plan?.routing;
  if (!d || !FINAL_KINDS.has(kind)) return undefined;
  const bold = (t: string): string => (format === 'markdown' ? `**${t}**` : `*${t}*`);
  return `${bold('Routing:')} ${describeRouting(d, s.attempts.length)}`;
}
