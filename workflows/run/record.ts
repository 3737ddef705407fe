/**
 * What a run leaves outside its history (issue 10): the run ledger's rows and Temporal search
 * attributes, kept current by a recorder that watches the run state (workflow code).
 *
 * The phases do not call it: the recorder wakes whenever the run's ledger status, reason, attempt,
 * validations, branch or outcome change (`condition` over the state) and writes what changed:
 * - ledger (patch `run-ledger`): `ledgerUpsertRun` at each status change (queued, waiting,
 *   running, awaiting_human, done) with team, origin link, requester, priority, reason, spend,
 *   attempts, outcome, PR, WIP branch and plan; `ledgerRecordAttempt` at each attempt's start and
 *   end; `ledgerRecordValidation` (attempt 0 = the tests before). On the messages task queue; a
 *   write that fails after its retries is logged and never fails the run.
 * - search attributes (patch `run-search-attributes`): repo and requester at start, team when
 *   known, status, attempt, spend at each attempt's end, outcome.
 */
import { CancellationScope, condition, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { LedgerActivities, LedgerRunStatus, RunPatch } from '../../ledger/types.js';
import { messagesTaskQueue } from '../linearTypes.js';
import { upsertRunAttributes } from '../searchAttributes.js';
import type { AttemptRecord, RunPhase, TaskSource, ValidationResult } from '../types.js';
import { modelForAttempt, type RoutingDecision } from '../routing.js';
import { planForAttempt } from './routing.js';
import { spendOf, type RunState } from './state.js';

export const PATCH_RUN_LEDGER = 'run-ledger';
export const PATCH_RUN_SEARCH_ATTRIBUTES = 'run-search-attributes';
export const PATCH_ESCALATION_REASON = 'escalation-reason';

/** What the recorder knows besides the run state; carried across continue-as-new. */
export interface RecorderCarry {
  /** Team the run counts against (from `admissionTime`). */
  team?: string;
  /** Why the run waits, or was rejected (one line). */
  reason?: string;
  /** Start times of attempts, by attempt number (workflow clock, ms). */
  attemptStarts: Record<number, number>;
  /** When the first attempt started (workflow clock, ms). */
  firstStartedAt?: number;
}

interface Recorder extends RecorderCarry {
  ledger: boolean;
  attrs: boolean;
  closed: boolean;
  loop?: Promise<void>;
  /** Last written: status key, attempt start/end, validations. */
  lastKey?: string;
  lastStatus?: string;
  lastAttemptAttr?: number;
  lastTeam?: string;
  lastSpendAttempts: number;
  startedAttempt: number;
  endedAttempt: number;
  validated: number;
}

const recorders = new WeakMap<RunState, Recorder>();

/** The ledger status of a run phase (the ledger's coarser life). */
export function ledgerStatusOf(phase: RunPhase): LedgerRunStatus {
  switch (phase) {
    case 'scoping':
    case 'queued':
      return 'queued';
    case 'waiting_for_window':
    case 'waiting_for_budget':
      return 'waiting';
    case 'awaiting_human':
    case 'awaiting_answer':
    case 'awaiting_approval':
      return 'awaiting_human';
    case 'done':
      return 'done';
    default:
      return 'running';
  }
}

/** A link back to the origin, as the digest reads it: the Linear issue URL (or identifier), Slack `channel/threadTs`. */
export function originLinkOf(src: TaskSource): string | undefined {
  if (src.kind === 'linear') return src.issueUrl ?? src.issueIdentifier;
  if (src.kind === 'slack') return `${src.channel}/${src.threadTs}`;
  return undefined;
}

function acts(): LedgerActivities {
  return proxyActivities<LedgerActivities>({
    taskQueue: messagesTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '30 seconds',
    // Bounded: no worker on the messages queue must not hold the run (a lost write is logged).
    scheduleToCloseTimeout: '5 minutes',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 8 },
  });
}

async function write(what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await CancellationScope.nonCancellable(fn);
  } catch (err) {
    log.warn('could not write the run ledger', { what, error: String(err) });
  }
}

function runPatch(s: RunState, r: Recorder): RunPatch {
  const { req } = s;
  const status = ledgerStatusOf(s.phase);
  const spend = spendOf(s);
  return {
    workflowId: s.workflowId,
    originKind: req.source.kind,
    ...(originLinkOf(req.source) ? { originLink: originLinkOf(req.source) } : {}),
    repo: req.repo,
    ...(r.team ? { team: r.team } : {}),
    requester: req.requester,
    title: req.title,
    priority: req.priority && req.priority >= 1 && req.priority <= 4 ? req.priority : 3,
    status,
    phase: s.phase,
    createdAt: s.startedAt,
    ...(r.firstStartedAt !== undefined ? { startedAt: r.firstStartedAt } : {}),
    ...(status === 'done' ? { finishedAt: Date.now() } : {}),
    spend: { usd: spend.usd, tokens: spend.tokens },
    attempts: Math.max(s.attempts.length, s.currentAttempt),
    ...(s.outcome ? { outcome: s.outcome.kind } : {}),
    ...((s.outcome?.reason ?? r.reason) ? { reason: s.outcome?.reason ?? r.reason } : {}),
    ...(s.outcome?.prUrl ? { prUrl: s.outcome.prUrl } : {}),
    ...(s.wipBranch ? { wipBranch: s.wipBranch } : {}),
    ...(s.plan?.routing ? routingColumns(s.plan.routing, s.attempts.length) : {}),
    ...(s.plan ? { agent: s.plan.agent, model: planForAttempt(s.plan, Math.max(1, s.attempts.length)).model, plan: { risk: s.plan.risk, riskReasons: s.plan.riskReasons, budget: s.plan.budget, maxAttempts: s.plan.maxAttempts, testCommand: s.plan.testCommand } } : {}),
  };
}

/** Ledger columns of the classification and routing (migration 3): the model and tier the last attempt used. */
function routingColumns(d: RoutingDecision, attempts: number): Pick<RunPatch, 'taskType' | 'taskSize' | 'taskRisk' | 'modelTier' | 'routingRule'> {
  const used = modelForAttempt(d, Math.max(1, attempts));
  return { taskType: d.classification.type, taskSize: d.classification.size, taskRisk: d.classification.risk, modelTier: used.tier, routingRule: used.tier === d.tier ? d.rule : `${d.rule}; escalateModelOnRetry → ${used.tier}` };
}

function validationRow(workflowId: string, attempt: number, v: ValidationResult) {
  return {
    workflowId,
    attempt,
    ts: Date.now(),
    passed: v.passed,
    exitCode: v.exitCode,
    command: v.command,
    durationMs: v.durationMs,
    failingTests: v.failingTests,
    ...(v.counts ? { counts: v.counts } : {}),
    ...(v.contract ? { contractSummary: v.contract.summary } : {}),
    outputTail: v.outputTail,
  };
}

function attemptEndRow(workflowId: string, a: AttemptRecord, startedAt: number) {
  return {
    workflowId,
    attempt: a.attempt,
    startedAt,
    endedAt: Date.now(),
    end: a.end,
    agent: a.agent,
    model: a.model,
    spend: { usd: a.spend.usd, tokens: a.spend.tokens },
    ...(a.stuck ? { stuckRule: a.stuck.rule } : {}),
    ...(a.budget ? { budgetKind: a.budget.kind } : {}),
    ...(a.failure ? { failure: a.failure } : {}),
    finalMessage: a.finalMessage.slice(0, 2000),
    diffStat: a.diffStat,
    filesChanged: a.filesChanged,
  };
}

/** The state the recorder compares to decide whether the run row changed. */
function statusKey(s: RunState, r: Recorder): string {
  return JSON.stringify([ledgerStatusOf(s.phase), r.reason, r.team, s.attempts.length, s.currentAttempt, s.wipBranch, s.outcome?.kind, s.testsBefore !== undefined, s.attempts.filter((a) => a.validation).length]);
}

/** Writes everything that changed since the last flush. Never throws (but a workflow bug). */
async function flush(s: RunState, r: Recorder): Promise<void> {
  const key = statusKey(s, r);
  if (key === r.lastKey) return;
  r.lastKey = key;
  const a = r.ledger ? acts() : undefined;
  const { workflowId } = s;
  const status = ledgerStatusOf(s.phase);
  if (r.attrs) {
    upsertRunAttributes({
      ...(status !== r.lastStatus ? { status } : {}),
      ...(s.currentAttempt !== (r.lastAttemptAttr ?? 0) ? { attempt: s.currentAttempt } : {}),
      ...(s.attempts.length !== r.lastSpendAttempts ? { spendUsd: spendOf(s).usd } : {}),
      ...(r.team && r.team !== r.lastTeam ? { team: r.team } : {}),
      ...(s.outcome ? { outcome: s.outcome.kind, spendUsd: spendOf(s).usd } : {}),
    });
    r.lastAttemptAttr = s.currentAttempt;
    r.lastTeam = r.team;
  }
  r.lastStatus = status;
  r.lastSpendAttempts = s.attempts.length;
  // Attempt starts, then the run row (which counts them), then ends and validations.
  for (let n = r.startedAttempt + 1; n <= s.currentAttempt; n++) {
    const at = Date.now();
    r.attemptStarts[n] ??= at;
    r.firstStartedAt ??= at;
    r.startedAttempt = n;
    if (a) await write('attempt start', () => a.ledgerRecordAttempt({ workflowId, attempt: n, startedAt: at, spend: { usd: 0, tokens: 0 }, ...(s.plan ? { agent: s.plan.agent, model: planForAttempt(s.plan, n).model } : {}) }));
  }
  if (a) await write('run', () => a.ledgerUpsertRun(runPatch(s, r)));
  if (r.validated === -1 && s.testsBefore) {
    r.validated = 0;
    const v = s.testsBefore;
    if (a) await write('tests before', () => a.ledgerRecordValidation(validationRow(workflowId, 0, v)));
  }
  // An attempt ends when Nightshift validated it (its failure is known then), when it was lost with
  // its worker host, or when the run ends.
  for (const rec of s.attempts) {
    if (rec.attempt <= r.endedAttempt || (!rec.validation && rec.end !== 'host_lost' && !s.outcome)) continue;
    r.endedAttempt = rec.attempt;
    const startedAt = r.attemptStarts[rec.attempt] ?? Date.now() - rec.durationMs;
    if (a) await write('attempt end', () => a.ledgerRecordAttempt(attemptEndRow(workflowId, rec, startedAt)));
    const v = rec.validation;
    if (a && v) await write('validation', () => a.ledgerRecordValidation(validationRow(workflowId, rec.attempt, v)));
  }
}

/**
 * Starts the run's recorder (call once, first thing; `carry` from a continue-as-new). Upserts
 * repo, requester (and team) at once; then writes on every change until {@link closeRecorder}.
 */
export function startRecorder(s: RunState, carry?: RecorderCarry & { endedAttempt?: number }): void {
  const r: Recorder = {
    attemptStarts: {},
    ...carry,
    ledger: patched(PATCH_RUN_LEDGER),
    attrs: patched(PATCH_RUN_SEARCH_ATTRIBUTES),
    closed: false,
    lastSpendAttempts: s.attempts.length,
    startedAttempt: s.currentAttempt,
    endedAttempt: carry?.endedAttempt ?? 0,
    validated: carry ? 0 : -1,
  };
  recorders.set(s, r);
  if (!r.ledger && !r.attrs) return;
  if (r.attrs) {
    upsertRunAttributes({ repo: s.req.repo, requester: s.req.requester, ...(r.team ? { team: r.team } : {}) });
    r.lastTeam = r.team;
  }
  r.loop = CancellationScope.nonCancellable(async () => {
    while (!r.closed) {
      await flush(s, r);
      await condition(() => r.closed || statusKey(s, r) !== r.lastKey);
    }
  });
}

/** Records the run's team (from `admissionTime`) and why it waits or was rejected. */
export function noteQueue(s: RunState, info: { team?: string; reason?: string }): void {
  const r = recorders.get(s);
  if (!r) return;
  if (info.team !== undefined) r.team = info.team;
  if (info.reason !== undefined) r.reason = info.reason;
}

/**
 * Records why the run now waits or stopped, as one line (at most 300 characters): an
 * escalation's stop reason (stuck verdict, budget, tests, infrastructure) replacing the
 * admission's reason in the ledger and the digest. Runs since patch `escalation-reason` only
 * (older histories wrote no such row).
 */
export function noteReason(s: RunState, reason: string): void {
  if (!patched(PATCH_ESCALATION_REASON)) return;
  const line = reason.replace(/\s+/g, ' ').trim();
  noteQueue(s, { reason: line.length > 300 ? `${line.slice(0, 299)}…` : line });
}

/** The run's team, when known. */
export function teamOf(s: RunState): string | undefined {
  return recorders.get(s)?.team;
}

/** What a continue-as-new must carry for the recorder. */
export function recorderCarry(s: RunState): RecorderCarry & { endedAttempt: number } {
  const r = recorders.get(s);
  return { team: r?.team, reason: r?.reason, attemptStarts: { ...(r?.attemptStarts ?? {}) }, firstStartedAt: r?.firstStartedAt, endedAttempt: r?.endedAttempt ?? 0 };
}

/**
 * Stops the recorder after a last write of what changed (the outcome, when the run ended).
 * Never throws; call before the workflow returns or continues as new.
 */
export async function closeRecorder(s: RunState): Promise<void> {
  const r = recorders.get(s);
  if (!r?.loop) return;
  r.closed = true;
  await r.loop;
  await CancellationScope.nonCancellable(() => flush(s, r));
}
