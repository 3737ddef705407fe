/**
 * The attempts phase: agent → validation by Nightshift, until one passes, the tranche's attempts
 * are used up, or a budget breach / stuck verdict ends automatic attempts.
 */
import { log, patched } from '@temporalio/workflow';
import type { RunPlan, Workspace } from '../activityTypes.js';
import { buildPrompt } from '../prompt.js';
import { describeBudget } from '../summary.js';
import type { AttemptRecord, Budget, HumanReply, ValidationResult } from '../types.js';
import { hostActs } from './host.js';
import { PATCH_PASS_BEFORE_STOP } from './patches.js';
import { takeNotes } from './replies.js';
import { planForAttempt } from './routing.js';
import { spendOf, wallSpentMs, type RunState } from './state.js';
import { PATCH_WARM_VALIDATION, warmValidation } from './warm.js';

/** How a tranche of attempts ended. */
export interface TrancheResult {
  passed: boolean;
  /** Why it stopped, one line (`tests pass`, `the budget is used up`, …). */
  reason: string;
  /** A human asked to take over while the run worked: the run hands over now. */
  takeOver?: HumanReply;
}

/** Why an attempt is a failure (undefined when Nightshift's validation passed it). */
export function attemptFailure(record: AttemptRecord, validation: ValidationResult): string | undefined {
  if (record.filesChanged.length === 0) return 'the agent changed no file';
  if (record.end === 'permission_denied') return 'the agent was denied permissions';
  if (record.end === 'agent_error') return record.failure ?? 'the agent ended with an error';
  if (!validation.passed && validation.exitCode !== 0) return `tests failed (exit code ${validation.exitCode})`;
  // The command exited 0, but the contract (tests that existed still run, failing ones pass) says no.
  if (!validation.passed && validation.contract && !validation.contract.ok) return validation.contract.summary.slice(0, 500);
  if (!validation.passed) return `tests failed (exit code ${validation.exitCode})`;
  return undefined;
}

/** What is left of the run's budget caps for the next attempt. */
export function remaining(s: RunState, p: RunPlan): Budget {
  const caps = s.caps ?? p.budget;
  const spent = spendOf(s);
  return {
    wallClockMs: Math.max(0, caps.wallClockMs - wallSpentMs(s)),
    tokens: Math.max(0, caps.tokens - spent.tokens),
    usd: Math.max(0, caps.usd - spent.usd),
  };
}

/**
 * Runs attempts from `trancheStart` (attempts recorded before this tranche) until one passes
 * validation, the tranche's attempts are used up, or a budget breach / stuck verdict ends automatic
 * attempts. Returns why it stopped. Throws what the activities throw.
 */
export async function attemptTranche(s: RunState, p: RunPlan, ws: Workspace, trancheStart: number): Promise<TrancheResult> {
  const { req, workflowId, attempts } = s;
  for (;;) {
    const n = attempts.length + 1;
    if (s.takeOverRequest) return { passed: false, reason: 'taken over', takeOver: s.takeOverRequest };
    // Attempts cut off with a lost worker host (run/host.ts) do not count against the tranche.
    if (attempts.slice(trancheStart).filter((a) => a.end !== 'host_lost').length >= p.maxAttempts) {
      return { passed: false, reason: `the tests still fail after ${p.maxAttempts} attempt${p.maxAttempts === 1 ? '' : 's'}` };
    }
    const limits = remaining(s, p);
    if (limits.wallClockMs <= 0 || limits.tokens <= 0 || limits.usd <= 0) {
      return { passed: false, reason: 'the budget is used up' };
    }
    s.currentAttempt = n;
    s.attemptStartedAt = Date.now();
    s.phase = 'running_agent';
    // Notes sent while the run worked go into this attempt (patch `reply-during-work`; else none).
    takeNotes(s);
    const prompt = buildPrompt({ title: req.title, task: req.task, testCommand: p.testCommand, attempt: n, previous: attempts, guidance: s.guidance });
    // A run from a Linear agent session streams its work there (optional field: old histories replay).
    const linearSession = req.source.kind === 'linear' && req.source.agentSessionId ? { agentSessionId: req.source.agentSessionId } : undefined;
    // Model routing (patch model-routing): after a failed attempt, the escalated tier's model when the policy says so.
    const plan = planForAttempt(p, n);
    const acts = hostActs(s);
    // Its agent booted while the tests before ran (run/warm.ts): the activity takes that sandbox.
    const warm = s.warmAttempt === n;
    s.warmAttempt = undefined;
    // Meanwhile the sandbox that will validate it starts (run/warm.ts); always waited for, so that the run's cleanup finds it.
    // (No extra await without it: the order of a replayed run's commands must not move.)
    const warmingTests = acts.warm && patched(PATCH_WARM_VALIDATION) ? warmValidation(s, p, ws, n) : undefined;
    let record: AttemptRecord;
    try {
      record = await acts.long(limits.wallClockMs).runAgent({ workflowId, attempt: n, plan, workspace: ws, prompt, limits, ...(linearSession ? { linearSession } : {}), ...(warm ? { warm } : {}) });
    } finally {
      if (warmingTests) await warmingTests;
    }
    attempts.push(record);
    s.phase = 'validating';
    // Nightshift validates every attempt itself, whatever the agent claims.
    const validation = await acts.tests.runTests({ workflowId, plan: p, workspace: ws, label: `attempt ${n}`, attempt: n });
    record.validation = validation;
    record.failure = attemptFailure(record, validation) ?? record.failure;
    // "take over" sent during this attempt: the run stops here, whatever the tests say.
    if (s.takeOverRequest) return { passed: false, reason: 'taken over', takeOver: s.takeOverRequest };
    // A change Nightshift validated is delivered even when the agent was stopped (time or dollar
    // budget, stuck verdict) while polishing it: the tests decide, not how the agent ended.
    if (!record.failure && patched(PATCH_PASS_BEFORE_STOP)) return { passed: true, reason: 'tests pass' };
    if (record.end === 'budget' && record.budget) {
      return { passed: false, reason: `out of budget: ${describeBudget(record.budget)}` };
    }
    if (record.end === 'stuck' && record.stuck) {
      return { passed: false, reason: `stuck: ${record.stuck.rule} — ${record.stuck.message}` };
    }
    if (!record.failure) return { passed: true, reason: 'tests pass' };
    log.info('attempt failed', { attempt: n, failure: record.failure });
  }
}
