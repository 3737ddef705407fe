/**
 * The gateway's allow-list: what of an agent's request may reach the provider. The gateway meters
 * the tokens a response reports and bounds a request's input by its size; anything that makes the
 * provider fetch a URL (an exfiltration path around the sandbox's network isolation), read state
 * stored on the provider's side (input the body size does not bound), run tools on the provider's
 * side, or switch on premium pricing is not forwarded. Everything not listed here is refused with
 * HTTP 400 in the API's own error format, naming what was refused, before any byte goes upstream.
 *
 * Per API: top-level request fields (and the values some of them may take), tool types, content
 * block / input item types and their sources, and request headers. Headers not listed are dropped
 * (not refused), except the feature-switching `anthropic-beta` / `openai-beta`, whose values are
 * refused unless listed. The agent's own credential headers are never forwarded.
 *
 * The lists per API are in {@link ./allowAnthropic.ts} and {@link ./allowOpenai.ts}.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { checkAnthropicBody } from './allowAnthropic.js';
import { checkOpenaiBody } from './allowOpenai.js';
import type { GatewayApi } from './types.js';

/** What an operator enabled beyond the default allow-list (config `gateway.allow`). */
export interface AllowPolicy {
  /**
   * Anthropic's 1M-token context window (`anthropic-beta: context-1m-*`), forwarded only for a
   * model whose price has a `longContext` tier (so it is metered at the premium rate).
   * https://docs.anthropic.com/en/docs/build-with-claude/context-windows#1m-token-context-window
   */
  longContext: boolean;
}

/** The default policy: nothing beyond the allow-list. */
export const DEFAULT_ALLOW: AllowPolicy = { longContext: false };

/** Why a request was refused: what (`field`, `tool`, ...), where (a JSON path or header name), the message for the agent. */
export interface Refusal {
  kind: 'field' | 'value' | 'tool' | 'block' | 'source' | 'item' | 'header';
  /** JSON path of the refused part (`tools[2].type`, `messages[0].content[1].source.type`) or the header name. */
  path: string;
  /** The agent-facing message (names the part, says the gateway does not forward it, links the provider doc). */
  message: string;
}

/** Context a body check needs. */
export interface CheckContext {
  policy: AllowPolicy;
  /** Whether the requested model's price has a `longContext` tier. */
  longContextPriced: boolean;
}

/** Builds a {@link Refusal} with the standard wording. */
export function refusal(kind: Refusal['kind'], path: string, what: string, why: string, doc?: string): Refusal {
  return {
    kind,
    path,
    message: `Nightshift gateway: ${what} is not forwarded: Nightshift's gateway does not forward it, because ${why}.${doc ? ` See ${doc}` : ''}`,
  };
}

/** Anthropic `anthropic-beta` values forwarded: those Claude Code 2.1.197 sends, none of which changes pricing or adds server-side fetching. */
export const ANTHROPIC_BETAS: ReadonlySet<string> = new Set([
  'claude-code-20250219',
  'interleaved-thinking-2025-05-14',
  'thinking-token-count-2026-05-13',
  'context-management-2025-06-27',
  'prompt-caching-scope-2026-01-05',
]);

/** Prefix of the long-context beta (priced at a premium above 200k input tokens), allowed by `gateway.allow.longContext`. */
export const LONG_CONTEXT_BETA_PREFIX = 'context-1m-';

/** Request headers forwarded upstream per API (lower case); the rest are dropped. Keys are added by the gateway. */
const FORWARDED_HEADERS: Record<GatewayApi, ReadonlySet<string>> = {
  anthropic: new Set(['accept', 'content-type', 'user-agent', 'anthropic-version', 'anthropic-beta']),
  openai: new Set(['accept', 'content-type', 'user-agent']),
};

/**
 * The headers to forward for a request, or the refusal of a feature-switching header value.
 * Never includes `authorization` / `x-api-key` (the agent's run token).
 */
export function forwardedHeaders(api: GatewayApi, headers: IncomingHttpHeaders, ctx: CheckContext): { ok: true; headers: Record<string, string> } | { ok: false; refusal: Refusal } {
  const out: Record<string, string> = {};
  if (api === 'openai' && headers['openai-beta'] !== undefined) {
    return {
      ok: false,
      refusal: refusal('header', 'openai-beta', `the header "openai-beta: ${String(headers['openai-beta'])}"`, 'it switches on API features the gateway cannot meter', 'https://platform.openai.com/docs/api-reference/responses'),
    };
  }
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || !FORWARDED_HEADERS[api].has(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  const beta = out['anthropic-beta'];
  if (api === 'anthropic' && beta !== undefined) {
    for (const value of beta.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (ANTHROPIC_BETAS.has(value)) continue;
      if (value.startsWith(LONG_CONTEXT_BETA_PREFIX)) {
        if (ctx.policy.longContext && ctx.longContextPriced) continue;
        return {
          ok: false,
          refusal: refusal(
            'header',
            'anthropic-beta',
            `the beta "anthropic-beta: ${value}"`,
            ctx.policy.longContext
              ? 'the model has no longContext price in gateway.prices, so the premium long-context rate cannot be metered'
              : 'long context is billed at a premium rate and gateway.allow.longContext is off',
            'https://docs.anthropic.com/en/docs/build-with-claude/context-windows#1m-token-context-window',
          ),
        };
      }
      return {
        ok: false,
        refusal: refusal(
          'header',
          'anthropic-beta',
          `the beta "anthropic-beta: ${value}"`,
          'only betas that neither change pricing nor make the provider fetch, run or store anything are forwarded',
          'https://docs.anthropic.com/en/api/beta-headers',
        ),
      };
    }
  }
  return { ok: true, headers: out };
}

/** Checks a request body against the API's allow-list; `undefined` when it may be forwarded. */
export function checkBody(api: GatewayApi, body: Record<string, unknown>, ctx: CheckContext): Refusal | undefined {
  return api === 'anthropic' ? checkAnthropicBody(body, ctx) : checkOpenaiBody(body, ctx);
}
