/**
 * Typed errors of activities. Each has a stable `code`; the workflow reports it, Temporal's retry
 * policy reads `nonRetryable` from the ApplicationFailure the activity throws.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { redact, redactDeep, redactError } from '../worker/redact.js';

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
  | 'NOTIFY_UNCONFIGURED'
  /** The sandbox network's host firewall rules are not in place: no agent may start. */
  | 'SANDBOX_ISOLATION'
  /** A change may not be pushed: a human rejected it, or it needs an approval it does not have. */
  | 'DIFF_GATE'
  /** A repository's environment declaration (config or devcontainer.json) is invalid. */
  | 'ENV_INVALID'
  /** Building the environment's image failed (base image, Dockerfile, agent layer). */
  | 'ENV_BUILD_FAILED'
  /** A setup command of the environment failed or timed out. */
  | 'ENV_SETUP_FAILED'
  /** A run's WIP branch no longer points at the commit the run pushed (someone else pushed to it). */
  | 'WIP_MOVED';

/**
 * An error with a code, a cause and details; `retryable` says whether trying again may help.
 * Its message and details are redacted of every registered secret when it is made.
 */
export class NightshiftError extends Error {
  readonly options: { cause?: unknown; details?: Record<string, unknown>; retryable?: boolean };
  constructor(
    readonly code: NightshiftErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown>; retryable?: boolean } = {},
  ) {
    super(redact(message), { cause: options.cause });
    this.name = 'NightshiftError';
    this.options = { ...options, details: options.details ? redactDeep(options.details) : undefined };
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
      cause: this.cause instanceof Error ? redactError(this.cause) : undefined,
    });
  }
}

/**
 * Converts a NightshiftError into a Temporal ApplicationFailure; anything else leaves as an error
 * of the same name whose message, stack and cause are redacted. Cancellation passes through as is.
 */
export function asFailure(err: unknown): never {
  if (err instanceof NightshiftError) throw err.toFailure();
  if (err instanceof CancelledFailure) throw err;
  if (err instanceof ApplicationFailure) {
    throw ApplicationFailure.create({ type: err.type ?? undefined, message: redact(err.message), nonRetryable: err.nonRetryable ?? undefined, details: redactDeep(err.details ?? []) });
  }
  if (err instanceof Error) throw redactError(err);
  throw new Error(redact(String(err)));
}
