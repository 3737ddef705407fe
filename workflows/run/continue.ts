/**
 * Bounded history (issue 10, item 7): at a tranche boundary (an escalation answered with guidance)
 * a run whose history grew continues as new, carrying its state, so that its outcome and reports
 * are those it would have had in one execution. Patch `tranche-continue-as-new`.
 * https://docs.temporal.io/develop/typescript/continue-as-new
 */
import { patched, workflowInfo } from '@temporalio/workflow';
import type { HostClaim, RunPlan, Workspace } from '../activityTypes.js';
import type { AttemptRecord, Budget, ClarifyRecord, TaskRequest, ValidationResult } from '../types.js';
import { clarifiedRequest } from './clarify.js';
import { recorderCarry, type RecorderCarry } from './record.js';
import type { RunState } from './state.js';

export const PATCH_TRANCHE_CONTINUE_AS_NEW = 'tranche-continue-as-new';

/** History length past which a run continues as new at its next tranche boundary (events). */
export const DEFAULT_MAX_HISTORY_EVENTS = 8_000;

/** The stage a run is at; after an escalation answered with guidance it goes on from the stage that stopped. */
export type Stage = 'scope' | 'prepare' | 'attempts' | 'deliver';

/** A run's state carried into its next execution (the second argument of `agentTask`). */
export interface RunCarry {
  /** Workflow clock at the first execution's start, ms. */
  startedAt: number;
  attempts: AttemptRecord[];
  guidance: string[];
  caps?: Budget;
  plan?: RunPlan;
  workspace?: Workspace;
  testsBefore?: ValidationResult;
  wipBranch?: string;
  keepWorkspace: boolean;
  currentAttempt: number;
  undeliveredReports: number;
  lastReport?: string;
  clarify?: ClarifyRecord;
  /** Where the run goes on. */
  stage: Stage;
  /** Attempts recorded before the current tranche. */
  trancheStart: number;
  /** Executions so far (1 = the first), for logs and tests. */
  execution: number;
  recorder: RecorderCarry & { endedAttempt: number };
  /** Workspace affinity (run/host.ts): the run's host, its last WIP commit, its moves. */
  host?: HostClaim;
  wipSha?: string;
  hostMoves?: string[];
}

/** Whether the run should continue as new now (history past the threshold, or the server suggests it). */
export function shouldContinueAsNew(req: TaskRequest): boolean {
  if (!patched(PATCH_TRANCHE_CONTINUE_AS_NEW)) return false;
  const info = workflowInfo();
  const max = req.overrides?.maxHistoryEvents ?? DEFAULT_MAX_HISTORY_EVENTS;
  return info.continueAsNewSuggested || info.historyLength > max;
}

/** The carry of the run state at a tranche boundary. */
export function carryOf(s: RunState, stage: Stage, trancheStart: number, execution: number): RunCarry {
  return {
    startedAt: s.startedAt,
    attempts: s.attempts,
    guidance: s.guidance,
    caps: s.caps,
    plan: s.plan,
    workspace: s.workspace,
    testsBefore: s.testsBefore,
    wipBranch: s.wipBranch,
    keepWorkspace: s.keepWorkspace,
    currentAttempt: s.currentAttempt,
    undeliveredReports: s.undeliveredReports,
    lastReport: s.lastReport,
    clarify: s.clarify,
    stage,
    trancheStart,
    execution: execution + 1,
    recorder: recorderCarry(s),
    ...(s.host ? { host: s.host } : {}),
    ...(s.wipSha ? { wipSha: s.wipSha } : {}),
    ...(s.hostMoves ? { hostMoves: s.hostMoves } : {}),
  };
}

/** Restores a carried state into a fresh run state (call before anything reads it). */
export function applyCarry(s: RunState, c: RunCarry): void {
  (s as { startedAt: number }).startedAt = c.startedAt;
  s.attempts.push(...c.attempts);
  s.guidance.push(...c.guidance);
  s.caps = c.caps;
  s.plan = c.plan;
  s.workspace = c.workspace;
  s.testsBefore = c.testsBefore;
  s.wipBranch = c.wipBranch;
  s.keepWorkspace = c.keepWorkspace;
  s.currentAttempt = c.currentAttempt;
  s.undeliveredReports = c.undeliveredReports;
  s.lastReport = c.lastReport;
  s.clarify = c.clarify;
  s.host = c.host;
  s.wipSha = c.wipSha;
  s.hostMoves = c.hostMoves;
  // The answers to clarifying questions are part of the task (and may have chosen the repository).
  (s as { req: TaskRequest }).req = clarifiedRequest(s.req, c.clarify);
}
