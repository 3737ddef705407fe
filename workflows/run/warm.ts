/**
 * Warm starts (workflow side; the activities are activities/warmAgent.ts and
 * activities/validate/warmTests.ts), on the run's host:
 * - while the tests before any change run, the next attempt's agent boots (container started, CLI
 *   waiting for its prompt on stdin), so that its `runAgent` only sends the prompt (patch
 *   `agent-warm-start`). The tests decide as before: a broken environment ends the run, whose
 *   cleanup removes the warm sandbox;
 * - while an attempt's agent works, the sandbox that will validate it starts on its empty export
 *   directory, so that its `runTests` only exports the tree and says go (patch `warm-validation`).
 * Runs started before a patch go as they did. Workflow code.
 */
import { isCancellation, log } from '@temporalio/workflow';
import type { RunPlan, Workspace } from '../activityTypes.js';
import { remaining } from './attempts.js';
import { hostActs } from './host.js';
import { planForAttempt } from './routing.js';
import type { RunState } from './state.js';

export const PATCH_AGENT_WARM_START = 'agent-warm-start';
/** The agent boots beside the workspace's preparation (in the agent image), not only beside the tests before. */
export const PATCH_AGENT_WARM_EARLY = 'agent-warm-early';
export const PATCH_WARM_VALIDATION = 'warm-validation';

/** Whether the next attempt's agent is warm in the image of `plan` (the run's plan once its environment is ready). */
export function warmedIn(s: RunState, plan: RunPlan): boolean {
  return s.warmAttempt === s.attempts.length + 1 && s.warmImage === plan.image;
}

/**
 * Boots the run's next attempt's agent (`plan`: the run's plan, with its environment's image once
 * ready) on the run's host, and marks that attempt warm (`s.warmAttempt`, `s.warmImage`); without
 * `workspace` (not prepared yet), in the run's work tree directory, which the preparation fills.
 * A run without a claimed host does not warm (its attempt could run on another worker). A failed
 * warm start is logged: the attempt then starts cold. Throws only a cancellation.
 */
export async function warmNextAttempt(s: RunState, plan: RunPlan, workspace: Workspace | undefined): Promise<void> {
  const acts = hostActs(s).warm;
  if (!acts) return;
  const n = s.attempts.length + 1;
  const attemptPlan = planForAttempt(plan, n);
  try {
    const r = await acts.warmAgent({ workflowId: s.workflowId, attempt: n, plan: attemptPlan, ...(workspace ? { workspace } : {}), limits: remaining(s, plan) });
    if (r.warmed) {
      s.warmAttempt = n;
      s.warmImage = attemptPlan.image;
    } else if (s.warmAttempt === n) {
      // Not in this image (the worker removed the one warmed before): the attempt starts cold.
      s.warmAttempt = undefined;
      s.warmImage = undefined;
    }
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('the agent could not be started warm; the attempt starts cold', { attempt: n, error: err instanceof Error ? err.message : String(err) });
  }
}

/**
 * Starts the sandbox that will validate attempt `n` (its agent is being started now) on the run's
 * host (the caller checks patch `warm-validation`). Never rejects: a failure (or a cancellation,
 * which the attempt's own activities meet too) means a cold validation. No-op without a claimed host.
 */
export async function warmValidation(s: RunState, plan: RunPlan, workspace: Workspace, n: number): Promise<void> {
  const acts = hostActs(s).warm;
  if (!acts) return;
  try {
    await acts.warmTests({ workflowId: s.workflowId, attempt: n, plan, workspace });
  } catch (err) {
    if (!isCancellation(err)) log.warn('the validation could not be started warm; it starts cold', { attempt: n, error: err instanceof Error ? err.message : String(err) });
  }
}
