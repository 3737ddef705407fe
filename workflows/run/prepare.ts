/**
 * The prepare phase: a fresh host workspace, the repository's environment, and the tests before
 * any change (the preflight).
 */
import { patched } from '@temporalio/workflow';
import { environmentPhase } from '../environmentPhase.js';
import { renderEnvironmentFailure } from '../environmentSummary.js';
import type { RunOutcome } from '../types.js';
import { hostActs } from './host.js';
import { PATCH_ENVIRONMENT_PHASE } from './patches.js';
import { report } from './report.js';
import { PATCH_AGENT_WARM_START, warmNextAttempt } from './warm.js';
import type { RunPlan } from '../activityTypes.js';
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
  const workspace = await git.prepareWorkspace({ workflowId, plan, ...from });
  s.workspace = workspace;
  // The next attempt's agent boots while the tests before run (patch `agent-warm-start`; run/warm.ts).
  const warmAgent = patched(PATCH_AGENT_WARM_START) ? (ready: RunPlan) => warmNextAttempt(s, ready, workspace) : undefined;
  // Runs started before environments existed go on without one (their history has none).
  const prepared = patched(PATCH_ENVIRONMENT_PHASE)
    ? await environmentPhase({ runTests: tests.runTests, prepareEnvironment: env.prepareEnvironment, ...(warmAgent ? { warmAgent } : {}) }, { workflowId, plan, workspace })
    : { kind: 'ready' as const, plan, testsBefore: await tests.runTests({ workflowId, plan, workspace, label: 'before', attempt: 0 }) };
  s.testsBefore = prepared.testsBefore;
  if (prepared.kind === 'environment_broken') {
    await report(s, 'environment_failed', (f) => renderEnvironmentFailure({ ...prepared.failure, title: s.req.title, workflowId }, f));
    return finish(s, 'environment_failed', { reason: prepared.failure.reason });
  }
  s.plan = prepared.plan;
  return undefined;
}
