/**
 * The run ledger's rows and its interface (issue 10, item 4).
 *
 * The ledger keeps every run's request, plan, attempts, trace (normalized agent events),
 * validations, spend and outcome beyond Temporal's retention. It is written by activities as the
 * run goes (`activities/ledger.ts`) and read by the CLI (`nightshift runs …`), the spend caps, the
 * morning digest and the calibration report.
 *
 * Units: timestamps are Unix milliseconds; money is US dollars; tokens are model tokens (input +
 * output + cache reads and writes, as the gateway meters them).
 *
 * This module imports types only (no side effects): the workflow bundle may import it to build
 * activity inputs.
 */
import type {
  AgentKind,
  AttemptEnd,
  BudgetKind,
  RunOutcomeKind,
  RunPhase,
  StuckRule,
  TaskSource,
} from '../workflows/types.js';

/** Where a run is in its life, coarser than the workflow's `RunPhase`. */
export type LedgerRunStatus = 'queued' | 'waiting' | 'running' | 'awaiting_human' | 'done';

/** Every status, in life order (for validation and CLI help). */
export const LEDGER_RUN_STATUSES: readonly LedgerRunStatus[] = [
  'queued',
  'waiting',
  'running',
  'awaiting_human',
  'done',
];

/** Money and tokens spent. */
export interface LedgerSpend {
  /** US dollars. */
  usd: number;
  /** Model tokens. */
  tokens: number;
}

/**
 * One run (one `agentTask` workflow), keyed by its workflow id.
 *
 * `spend` is the run's latest known total: for a run in flight it is what the gateway had
 * metered at the last write (see `Ledger.spendBetween`).
 */
export interface RunRow {
  workflowId: string;
  /** Where the request came from (`TaskSource.kind`). */
  originKind: TaskSource['kind'];
  /** A link back to the origin: Linear issue URL or identifier, Slack `channel/threadTs`, or absent for the CLI. */
  originLink?: string;
  /** Repository name (a key of `repos` in the configuration). */
  repo: string;
  /** Team the run is counted against (spend caps, digest, fairness); absent when not configured. */
  team?: string;
  /** Who asked (Linear user name, Slack user id, local user name). */
  requester: string;
  title: string;
  /** 1 (urgent) … 4 (low), as Linear numbers them; 3 is normal. */
  priority: number;
  status: LedgerRunStatus;
  /** The workflow's last reported phase, finer than `status`. */
  phase?: RunPhase;
  /** Set when `status` is `done`. */
  outcome?: RunOutcomeKind;
  /** One line: why the run ended as it did, or why it waits (window, spend cap, human). */
  reason?: string;
  /** When the run was requested (Unix ms). */
  createdAt: number;
  /** Last write to this row (Unix ms). */
  updatedAt: number;
  /** When the first attempt started (Unix ms). */
  startedAt?: number;
  /** When the run reached `done` (Unix ms). */
  finishedAt?: number;
  spend: LedgerSpend;
  /** Attempts started so far. */
  attempts: number;
  prUrl?: string;
  /** Branch holding partial work, when the run escalated. */
  wipBranch?: string;
  agent?: AgentKind;
  model?: string;
  /**
   * The scope's plan and classification, as JSON (free-form; issue 12 puts task type, size, risk
   * and the routing rule here). Must be JSON-serialisable.
   */
  plan?: unknown;
  /** Task type from classification (`bug_fix`, `tests`, `refactor`, `dependency`, `docs`, `feature`), for grouping. */
  taskType?: string;
  /** Expected size from classification (`small`, `medium`, `large`). */
  taskSize?: string;
  /** Risk from classification and config (`low`, `medium`, `high`). */
  taskRisk?: string;
  /** Model tier the routing policy chose (`small`, `medium`, `large`). */
  modelTier?: string;
  /** The routing rule that chose the tier, as shown in the report (e.g. `routing[0]: type in [docs, tests] → small`). */
  routingRule?: string;
}

/**
 * A partial write to a run. Fields left out keep their stored value; on the first write of a
 * run the missing ones take defaults (`originKind` `cli`, empty `repo`/`requester`/`title`,
 * `priority` 3, `status` `queued`, `createdAt` now, zero spend and attempts).
 */
export type RunPatch = { workflowId: string } & Partial<Omit<RunRow, 'workflowId' | 'updatedAt'>>;

/** One attempt of the agent (prepare → agent → validate), keyed by (workflowId, attempt). */
export interface AttemptRow {
  workflowId: string;
  /** 1-based attempt number. */
  attempt: number;
  /** Unix ms. */
  startedAt: number;
  /** Unix ms; absent while the attempt runs. */
  endedAt?: number;
  /** How the attempt ended; absent while it runs. */
  end?: AttemptEnd;
  agent?: AgentKind;
  model?: string;
  /** Spend of this attempt only (latest known while it runs). */
  spend: LedgerSpend;
  /** Stuck rule that stopped the attempt, if any. */
  stuckRule?: StuckRule;
  /** Budget the attempt breached, if any. */
  budgetKind?: BudgetKind;
  /** Why the attempt is a failure, when it is one (one line). */
  failure?: string;
  /** The agent's own final message (redacted, truncated). */
  finalMessage?: string;
  /** `git diff --stat` against the base commit after the attempt. */
  diffStat?: string;
  filesChanged?: string[];
}

/** Kinds of trace events. */
export type TraceEventKind =
  | 'tool_call'
  | 'command'
  | 'edit'
  | 'error'
  | 'message'
  | 'validation'
  | 'phase';

/**
 * One event of a run's trace, keyed by (workflowId, attempt, seq): appending the same key twice
 * keeps the first write (appends are idempotent, so a retried activity adds nothing twice).
 * `attempt` 0 holds events outside any attempt (phases, the base commit's tests).
 */
export interface TraceEventRow {
  workflowId: string;
  attempt: number;
  /** Order within the attempt, from 0. */
  seq: number;
  /** Unix ms. */
  ts: number;
  kind: TraceEventKind;
  /** Tool name for `tool_call` / `command` / `edit` (`Bash`, `exec_command`, `apply_patch`, …). */
  tool?: string;
  /** Searchable text: the command and its output tail, the error, the message (redacted). */
  text: string;
  isError?: boolean;
  exitCode?: number;
}

/** A validation by Nightshift (the repository's tests), keyed by (workflowId, attempt). Attempt 0 is the base commit. */
export interface ValidationRow {
  workflowId: string;
  attempt: number;
  /** Unix ms. */
  ts: number;
  passed: boolean;
  exitCode: number;
  command: string;
  durationMs: number;
  failingTests: string[];
  counts?: { passed: number; failed: number; skipped: number; total: number };
  /** The test contract's one-line summary, when checked. */
  contractSummary?: string;
  /** Last lines of the output (redacted). */
  outputTail: string;
}

/** Where an agent-authored pull request stands on GitHub. */
export type PullRequestState = 'open' | 'merged' | 'closed';

/**
 * A pull request a run opened, followed after opening (issue 12, item 3), keyed by the run's
 * workflow id. Written by PR tracking (GitHub webhooks or the polling Schedule, see
 * activities/prTracking.ts); read by the calibration report.
 */
export interface PullRequestRow {
  workflowId: string;
  /** Repository name (a key of `repos`). */
  repo: string;
  /** `owner/name` on GitHub. */
  githubRepo: string;
  number: number;
  /** `html_url`. */
  url: string;
  /** When GitHub created it (Unix ms). */
  openedAt: number;
  state: PullRequestState;
  /** Unix ms, when merged. */
  mergedAt?: number;
  /** Unix ms, when closed (merged or not). */
  closedAt?: number;
  /** Review rounds: distinct head commits that received a human review (0: none yet). */
  reviewRounds: number;
  /** Commits on the PR's branch not authored by Nightshift. */
  humanCommits: number;
  /** Last refresh from GitHub (Unix ms). */
  lastCheckedAt?: number;
  /** What caused the last refresh: `poll`, `register` or the webhook event (`pull_request.closed`, …). */
  lastEvent?: string;
}

/** Filter of `Ledger.listPullRequests`. All given fields must match. */
export interface PullRequestFilter {
  state?: PullRequestState | PullRequestState[];
  /** Opened at or after (Unix ms). */
  openedSince?: number;
  githubRepo?: string;
  number?: number;
  /** At most this many, least recently checked first (default 500). */
  limit?: number;
}

/** An attempt with its run's creation time (what the calibration report reads). */
export type AttemptOfRun = AttemptRow & { runCreatedAt: number };

/** Filter of `Ledger.listRuns`. All given fields must match. */
export interface RunFilter {
  repo?: string;
  team?: string;
  status?: LedgerRunStatus | LedgerRunStatus[];
  /** Runs created at or after (Unix ms). */
  since?: number;
  /** Runs created before (Unix ms). */
  until?: number;
  /** At most this many, newest first (default 100). */
  limit?: number;
}

/** A run with everything recorded about it. */
export interface RunDetail {
  run: RunRow;
  attempts: AttemptRow[];
  /** In (attempt, seq) order. */
  events: TraceEventRow[];
  validations: ValidationRow[];
}

/** One full-text match in the traces. */
export interface SearchHit {
  workflowId: string;
  attempt: number;
  seq: number;
  ts: number;
  kind: TraceEventKind;
  tool?: string;
  repo: string;
  /** A short excerpt around the match, matched terms in `[` `]`. */
  snippet: string;
}

/** Which runs a spend total counts: one team, one repository, or (neither) all. */
export interface SpendScope {
  team?: string;
  repo?: string;
}

/** What `Ledger.spendBetween` returns. */
export interface SpendTotal extends LedgerSpend {
  /** Runs counted. */
  runs: number;
  /** Of those, runs not yet `done` (counted at their latest known spend). */
  inFlight: number;
}

/** One spend period a reservation is checked against: the runs of `scope` counted in [from, to) (Unix ms). */
export interface SpendPeriodQuery {
  scope: SpendScope;
  from: number;
  to: number;
}

/** What `Ledger.reserveSpend` is asked (see ledger/reserve.ts). */
export interface SpendReservation<T> {
  /** The run reserving; in the totals it counts at its spend only. */
  workflowId: string;
  /** Its repository and team (its row is created with them when the recorder has not written it yet). */
  repo: string;
  team?: string;
  /** When the reservation is made (Unix ms): the run's spend counts in this instant's period until its first attempt starts. */
  at: number;
  periods: SpendPeriodQuery[];
  /**
   * Given the committed spend of each period (USD, same order), the verdict: `reserveUsd`, the
   * run's spend ceiling to reserve (its spend so far + what it may still spend), `null` to drop
   * the run's reservation, or absent to leave it; `value` is returned to the caller.
   */
  decide(committedUsd: number[]): { reserveUsd?: number | null; value: T };
}

/**
 * The run store. Two engines implement it with one schema and the same queries: SQLite
 * (embedded, `<stateDir>/ledger.sqlite`, WAL) and PostgreSQL (`ledger.url`).
 * Every method rejects with a `LedgerError` on a storage failure.
 */
export interface Ledger {
  /** Which engine backs this ledger. */
  readonly engine: 'sqlite' | 'postgres';
  /** Inserts the run or updates the given fields; `updatedAt` is set to now. */
  upsertRun(patch: RunPatch): Promise<void>;
  /** Inserts or replaces the attempt (called at its start and at its end); keeps `runs.attempts` ≥ this attempt. */
  recordAttempt(row: AttemptRow): Promise<void>;
  /** Appends events in one transaction; rows whose (workflowId, attempt, seq) exist are skipped. Returns how many were new. */
  appendEvents(events: TraceEventRow[]): Promise<number>;
  /** Inserts or replaces the validation of (workflowId, attempt). */
  recordValidation(row: ValidationRow): Promise<void>;
  /** Runs matching the filter, newest (`createdAt`) first. */
  listRuns(filter?: RunFilter): Promise<RunRow[]>;
  /** The run with its attempts, trace and validations; `undefined` when unknown. */
  getRun(workflowId: string): Promise<RunDetail | undefined>;
  /** Full-text search over the traces' commands, errors and messages; best matches first, then newest. */
  search(text: string, limit?: number): Promise<SearchHit[]>;
  /**
   * Spend of the runs in scope whose spend period began in [from, to) (Unix ms): a run counts in
   * the period of its `startedAt` (when not started: of its spend reservation, else its
   * `createdAt`). Runs in flight count at their latest known spend.
   */
  spendBetween(scope: SpendScope, from: number, to: number): Promise<SpendTotal>;
  /**
   * Like `spendBetween`, but what runs are committed to: a run holding a reservation, neither
   * `awaiting_human` nor `done`, counts at max(spend, reservation); `self` (a workflow id)
   * counts at its spend only. A run counts in the period of its start, else its reservation, else
   * its request.
   */
  committedBetween(scope: SpendScope, from: number, to: number, self?: string): Promise<SpendTotal>;
  /**
   * Reads the committed spend of each period and writes the run's reservation in one locked
   * transaction (two runs reserving at once see each other); see {@link SpendReservation}.
   */
  reserveSpend<T>(r: SpendReservation<T>): Promise<T>;
  /**
   * Drops a run's spend reservation (it gave its sandbox slot back: it is done, or waits for a
   * human), raising its recorded spend to at least `spentUsd` (USD) so nothing it spent goes
   * uncounted before its recorder writes. No-op for an unknown run.
   */
  releaseReservation(workflowId: string, spentUsd: number): Promise<void>;
  /** Same as `spendBetween`, grouped by team or by repository (runs with no team under `''`). */
  spendByGroup(by: 'team' | 'repo', from: number, to: number): Promise<Array<SpendTotal & { key: string }>>;
  /** Inserts or replaces the tracked pull request of a run (keyed by workflow id). */
  upsertPullRequest(row: PullRequestRow): Promise<void>;
  /** Tracked pull requests matching the filter, least recently checked first. */
  listPullRequests(filter?: PullRequestFilter): Promise<PullRequestRow[]>;
  /** Attempts of the runs created in [since, until) (Unix ms), by run then attempt. */
  listAttempts(since: number, until: number): Promise<AttemptOfRun[]>;
  /** Closes connections; further calls reject. */
  close(): Promise<void>;
}

/** Codes of `LedgerError`. */
export type LedgerErrorCode = 'open_failed' | 'migration_failed' | 'query_failed' | 'bad_input' | 'closed';

/** A ledger failure: `code` says which, `cause` holds the driver's error (its message may name SQL, never a secret). */
export class LedgerError extends Error {
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LedgerError';
    this.details = options?.details ?? {};
  }
  readonly details: Record<string, unknown>;
}

/**
 * The ledger's activities (activities/ledger.ts), for the workflow to call at phase changes.
 * Each is idempotent: a retry writes the same row again. Text is redacted before it is stored.
 */
export interface LedgerActivities {
  /** See `Ledger.upsertRun`. */
  ledgerUpsertRun(patch: RunPatch): Promise<void>;
  /** See `Ledger.recordAttempt`. */
  ledgerRecordAttempt(row: AttemptRow): Promise<void>;
  /** See `Ledger.appendEvents`; resolves to how many events were new. */
  ledgerAppendEvents(events: TraceEventRow[]): Promise<number>;
  /** See `Ledger.recordValidation`. */
  ledgerRecordValidation(row: ValidationRow): Promise<void>;
}
