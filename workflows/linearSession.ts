/**
 * The mirror of a Linear agent session, from the workflow side (patch `linear-session-plan`): the
 * run's phases as the session's `plan` (scope, environment, attempt n, validation, delivery), the
 * run and the PR as `externalUrls`, and each working phase as an ephemeral `thought`
 * (https://linear.app/developers/agent-interaction: progress notes are ephemeral; outcomes, which
 * `notify` posts, never are).
 *
 * Updates happen on a phase change only (phase, attempt, outcome, PR), never on progress, so the
 * history stays bounded: about 4 updates per attempt (≈ 6 events each). While an escalation or an
 * approval request is out, and after the outcome, no thought is posted (a thought after an
 * elicitation or a response would change the session's status in Linear); the plan still is.
 * `settle()` lets a report wait for the update in flight, so that an outcome is never followed by
 * a stale progress thought.
 *
 * Deterministic: activities are imported as types only; the loop runs in a non-cancellable scope.
 */
import { CancellationScope, condition, log, proxyActivities, uuid4, workflowInfo } from '@temporalio/workflow';
import { messagesTaskQueue, type LinearRunActivities, type PlanStep, type PlanStepStatus, type SessionMirrorInput } from './linearTypes.js';
import type { RunOutcomeKind, RunPhase, RunStatus } from './types.js';

/** The steps of a session's plan, in order. */
const STEPS = ['scope', 'environment', 'attempt', 'validation', 'delivery'] as const;

/** Index of the step a working phase is in; undefined while waiting for a human, or done. */
export function stepOf(phase: RunPhase | string): number | undefined {
  switch (phase) {
    case 'scoping':
    case 'waiting_for_window':
    case 'waiting_for_budget':
    case 'queued':
    case 'awaiting_answer':
      return 0;
    case 'preparing':
      return 1;
    case 'running_agent':
      return 2;
    case 'validating':
      return 3;
    case 'awaiting_approval':
    case 'delivering':
      return 4;
    default:
      return undefined;
  }
}

/** What the plan is rendered from. */
export interface PlanInput {
  phase: RunPhase | string;
  /** Current attempt (0 before the first). */
  attempt: number;
  maxAttempts: number;
  outcome?: RunOutcomeKind;
  /** The furthest step the run has reached so far (see {@link stepOf}); -1 before any. */
  reached: number;
}

/**
 * The session's plan for a run's state: steps before the current one `completed`, the current one
 * `inProgress`, later ones `pending`; waiting for a human, the furthest step reached stays
 * `inProgress`; after a PR every step is `completed`; after any other outcome the steps not
 * finished are `canceled`.
 */
export function sessionPlan(s: PlanInput): PlanStep[] {
  const n = s.attempt;
  const content: Record<(typeof STEPS)[number], string> = {
    scope: 'Scope the task (repository, budget, risk)',
    environment: 'Prepare the environment and run the tests before any change',
    attempt: n === 0 ? 'Agent attempt' : n <= s.maxAttempts ? `Agent attempt ${n} of ${s.maxAttempts}` : `Agent attempt ${n} (after your guidance)`,
    validation: n === 0 ? 'Validation: Nightshift runs the tests' : `Validation of attempt ${n}: Nightshift runs the tests`,
    delivery: s.phase === 'awaiting_approval' ? 'Delivery: waiting for approval of the change' : 'Delivery: branch and pull request',
  };
  const current = stepOf(s.phase);
  const at = Math.max(current ?? s.reached, 0);
  const status = (i: number): PlanStepStatus => {
    if (s.outcome === 'pr_opened') return 'completed';
    if (s.outcome) return i < Math.max(s.reached, 0) ? 'completed' : 'canceled';
    if (i < at) return 'completed';
    return i === at ? 'inProgress' : 'pending';
  };
  return STEPS.map((step, i) => ({ content: content[step], status: status(i) }));
}

/**
 * The progress thought of a phase change, when the phase is worth one (working phases only).
 * `maxAttempts` is one tranche's; an attempt past it follows a human's guidance (a new tranche)
 * and is never "n of m" with n > m.
 */
export function phaseThought(phase: RunPhase | string, attempt: number, maxAttempts: number): string | undefined {
  switch (phase) {
    case 'preparing':
      return 'Preparing the workspace and the environment; the tests run once before any change.';
    case 'running_agent':
      if (attempt > maxAttempts) return `Attempt ${attempt} (after your guidance): the agent is working, with your guidance and what the last attempt taught.`;
      return attempt > 1 ? `Attempt ${attempt} of ${maxAttempts}: the agent is working, with what the last attempt taught.` : `Attempt ${attempt} of ${maxAttempts}: the agent is working.`;
    case 'validating':
      return `Validating attempt ${attempt}: Nightshift runs the repository's tests itself.`;
    case 'delivering':
      return 'The tests pass: reviewing the change and opening the pull request.';
    default:
      return undefined;
  }
}

/** What the loop needs to know about the run. */
export interface SessionMirrorOptions {
  workflowId: string;
  agentSessionId: string;
  /** The run's current status (what the `status` query answers). */
  status: () => RunStatus;
}

/** A started mirror. */
export interface SessionMirror {
  /** Resolves once no update is in flight and the latest state has been sent. Never throws. */
  settle(): Promise<void>;
  /** Sends the final state (if not yet shown) and ends the loop. Never throws. */
  close(): Promise<void>;
}

/** Starts the mirror (call once, early in the workflow, for runs from an agent session). */
export function startSessionMirror(opts: SessionMirrorOptions): SessionMirror {
  const acts = proxyActivities<LinearRunActivities>({
    taskQueue: messagesTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '30 seconds',
    // Best effort: the outcome also goes out through notify; a failed update is logged.
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
  });
  let closing = false;
  let closed = false;
  let busy = false;
  let sentKey: string | undefined;
  let reached = -1;
  const keyOf = (s: RunStatus): string => `${s.phase}|${s.attempt}|${s.outcome?.kind ?? ''}|${s.outcome?.prUrl ?? ''}`;
  const loop = CancellationScope.nonCancellable(async () => {
    for (;;) {
      await condition(() => closing || keyOf(opts.status()) !== sentKey);
      const s = opts.status();
      const key = keyOf(s);
      if (key === sentKey) {
        closed = true; // closing, nothing new
        return;
      }
      const wasSent = sentKey;
      sentKey = key;
      const step = stepOf(s.phase);
      if (step !== undefined) reached = Math.max(reached, step);
      const phaseChanged = wasSent?.split('|').slice(0, 2).join('|') !== key.split('|').slice(0, 2).join('|');
      const body = !s.outcome && phaseChanged ? phaseThought(s.phase, s.attempt, s.maxAttempts) : undefined;
      const input: SessionMirrorInput = {
        workflowId: opts.workflowId,
        agentSessionId: opts.agentSessionId,
        plan: sessionPlan({ phase: s.phase, attempt: s.attempt, maxAttempts: s.maxAttempts, outcome: s.outcome?.kind, reached }),
        ...(s.outcome?.prUrl ? { prUrl: s.outcome.prUrl } : {}),
        ...(body ? { thought: { id: uuid4(), body, ephemeral: true } } : {}),
      };
      busy = true;
      try {
        await acts.mirrorLinearSession(input);
      } catch (err) {
        log.warn('could not update the Linear agent session', { error: String(err) });
      } finally {
        busy = false;
      }
    }
  });
  return {
    async settle() {
      await condition(() => closed || (!busy && keyOf(opts.status()) === sentKey));
    },
    async close() {
      closing = true;
      await loop;
    },
  };
}
