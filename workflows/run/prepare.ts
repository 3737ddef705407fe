/**
 * The prepare phase: a fresh host workspace, the repository's environment, and the tests before
 * any change (the preflight).
 */
import { CancellationScope, log, patched } from '@temporalio/workflow';
import { environmentPhase, type EnvironmentPhaseResult } from '../environmentPhase.js';
import { renderEnvironmentFailure } from '../environmentSummary.js';
import type { RunOutcome, ValidationResult } from '../types.js';
import { hostActs } from './host.js';
import { PATCH_ENVIRONMENT_PHASE } from './patches.js';
import { report } from './report.js';
import { PATCH_AGENT_WARM_EARLY, PATCH_AGENT_WARM_START, warmedIn, warmNextAttempt } from './warm.js';
import type { RunPlan, Workspace } from '../activityTypes.js';
import { finish, type RunState } from './state.js';

/**
 * Prepares the workspace and environment: sets `s.workspace`, `s.testsBefore` and the plan's
 * environment and returns undefined when the run goes on; returns the `environment_failed` outcome
 * (reported) when the environment is broken. Needs `s.plan`. Throws what the activities throw.
 */
export async function preparePhase(s: RunState): Promise<RunOutcome | undefined> {
  const { workflowId } = s;
  const plan = s.plan!;
  s.phase = 'preparing';
  const { git, tests, env } = hostActs(s);
  // A run moved to another worker host re-prepares from its last pushed partial work (run/host.ts).
  const from = s.host && s.wipBranch && s.wipSha ? { from: { branch: s.wipBranch, sha: s.wipSha } } : {};
  // Patch `agent-warm-early`: the next attempt's agent boots beside the preparation itself, in the
  // agent image (a repository without a declared environment keeps it); always waited for.
  const early = patched(PATCH_AGENT_WARM_EARLY) ? warmNextAttempt(s, plan, undefined) : undefined;
  let workspace: Workspace;
  try {
    workspace = await git.prepareWorkspace({ workflowId, plan, ...from });
  } catch (err) {
    if (early) await withdrawWarm(s, early);
    throw err;
  }
  s.workspace = workspace;
  // The next attempt's agent boots while the tests before run (patch `agent-warm-start`; run/warm.ts),
  // unless it booted early in the image the environment kept.
  // (Without the early one, no extra await: the order of a replayed run's commands must not move.)
  const warmAgent = patched(PATCH_AGENT_WARM_START)
    ? (ready: RunPlan): Promise<void> => (early ? early.then(() => (warmedIn(s, ready) ? undefined : warmNextAttempt(s, ready, workspace))) : warmNextAttempt(s, ready, workspace))
    : undefined;
  // Runs started before environments existed go on without one (their history has none).
  let prepared: EnvironmentPhaseResult | { kind: 'ready'; plan: RunPlan; testsBefore: ValidationResult };
  try {
    prepared = patched(PATCH_ENVIRONMENT_PHASE)
      ? await environmentPhase({ runTests: tests.runTests, prepareEnvironment: env.prepareEnvironment, ...(warmAgent ? { warmAgent } : {}) }, { workflowId, plan, workspace })
      : { kind: 'ready' as const, plan, testsBefore: await tests.runTests({ workflowId, plan, workspace, label: 'before', attempt: 0 }) };
  } catch (err) {
    // An infrastructure failure escalates and waits for a human: no warm sandbox waits with it.
    if (early) await withdrawWarm(s, early);
    throw err;
  } finally {
    // The early agent is waited for on every path (a broken environment never asks for the later
    // one): the run's cleanup must find its sandbox.
    if (early) await early;
  }
  s.testsBefore = prepared.testsBefore;
  if (prepared.kind === 'environment_broken') {
    await report(s, 'environment_failed', (f) => renderEnvironmentFailure({ ...prepared.failure, title: s.req.title, workflowId }, f));
    return finish(s, 'environment_failed', { reason: prepared.failure.reason });
  }
  s.plan = prepared.plan;
  return undefined;
}

/**
 * The preparation failed and the run escalates: its warm sandboxes (the early agent, once it is
 * started) are removed now, by the cleanup activity keeping the workspace, not at the run's end.
 * Only on runs with the early warm start (patch `agent-warm-early`). Never throws.
 */
async function withdrawWarm(s: RunState, early: Promise<void>): Promise<void> {
  await early;
  s.warmAttempt = undefined;
  s.warmImage = undefined;
  const { workflowId, workspace } = s;
  await CancellationScope.nonCancellable(() => hostActs(s).cleanup.cleanup({ workflowId, workspace, keepWorkspace: true })).catch((err: unknown) => {
    log.warn('could not remove the warm sandboxes before the escalation', { error: String(err) });
  });
}
