/**
 * One call of a cheap model at scope (the clarifying assessment, the task classification), made
 * THROUGH THE MODEL GATEWAY like an agent's: a gateway run key of its own opened with what is left
 * of the run's budget (so it is refused past the budget), and its metered spend returned for the
 * run's spend. Anthropic Messages API, non-streaming: https://docs.anthropic.com/en/api/messages
 */
import type { Logger } from '../worker/logger.js';
import { registerSecret } from '../worker/redact.js';
import { addSpend, ZERO_SPEND, type Spend } from '../workflows/types.js';
import type { GatewayPort } from './runAgent.js';

/** What a cheap-model call needs. */
export interface CheapModelDeps {
  gateway: GatewayPort;
  /** Gateway base URL (reachable from the host). */
  gatewayUrl: string;
  logger: Logger;
  /** Longest wait for the answer, ms (default 60,000). */
  timeoutMs?: number;
}

/** One call. */
export interface CheapModelCall {
  workflowId: string;
  /** Gateway run key (`<workflowId>#assess-1`, `<workflowId>#classify`): one per call. */
  runKey: string;
  /** Logged with the gateway run (no secrets). */
  meta: Record<string, unknown>;
  /** What the run may still spend: tokens, USD. */
  limits: { tokens: number; usd: number };
  model: string;
  system: string;
  user: string;
  /** Output cap, tokens (default 1024). */
  maxTokens?: number;
}

/** The answer's text, or why there is none (`failure`), and the metered spend either way. */
export interface CheapModelAnswer {
  text?: string;
  failure?: string;
  spend: Spend;
}

/** Calls the model; never throws for a model or network failure (see `failure`). */
export async function callCheapModel(deps: CheapModelDeps, call: CheapModelCall): Promise<CheapModelAnswer> {
  const { token } = deps.gateway.openRun(call.runKey, call.limits, undefined, { workflowId: call.workflowId, ...call.meta });
  registerSecret(token);
  let text: string | undefined;
  let failure: string | undefined;
  let spend = ZERO_SPEND;
  try {
    const res = await fetch(`${deps.gatewayUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': token, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: call.model, max_tokens: call.maxTokens ?? 1024, system: call.system, messages: [{ role: 'user', content: call.user }] }),
      signal: AbortSignal.timeout(deps.timeoutMs ?? 60_000),
    });
    const body = (await res.json().catch(() => undefined)) as { content?: Array<{ type?: string; text?: string }>; error?: { message?: string } } | undefined;
    if (!res.ok) failure = `the model answered HTTP ${res.status}${body?.error?.message ? `: ${body.error.message.slice(0, 200)}` : ''}`;
    else text = (body?.content ?? []).map((c) => (c.type === 'text' ? (c.text ?? '') : '')).join('');
  } catch (err) {
    failure = `no model reachable (${err instanceof Error ? err.name : 'error'})`;
  } finally {
    spend = addSpend(ZERO_SPEND, deps.gateway.closeRun(call.runKey));
  }
  return { ...(text !== undefined ? { text } : {}), ...(failure !== undefined ? { failure } : {}), spend };
}

/**
 * The first JSON object in a model's answer text (models wrap it in prose or a code fence), as a
 * record; undefined when there is none or it does not parse. Pure.
 */
export function jsonObjectIn(text: string): Record<string, unknown> | undefined {
  const m = /\{[\s\S]*\}/.exec(text);
  if (!m) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(m[0]);
  } catch {
    return undefined;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
