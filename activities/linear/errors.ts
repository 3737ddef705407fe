/**
 * The typed error of every Linear call: {@link LinearApiError} (code `LINEAR_FAILED`, a `reason`
 * from the SDK's error type, the HTTP status, the SDK error as `cause`). `retryable` is set from
 * the error's type and status, never from its message. A rate-limited call carries `retryAfterMs`
 * (from Linear's `Retry-After`, else `X-RateLimit-Requests-Reset`, as `@linear/sdk@98`'s
 * `RatelimitedLinearError` parses them) and its Temporal failure asks for that `nextRetryDelay`,
 * so Temporal waits the limit out instead of backing off blindly.
 */
import { LinearError, LinearErrorType, RatelimitedLinearError } from '@linear/sdk';
import { ApplicationFailure } from '@temporalio/activity';
import { NightshiftError } from '../errors.js';
import { redactError } from '../../worker/redact.js';

/** Why a Linear call failed: the SDK's error type, or one of ours. */
/** `BudgetWait`: not sent, the wait for a request token outlived the calling activity (./rateBudget.ts). */
export type LinearFailureReason = `${LinearErrorType}` | 'Network' | 'Unsuccessful' | 'BudgetWait';

/** Wait when Linear says "rate limited" without saying how long, ms. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

/** A failed Linear API call. `details`: `{reason, status, retryAfterMs?}`. */
export class LinearApiError extends NightshiftError {
  /** How long to wait before the next request, ms (rate-limited calls only). */
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    /** Classification of the failure (the SDK's `LinearErrorType`, or `Network` / `Unsuccessful`). */
    readonly reason: LinearFailureReason,
    /** HTTP status of the response, when there was one. */
    readonly status: number | undefined,
    options: { cause?: unknown; retryable: boolean; retryAfterMs?: number },
  ) {
    super('LINEAR_FAILED', message, {
      cause: options.cause,
      retryable: options.retryable,
      details: { reason, status, ...(options.retryAfterMs !== undefined ? { retryAfterMs: options.retryAfterMs } : {}) },
    });
    this.name = 'LinearApiError';
    this.retryAfterMs = options.retryAfterMs;
  }

  /** As NightshiftError's, plus `nextRetryDelay` = {@link retryAfterMs} when Linear said how long to wait. */
  override toFailure(): ApplicationFailure {
    const base = super.toFailure();
    if (this.retryAfterMs === undefined || !this.retryable) return base;
    return ApplicationFailure.create({
      type: this.code,
      message: this.message,
      nonRetryable: false,
      details: this.options.details ? [this.options.details] : [],
      cause: this.cause instanceof Error ? redactError(this.cause) : undefined,
      nextRetryDelay: this.retryAfterMs,
    });
  }
}

/** Linear error types worth another try: throttling, transient server trouble, the network. */
const RETRYABLE_TYPES = new Set<string>([LinearErrorType.Ratelimited, LinearErrorType.NetworkError, LinearErrorType.InternalError, LinearErrorType.LockTimeout]);

/** Milliseconds to wait after a rate-limited answer (`Retry-After` seconds, else the reset time, else a minute). */
function retryAfterOf(err: RatelimitedLinearError, now: number): number {
  if (err.retryAfter !== undefined && err.retryAfter >= 0) return Math.round(err.retryAfter * 1000);
  if (err.requestsResetAt !== undefined && err.requestsResetAt > now) return err.requestsResetAt - now;
  return DEFAULT_RATE_LIMIT_WAIT_MS;
}

/** Wraps any error thrown by the SDK (or fetch) into a {@link LinearApiError}. */
export function toLinearApiError(err: unknown, what: string): LinearApiError {
  if (err instanceof LinearApiError) return err;
  if (err instanceof LinearError) {
    const status = err.status;
    const noAnswer = status === undefined && (err.errors?.length ?? 0) === 0;
    // The SDK reports a request that never got an answer (DNS, refused connection) as Unknown
    // with no status and no GraphQL errors.
    const reason: LinearFailureReason = noAnswer ? 'Network' : (err.type ?? LinearErrorType.Unknown);
    const retryable = noAnswer || RETRYABLE_TYPES.has(reason) || (status !== undefined && (status >= 500 || status === 429));
    const retryAfterMs = err instanceof RatelimitedLinearError ? retryAfterOf(err, Date.now()) : undefined;
    return new LinearApiError(`${what}: ${err.message}`, reason, status, { cause: err, retryable, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  // Not from the SDK: fetch itself failing, or a bug. Only a fetch TypeError is a network failure.
  const network = err instanceof TypeError;
  return new LinearApiError(`${what}: ${err instanceof Error ? err.message : String(err)}`, network ? 'Network' : LinearErrorType.Unknown, undefined, {
    cause: err,
    retryable: network,
  });
}
