/**
 * Types shared by workflows, activities, bots and the worker.
 *
 * This module must stay free of side effects and of Node APIs: the workflow bundle imports it.
 */

/** The agent CLI a run uses. */
export type AgentKind = 'claude-code' | 'codex';

/** Where a request came from, and so where every message about the run goes back to. */
export type TaskSource =
  | {
      kind: 'linear';
      /** Linear issue UUID. */
      issueId: string;
      /** Human identifier such as `ENG-123`. */
      issueIdentifier?: string;
      issueUrl?: string;
      /** Set when the run was started from a Linear agent session. */
      agentSessionId?: string;
      /**
       * Linear user id of the requester (the session's creator, or the webhook's actor), for the
       * access check (`linear.allowedTeams`); absent in runs started before it existed.
       */
      requesterId?: string;
    }
  | {
      kind: 'slack';
      /** Slack channel id (`C…`). */
      channel: string;
      /** Timestamp of the thread's root message; replies go to this thread. */
      threadTs: string;
      /**
       * Timestamp of the run's live status message (kept current with `chat.update`), when it is
       * not the thread's root (a run started by an @mention: the bot's first reply in the thread).
       */
      statusTs?: string;
    }
  | { kind: 'cli' };

/** Budget limits of a run. */
export interface Budget {
  /** Wall-clock limit for agent work, in milliseconds. */
  wallClockMs: number;
  /** Model tokens (input + output, cache reads and writes included). */
  tokens: number;
  /** US dollars, priced by the gateway's price table. */
  usd: number;
}

/** Per-request overrides; each is capped by repository policy during scoping. */
export interface TaskOverrides {
  agent?: AgentKind;
  /** A model (priced); with model routing its tier is capped by the policy's `maxTier`. */
  model?: string;
  /** A model tier (`small`, `medium`, `large`), capped by the policy's `maxTier` (model routing). */
  tier?: 'small' | 'medium' | 'large';
  budget?: Partial<Budget>;
  maxAttempts?: number;
  /** Start at once, ignoring the repository's run window. */
  now?: boolean;
  /**
   * History length (events) past which the run continues as new at its next tranche boundary
   * (default 8,000; tests lower it). See workflows/run/continue.ts.
   */
  maxHistoryEvents?: number;
}

/** Input of the `agentTask` workflow. */
export interface TaskRequest {
  source: TaskSource;
  /** Who asked: Linear user name, Slack user id, or local user name. */
  requester: string;
  /** Repository name, a key of `repos` in the configuration. */
  repo: string;
  /** Short title (Linear issue title, first line of a Slack command). */
  title: string;
  /** The whole task text given to the agent. */
  task: string;
  overrides?: TaskOverrides;
  /**
   * Queue priority: 1 urgent, 2 high, 3 normal (the default), 4 low. Linear's issue priority
   * (1–4; 0 = none → normal) maps directly; Slack `--priority`; the CLI `--priority`.
   */
  priority?: number;
  /** Labels of the request (e.g. the Linear issue's): `classification.labels` may force the task type. */
  labels?: string[];
}

/** Spend metered by the gateway. */
export interface Spend {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** Sum of the four token counts above. */
  tokens: number;
  /** US dollars. */
  usd: number;
  /** Model requests forwarded upstream. */
  requests: number;
  /** Requests refused or trimmed because of the budget. */
  refusals: number;
}

export const ZERO_SPEND: Spend = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  tokens: 0,
  usd: 0,
  requests: 0,
  refusals: 0,
};

/** Adds two spends field by field. */
export function addSpend(a: Spend, b: Spend): Spend {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    tokens: a.tokens + b.tokens,
    usd: a.usd + b.usd,
    requests: a.requests + b.requests,
    refusals: a.refusals + b.refusals,
  };
}

/**
 * One event of an agent's run, normalized from the CLI's own stream
 * (Claude Code `stream-json`, Codex `exec --json`). `at` is Unix ms when the line was read.
 */
export type AgentEvent =
  | { kind: 'init'; at: number; sessionId?: string; model?: string; cliVersion?: string }
  /** A tool call and its result, emitted once the result is known. */
  | {
      kind: 'tool_call';
      at: number;
      id: string;
      /** Tool name as the CLI reports it (`Bash`, `Edit`, `exec_command`, `apply_patch`, …). */
      name: string;
      input: unknown;
      /** Tool output, possibly truncated. */
      result: string;
      isError: boolean;
      /** Shell exit code when the tool ran a command and the CLI reports it. */
      exitCode?: number;
    }
  | { kind: 'file_change'; at: number; paths: string[] }
  | {
      kind: 'usage';
      at: number;
      inputTokens: number;
      outputTokens: number;
      cacheReadTokens: number;
      cacheWriteTokens: number;
    }
  /** Assistant text. */
  | { kind: 'message'; at: number; text: string }
  /** The run's end as the CLI reports it: evidence, never the verdict. */
  | {
      kind: 'final';
      at: number;
      text: string;
      isError: boolean;
      /** Claude Code `result.subtype`, or `turn.completed` / `turn.failed` for Codex. */
      subtype: string;
      permissionDenials: number;
      /** Cost the CLI claims, USD (Claude Code only). */
      reportedCostUsd?: number;
      numTurns?: number;
    };

/** Names of the stuck-detection rules. */
export type StuckRule =
  | 'repeated_failing_call'
  | 'repeated_error'
  | 'alternating_loop'
  | 'no_progress'
  | 'silence';

/** A stuck verdict: which rule fired, how often, since when, and the evidence. */
export interface StuckVerdict {
  rule: StuckRule;
  /** How many times the pattern repeated when the verdict was reached. */
  repeats: number;
  /** Unix ms of the first event of the pattern. */
  startedAt: number;
  /** Unix ms of the verdict. */
  decidedAt: number;
  /** One-line human explanation. */
  message: string;
  /** The repeated call / error text / timestamps, as short strings. */
  evidence: string[];
}

/** Which budget a run breached. */
export type BudgetKind = 'time' | 'tokens' | 'usd';

export interface BudgetBreach {
  kind: BudgetKind;
  /** What was spent (ms, tokens or USD). */
  spent: number;
  /** The cap (ms, tokens or USD). */
  cap: number;
}

/** Result of running the repository's test command, by Nightshift. */
export interface ValidationResult {
  passed: boolean;
  exitCode: number;
  /** Last lines of combined stdout/stderr. */
  outputTail: string;
  /** Names of failing tests, when the output makes them recognisable. */
  failingTests: string[];
  durationMs: number;
  command: string;
  /** Tests run, by outcome, when the output makes them countable. */
  counts?: { passed: number; failed: number; skipped: number; total: number };
  /**
   * The test contract against the base commit's run (absent for the base run itself): tests that
   * existed must still run, tests that failed must pass by name. `passed` requires `contract.ok`.
   */
  contract?: TestContractResult;
  /** Git tree object that was tested (an export of exactly what would be pushed). */
  treeSha?: string;
  /** The run was stopped at its time limit. */
  timedOut?: boolean;
  /** For the base commit's run only: could the tests run at all (see activities/environment/preflight.ts)? */
  preflight?: PreflightResult;
}

/** The preflight's verdict on the base commit's test run. */
export interface PreflightResult {
  /** `environment_broken`: the tests cannot run (missing tool or package, hang before any test): no agent starts. */
  verdict: 'ok' | 'tests_failing' | 'environment_broken';
  /** Id of the rule that decided, e.g. `exit-127`, `node-module-not-found`. */
  rule: string;
  /** One line, e.g. "`npm`: command not found (exit 127)". */
  reason: string;
  /** What to declare (setup command or image) so that the environment has what is missing. */
  hint?: string;
}

/** The test contract's verdict on one validation (see activities/validate/contract.ts). */
export interface TestContractResult {
  ok: boolean;
  /** How it was checked: by test names, by counts, by suites (terse `go test`: a result per package), or not at all. */
  basis: 'names' | 'counts' | 'suites' | 'none';
  /** One line, e.g. `test contract broken: tests that existed before are gone: test_add`. */
  summary: string;
  violations: Array<{ kind: string; detail: string }>;
}

/** A command the agent ran, with its exit code. */
export interface CommandRecord {
  command: string;
  exitCode?: number;
  isError: boolean;
  /** Still running when Nightshift stopped the attempt (deadline, stuck verdict, budget, cancel). */
  interrupted?: boolean;
}

/** How one attempt of the agent ended. */
export type AttemptEnd =
  | 'agent_exited'
  | 'stuck'
  | 'budget'
  | 'agent_error'
  | 'permission_denied'
  /** Cut off with its worker host (workspace affinity, run/host.ts): its result was lost with the host's disk. */
  | 'host_lost';

/** Everything the workflow keeps of one attempt (results of the `runAgent` activity). */
export interface AttemptRecord {
  attempt: number;
  end: AttemptEnd;
  agent: AgentKind;
  model: string;
  /** The agent's own final message. */
  finalMessage: string;
  exitCode: number | null;
  stuck?: StuckVerdict;
  budget?: BudgetBreach;
  /** Spend of this attempt only. */
  spend: Spend;
  durationMs: number;
  /** `git diff --stat` of the workspace against the base commit after the attempt. */
  diffStat: string;
  filesChanged: string[];
  /** The commands that mattered (failing ones and the last few), with exit codes. */
  commands: CommandRecord[];
  /** Validation by Nightshift; absent when the attempt ended before validation. */
  validation?: ValidationResult;
  /** Why the attempt is a failure, when it is one. */
  failure?: string;
  /** The last normalized events (for `status`), most recent last. */
  lastEvents: string[];
}

/** Phases of the `agentTask` workflow, in the order they normally occur. */
export type RunPhase =
  | 'scoping'
  | 'waiting_for_window'
  /** Waiting for the spend caps' next period (the team's or repository's cap is reached). */
  | 'waiting_for_budget'
  /** Waiting in the sandbox queue for a slot (global / per-repository caps). */
  | 'queued'
  | 'preparing'
  | 'running_agent'
  | 'validating'
  | 'awaiting_approval'
  | 'delivering'
  | 'escalating'
  | 'awaiting_human'
  /** A clarifying question is out at scope; the run waits for the answer (a `humanReply`). */
  | 'awaiting_answer'
  | 'done';

/** Terminal reasons of a run. */
export type RunOutcomeKind =
  | 'pr_opened'
  /** The environment could not be made, or the tests cannot run in it: no agent started. */
  | 'environment_failed'
  | 'rejected'
  | 'cancelled'
  | 'handed_over'
  | 'escalation_timed_out'
  | 'failed';

/** What the `agentTask` workflow returns. */
export interface RunOutcome {
  kind: RunOutcomeKind;
  workflowId: string;
  prUrl?: string;
  branch?: string;
  /** Branch holding partial work, when the run escalated. */
  wipBranch?: string;
  /** The PR is a draft: the change touched the test definitions (policy `draft`). */
  draft?: boolean;
  reason?: string;
  attempts: AttemptRecord[];
  spend: Spend;
  /** Validation before any change (the repository's tests at its base). */
  testsBefore?: ValidationResult;
  durationMs: number;
  /** The clarifying assessment at scope, when it ran (or why it was skipped). */
  clarify?: ClarifyRecord;
  /** Guidance sent while the run worked that no attempt acted on (the attempt it arrived in passed). */
  notesNotActedOn?: Array<{ author: string; text: string }>;
}

/**
 * What the clarifying assessment at scope decided (activities/clarify.ts): each assessment of the
 * run, and the questions asked with their answers.
 */
export interface ClarifyRecord {
  /** `skipped`: no assessment (disabled, or no gateway/model); `rationale` says why. */
  decision: 'proceed' | 'ask' | 'skipped';
  rationale: string;
  /** Questions asked and their answers, oldest first (at most 2). */
  questions: Array<{ question: string; options?: string[]; answer?: string; by?: string; /** The repository the answer chose (one of `options`). */ repo?: string }>;
  /** Spend of the assessments (counts in the run's spend and budget). */
  spend?: Spend;
}

/** Answer of the `status` query. */
export interface RunStatus {
  workflowId: string;
  phase: RunPhase;
  attempt: number;
  maxAttempts: number;
  spend: Spend;
  budget?: Budget;
  lastEvents: string[];
  outcome?: RunOutcome;
  /** The last message posted to the origin (Markdown). */
  lastReport?: string;
  /** Reports that could not be delivered to the origin after all retries. */
  undeliveredReports: number;
  wipBranch?: string;
}

/** Payload of the `attemptProgress` signal: a running attempt's live spend and last events. */
export interface AttemptProgress {
  attempt: number;
  /** Spend of this attempt so far, as the gateway metered it. */
  spend: Spend;
  lastEvents: string[];
}

/** Payload of the `approve` signal: a human's answer to the diff gate's approval request. */
export interface ApprovalDecision {
  decision: 'approve' | 'reject';
  /** Who answered (Linear user, Slack user id, local user). */
  by: string;
  /** Why, for a rejection (shown in the escalation). */
  reason?: string;
}

/** Where a human reply was written. */
export type ReplyChannel = 'linear-session' | 'linear-comment' | 'slack' | 'cli';

/** Payload of the `humanReply` signal. */
export interface HumanReply {
  /** Free text. `cancel` and `take over` (any case, alone) are commands; anything else is guidance. */
  text: string;
  author: string;
  /**
   * The reply's id at its origin (Linear agent activity id, Linear comment id, or the webhook id),
   * stable across redeliveries: the workflow acts on one id once. Absent on older senders.
   */
  id?: string;
  /** Where it was written. */
  via?: ReplyChannel;
  /** A Linear comment reply: the id of the thread's parent comment (e.g. the escalation comment). */
  inReplyTo?: string;
}

/**
 * Payload of the `duplicateRequest` signal: the run was asked for again while it is open (the
 * Linear trigger label added again). The run says where it is; nothing new starts.
 */
export interface DuplicateRequest {
  /** Who asked again (Linear user name, or `unknown`). */
  by: string;
  /** How they asked. */
  via: 'linear-label';
  /** The delivery's id (Linear `webhookId`), so that the run answers one delivery once. */
  id?: string;
}

/**
 * The id of run `n` (1-based) of a sequence: `base` for the first, `base-<n>` after it
 * (`linear-<issueId>`, `linear-<issueId>-2`, …).
 */
export function sequencedWorkflowId(base: string, n: number): string {
  return n <= 1 ? base : `${base}-${n}`;
}

/**
 * Workflow id of a request, from its source, so that redeliveries start nothing twice:
 * `linear-<issueId>` (label), `linear-session-<agentSessionId>` (agent session),
 * `slack-<channel>-<threadTs>`, `cli-<id>`.
 */
export function workflowIdFor(source: TaskSource, cliId?: string): string {
  switch (source.kind) {
    case 'linear':
      // A session's run is found from the session id alone (`prompted` events carry it); label
      // runs keep `linear-<issueId>` (later runs on the issue: `sequencedWorkflowId`). Session runs
      // started before this scheme are `linear-<issueId>`; bots/linear/sessionEvents.ts still finds them.
      return source.agentSessionId ? `linear-session-${source.agentSessionId}` : `linear-${source.issueId}`;
    case 'slack':
      return `slack-${source.channel}-${source.threadTs}`;
    case 'cli':
      if (!cliId) throw new Error('a CLI request needs an id');
      return `cli-${cliId}`;
  }
}
