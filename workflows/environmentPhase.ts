/**
 * The run's environment phase (workflow code, deterministic): prepare the repository's
 * environment at the base commit, then run the tests once before any change (the preflight).
 *
 *   prepareEnvironment (cached by key; setup with registry egress) → runTests "before" (beside it,
 *   the first attempt's agent boots: run/warm.ts)
 *     → ready (tests pass or fail: the agent's job)
 *     | environment_broken (a setup command failed, the image cannot be built, the tests cannot
 *       run at all): the run ends before any agent is given its task, with a report that says what to declare
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities, PreparedEnvironment, RunPlan, Workspace } from './activityTypes.js';
import type { EnvironmentFailureInput } from './environmentSummary.js';
import type { ValidationResult } from './types.js';

/** Environment preparation: setup may install for a while; it heartbeats every 5 s. */
const env = proxyActivities<Activities>({
  startToCloseTimeout: '90 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
});

/** Error codes (ApplicationFailure types) that mean the declared environment cannot be made. */
const ENVIRONMENT_CODES: Record<string, EnvironmentFailureInput['stage']> = {
  ENV_SETUP_FAILED: 'setup',
  ENV_BUILD_FAILED: 'build',
  ENV_INVALID: 'invalid',
};

/** How the phase ended. */
export type EnvironmentPhaseResult =
  | { kind: 'ready'; plan: RunPlan; environment: PreparedEnvironment; testsBefore: ValidationResult }
  | { kind: 'environment_broken'; failure: Omit<EnvironmentFailureInput, 'title' | 'workflowId'>; testsBefore?: ValidationResult };

/** The typed environment failure an activity threw, or undefined for any other error. */
function environmentFailure(err: unknown): { stage: EnvironmentFailureInput['stage']; message: string; details: Record<string, unknown> } | undefined {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return undefined;
  const stage = ENVIRONMENT_CODES[err.cause.type ?? ''];
  if (!stage) return undefined;
  const first: unknown = err.cause.details?.[0];
  return { stage, message: err.cause.message, details: first && typeof first === 'object' ? (first as Record<string, unknown>) : {} };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * Prepares the environment and runs the tests before any change (`acts`: the run's host-bound
 * activities; without `prepareEnvironment`, this module's shared-queue proxy). Infrastructure errors (Docker
 * down, a clone that fails) are thrown, for the run's escalation path; an environment that cannot
 * be made or cannot run the tests is returned as `environment_broken`.
 */
export async function environmentPhase(
  acts: {
    runTests: Activities['runTests'];
    prepareEnvironment?: Activities['prepareEnvironment'];
    /** Boots the first attempt's agent with the ready plan, beside the tests before (run/warm.ts); never rejects but with a cancellation. */
    warmAgent?: (plan: RunPlan) => Promise<void>;
  },
  input: { workflowId: string; plan: RunPlan; workspace: Workspace },
): Promise<EnvironmentPhaseResult> {
  const { workflowId, workspace } = input;
  let environment: PreparedEnvironment;
  try {
    environment = await (acts.prepareEnvironment ?? env.prepareEnvironment)({ workflowId, plan: input.plan, workspace });
  } catch (err) {
    const f = environmentFailure(err);
    if (!f) throw err;
    return {
      kind: 'environment_broken',
      failure: {
        repo: input.plan.repo,
        stage: f.stage,
        reason: f.message,
        command: str(f.details.command),
        outputTail: str(f.details.outputTail),
        hint: f.stage === 'build' ? 'Check that the base image exists on the worker (or can be pulled) and that its Dockerfile builds.' : undefined,
      },
    };
  }
  const plan: RunPlan = { ...input.plan, image: environment.image, environment };
  // The agent boots meanwhile; the phase always waits for it (the run's cleanup must find its sandbox).
  const warming = acts.warmAgent?.(plan);
  let testsBefore: ValidationResult;
  try {
    testsBefore = await acts.runTests({ workflowId, plan, workspace, label: 'before', attempt: 0 });
  } finally {
    if (warming) await warming;
  }
  if (testsBefore.preflight?.verdict === 'environment_broken') {
    return {
      kind: 'environment_broken',
      testsBefore,
      failure: {
        repo: plan.repo,
        stage: 'tests',
        reason: testsBefore.preflight.reason,
        command: testsBefore.command,
        outputTail: testsBefore.outputTail,
        source: environment.source,
        hint: testsBefore.preflight.hint,
      },
    };
  }
  return { kind: 'ready', plan, environment, testsBefore };
}
