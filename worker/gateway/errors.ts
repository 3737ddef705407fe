/**
 * Gateway errors: the typed {@link GatewayError} of the gateway's own API, and the error bodies
 * sent to agents in each provider's format:
 * - Anthropic `{type: "error", error: {type, message}}`: https://docs.anthropic.com/en/api/errors
 * - OpenAI `{error: {message, type, param, code}}`: https://platform.openai.com/docs/guides/error-codes
 */
import type { ServerResponse } from 'node:http';
import type { GatewayApi } from './types.js';

/** Codes of {@link GatewayError}. */
export type GatewayErrorCode =
  /** The upstream API could not be reached (connection refused, DNS, TLS, reset before headers). */
  | 'upstream_unreachable'
  /** No run is registered under that key. */
  | 'unknown_run'
  /** The gateway is not listening. */
  | 'not_started';

/** A typed gateway error. `upstream_unreachable` is an infrastructure failure, not the agent's. */
export class GatewayError extends Error {
  /** Unix ms when it happened. */
  readonly at = Date.now();
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly upstream?: GatewayApi,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }
}

/** What an error answer to the agent is about; picks the provider-specific type and code. */
export type ErrorKind =
  | 'budget_exhausted'
  | 'unknown_model'
  | 'unauthorized'
  | 'upstream_unreachable'
  | 'not_found'
  | 'method_not_allowed'
  | 'invalid_request'
  | 'request_too_large'
  | 'not_forwarded'
  | 'too_many_in_flight';

/** HTTP status of a budget refusal: not retried by either CLI (see the report in the module tests). */
export const BUDGET_STATUS: Record<GatewayApi, number> = { anthropic: 402, openai: 402 };

const ANTHROPIC_ERROR_TYPE: Record<ErrorKind, string> = {
  budget_exhausted: 'billing_error',
  unknown_model: 'invalid_request_error',
  unauthorized: 'authentication_error',
  upstream_unreachable: 'api_error',
  not_found: 'not_found_error',
  method_not_allowed: 'invalid_request_error',
  invalid_request: 'invalid_request_error',
  request_too_large: 'request_too_large',
  not_forwarded: 'invalid_request_error',
  too_many_in_flight: 'rate_limit_error',
};

const OPENAI_ERROR: Record<ErrorKind, { type: string; code: string }> = {
  budget_exhausted: { type: 'insufficient_quota', code: 'budget_exhausted' },
  unknown_model: { type: 'invalid_request_error', code: 'model_not_priced' },
  unauthorized: { type: 'invalid_request_error', code: 'invalid_api_key' },
  upstream_unreachable: { type: 'server_error', code: 'upstream_unreachable' },
  not_found: { type: 'invalid_request_error', code: 'not_found' },
  method_not_allowed: { type: 'invalid_request_error', code: 'method_not_allowed' },
  invalid_request: { type: 'invalid_request_error', code: 'invalid_request' },
  request_too_large: { type: 'invalid_request_error', code: 'request_too_large' },
  not_forwarded: { type: 'invalid_request_error', code: 'not_forwarded' },
  too_many_in_flight: { type: 'rate_limit_error', code: 'too_many_requests_in_flight' },
};

/**
 * Answers with an error body in the API's own format; `x-should-retry: false` tells Anthropic SDKs
 * not to retry (unless `retry` is set: then a `retry-after` of 1 s is sent instead). `param` is the
 * OpenAI `param` field (the refused field's path), null when absent.
 */
export function sendError(res: ServerResponse, api: GatewayApi, status: number, kind: ErrorKind, message: string, opts: { param?: string; retry?: boolean } = {}): void {
  const body =
    api === 'anthropic'
      ? { type: 'error', error: { type: ANTHROPIC_ERROR_TYPE[kind], message } }
      : { error: { message, type: OPENAI_ERROR[kind].type, param: opts.param ?? null, code: OPENAI_ERROR[kind].code } };
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
  if (opts.retry) headers['retry-after'] = '1';
  else headers['x-should-retry'] = 'false';
  res.writeHead(status, headers);
  res.end(text);
}

/** A short description of a thrown value (message and its cause's message), never a stack. */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
