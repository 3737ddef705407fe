/**
 * The state of one run of the `agentTask` workflow, shared by its phases (workflows/run/*.ts) and
 * read by the `status` query. Workflow code: deterministic, no I/O.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, patched, workflowInfo } from '@temporalio/workflow';
import type { HostClaim, RunPlan, Workspace } from '../activityTypes.js';
import type { EscalationSummaryInput } from '../summary.js';
import { PATCH_REPLY_DURING_WORK } from './patches.js';
import {
  addSpend,
  ZERO_SPEND,
  type ApprovalDecision,
  type ClarifyRecord,
  type AttemptProgress,
  type AttemptRecord,
  type Budget,
  type HumanReply,
  type RunOutcome,
  type RunOutcomeKind,
  type RunPhase,
  type RunStatus,
  type Spend,
  type TaskRequest,
  type ValidationResult,
} from '../types.js';

/** Who cancelled the run, and why. */
export interface CancelRequest {
  by: string;
  reason?: string;
}

/** Everything a run knows; phases read and update it. */
export interface RunState {
  readonly req: TaskRequest;
  readonly workflowId: string;
  /** Workflow clock at the start, Unix ms. */
  readonly startedAt: number;
  /** Recorded attempts, oldest first. */
  readonly attempts: AttemptRecord[];
  /** Replies to the pending escalation, oldest first. */
  readonly replies: HumanReply[];
  /** Human guidance given so far, fed into every later attempt's prompt. */
  readonly guidance: string[];
  approval?: ApprovalDecision;
  awaitingApproval: boolean;
  /** An escalation is out and waits for a reply (set before the report, so that a quick answer counts). */
  awaitingReply: boolean;
  phase: RunPhase;
  plan?: RunPlan;
  workspace?: Workspace;
  testsBefore?: ValidationResult;
  /** The run's budget caps: the plan's budget, plus one tranche per guidance. */
  caps?: Budget;
  cancelRequest?: CancelRequest;
  /** The last message posted to the origin (Markdown). */
  lastReport?: string;
  wipBranch?: string;
  outcome?: RunOutcome;
  currentAttempt: number;
  undeliveredReports: number;
  /** The running attempt's latest progress (attemptProgress signal). */
  live?: AttemptProgress;
  /** Set when partial work could not be pushed: the workspace then outlives the run. */
  keepWorkspace: boolean;
  /** The scope all work runs in; a cancel cancels it. */
  readonly work: CancellationScope;
  /** Patch `reply-during-work` taken (decided once, at the start): replies while the run works are acted on. */
  readonly replyDuringWork: boolean;
  /** Ids of the replies received (an origin's redelivery is ignored). */
  readonly seenReplyIds: Set<string>;
  /** Ids of the reports this execution posted (a Linear comment's id is its report's id). */
  readonly reportIds: Set<string>;
  /** Guidance sent while the run worked, waiting for the next attempt's prompt, oldest first. */
  readonly notes: HumanReply[];
  /** The clarifying assessment at scope (patch `clarify-at-scope`), for the reports and the outcome. */
  clarify?: ClarifyRecord;
  /** A "take over" sent while the run worked: the run hands over at the end of the current attempt. */
  takeOverRequest?: HumanReply;
  /** The worker host holding the run's workspace (patch `host-affinity`; run/host.ts). */
  host?: HostClaim;
  /** Commit of the last pushed partial work on `wipBranch` (a moved run re-prepares from it). */
  wipSha?: string;
  /** One line per move to another worker host, for the final report. */
  hostMoves?: string[];
  /** When the running attempt started (workflow clock, ms): a host-lost attempt's duration. */
  attemptStartedAt?: number;
  /** The cleanup started once the PR was opened (run/cleanup.ts; patch `early-cleanup`): awaited at the run's end. */
  cleaning?: Promise<void>;
  /** The attempt whose agent `warmAgent` booted on the run's host (run/warm.ts): its `runAgent` takes that sandbox. */
  warmAttempt?: number;
  /** The image that agent booted in. */
  warmImage?: string;
}

/** A new run's state (call from workflow code). */
export function newRunState(req: TaskRequest): RunState {
  return {
    req,
    workflowId: workflowInfo().workflowId,
    startedAt: Date.now(),
    attempts: [],
    replies: [],
    guidance: [],
    awaitingApproval: false,
    awaitingReply: false,
    phase: 'scoping',
    currentAttempt: 0,
    undeliveredReports: 0,
    keepWorkspace: false,
    work: new CancellationScope(),
    replyDuringWork: patched(PATCH_REPLY_DURING_WORK),
    seenReplyIds: new Set(),
    reportIds: new Set(),
    notes: [],
  };
}

/** The attempt running now, when its progress is newer than the recorded attempts. */
export function runningAttempt(s: RunState): AttemptProgress | undefined {
  return s.live && s.live.attempt > s.attempts.length ? s.live : undefined;
}

/** Spend of the recorded attempts, plus the live spend of one still running (or cut off by a cancel), plus the clarifying assessments' and the classification's. */
export function spendOf(s: RunState): Spend {
  return addSpend(
    s.attempts.reduce((sum, a) => addSpend(sum, a.spend), addSpend(s.clarify?.spend ?? ZERO_SPEND, s.plan?.routing?.spend ?? ZERO_SPEND)),
    runningAttempt(s)?.spend ?? ZERO_SPEND,
  );
}

/** Wall-clock time the recorded attempts took, ms. */
export function wallSpentMs(s: RunState): number {
  return s.attempts.reduce((sum, a) => sum + a.durationMs, 0);
}

/** The answer of the `status` query. */
export function statusOf(s: RunState): RunStatus {
  return {
    workflowId: s.workflowId,
    phase: s.phase,
    attempt: s.currentAttempt,
    maxAttempts: s.plan?.maxAttempts ?? 0,
    spend: spendOf(s),
    budget: s.caps,
    lastEvents: runningAttempt(s)?.lastEvents ?? s.attempts.at(-1)?.lastEvents ?? [],
    outcome: s.outcome,
    lastReport: s.lastReport,
    undeliveredReports: s.undeliveredReports,
    wipBranch: s.wipBranch,
  };
}

/** Ends the run: records and returns its outcome. */
export function finish(s: RunState, kind: RunOutcomeKind, extra: Partial<RunOutcome> = {}): RunOutcome {
  s.phase = 'done';
  s.outcome = {
    kind,
    workflowId: s.workflowId,
    attempts: s.attempts,
    spend: spendOf(s),
    testsBefore: s.testsBefore,
    durationMs: Date.now() - s.startedAt,
    wipBranch: s.wipBranch,
    ...(s.clarify ? { clarify: s.clarify } : {}),
    ...extra,
  };
  return s.outcome;
}

/** An infrastructure failure, as reported in an escalation. */
export interface InfraError {
  code: string;
  message: string;
  /** The stage it happened in (`scope`, `prepare`, `attempts`, `deliver`, `report`, …). */
  stage: string;
}

/** The typed reason an activity failed, from its ApplicationFailure type when it has one. */
export function infraErrorOf(err: unknown, stage: string): InfraError {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return { code: err.cause.type ?? 'ACTIVITY_FAILED', message: err.cause.message, stage };
  }
  if (err instanceof ActivityFailure) {
    return { code: err.cause?.name ?? 'ACTIVITY_FAILED', message: err.cause?.message ?? err.message, stage };
  }
  if (err instanceof Error) return { code: err.name, message: err.message, stage };
  return { code: 'UNKNOWN', message: String(err), stage };
}

/** The diff gate or a human stopped a delivery: the run escalates with this reason. */
export class GateStop extends Error {
  override readonly name = 'GateStop';
}

/** Input of the "what I tried" summary, from the run so far. */
export function summaryInput(s: RunState, reason: string, infraError?: InfraError): EscalationSummaryInput {
  return {
    goal: { title: s.req.title, task: s.req.task },
    attempts: s.attempts,
    spend: spendOf(s),
    durationMs: Date.now() - s.startedAt,
    wipBranch: s.wipBranch,
    reason,
    infraError: infraError ? { code: infraError.code, message: `${infraError.stage}: ${infraError.message}` } : undefined,
  };
}
