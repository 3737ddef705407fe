/**
 * Typed errors of activities. Each has a stable `code`; the workflow reports it, Temporal's retry
 * policy reads `nonRetryable` from the ApplicationFailure the activity throws.
 */
import { ApplicationFailure } from '@temporalio/activity';

/** Codes of Nightshift's activity errors. */
export type NightshiftErrorCode =
  | 'GIT_FAILED'
  | 'CLONE_FAILED'
  | 'PUSH_FAILED'
  | 'BRANCH_GUARD'
  | 'DOCKER_UNAVAILABLE'
  | 'SANDBOX_FAILED'
  | 'IMAGE_MISSING'
  | 'GITHUB_FAILED'
  | 'LINEAR_FAILED'
  | 'SLACK_FAILED'
  | 'UPSTREAM_UNREACHABLE'
  | 'CONFIG_INVALID'
  | 'NOTIFY_UNCONFIGURED';

/** An error with a code, a cause and details; `retryable` says whether trying again may help. */
export class NightshiftError extends Error {
  constructor(
    readonly code: NightshiftErrorCode,
    message: string,
    readonly options: { cause?: unknown; details?: Record<string, unknown>; retryable?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'NightshiftError';
  }

  get retryable(): boolean {
    return this.options.retryable ?? true;
  }

  /** The Temporal failure to throw from an activity: type = code, retryable as classified. */
  toFailure(): ApplicationFailure {
    return ApplicationFailure.create({
      type: this.code,
      message: this.message,
      nonRetryable: !this.retryable,
      details: this.options.details ? [this.options.details] : [],
      cause: this.cause instanceof Error ? this.cause : undefined,
    });
  }
}

/** Converts a NightshiftError into a Temporal ApplicationFailure; rethrows anything else as is. */
export function asFailure(err: unknown): never {
  if (err instanceof NightshiftError) throw err.toFailure();
  throw err;
}
