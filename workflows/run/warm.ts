/**
 * Warm agent start (workflow side; the activity is activities/warmAgent.ts): while the tests
 * before any change run, the next attempt's agent boots on the run's host (container started,
 * CLI waiting for its prompt on stdin), so that its `runAgent` only sends the prompt. The tests
 * decide as before: a broken environment ends the run, whose cleanup removes the warm sandbox.
 * Patch `agent-warm-start`: runs started before it prepare as they did. Workflow code.
 */
import { isCancellation, log } from '@temporalio/workflow';
import type { RunPlan, Workspace } from '../activityTypes.js';
import { remaining } from './attempts.js';
import { hostActs } from './host.js';
import { planForAttempt } from './routing.js';
import type { RunState } from './state.js';

export const PATCH_AGENT_WARM_START = 'agent-warm-start';

/**
 * Boots the run's next attempt's agent (`plan`: the run's plan once its environment is ready) on
 * the run's host, and marks that attempt warm (`s.warmAttempt`). A run without a claimed host does
 * not warm (its attempt could run on another worker). A failed warm start is logged: the attempt
 * then starts cold. Throws only a cancellation.
 */
export async function warmNextAttempt(s: RunState, plan: RunPlan, workspace: Workspace): Promise<void> {
  const acts = hostActs(s).warm;
  if (!acts) return;
  const n = s.attempts.length + 1;
  try {
    const r = await acts.warmAgent({ workflowId: s.workflowId, attempt: n, plan: planForAttempt(plan, n), workspace, limits: remaining(s, plan) });
    if (r.warmed) s.warmAttempt = n;
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('the agent could not be started warm; the attempt starts cold', { attempt: n, error: err instanceof Error ? err.message : String(err) });
  }
}
