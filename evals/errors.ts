/** Typed errors of the eval harness (`nightshift eval`). */

/** Codes of {@link EvalError}. */
export type EvalErrorCode =
  /** A suite folder or one of its tasks is malformed (task.toml, instruction.md, repo snapshot). */
  | 'SUITE_INVALID'
  /** A variant file is malformed (YAML or its keys). */
  | 'VARIANT_INVALID'
  /** The judge's model could not be reached or its answer was not the JSON asked for. */
  | 'JUDGE_FAILED'
  /** Preparing a task's repository or running its hidden tests failed for an infrastructure reason. */
  | 'EVAL_INFRA';

/** An eval error with a stable code, a cause and details (no secret ever goes in either). */
export class EvalError extends Error {
  constructor(
    readonly code: EvalErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'EvalError';
  }
}
