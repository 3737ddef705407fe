/**
 * The activity proxies of the `agentTask` workflow, with their timeouts, retries and cancellation
 * types. Workflow code: activities are imported as types only.
 */
import { ActivityCancellationType, patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activityTypes.js';
import { PATCH_GIT_WAIT_CANCEL } from './patches.js';

/** Short activities (scope, cleanup): 2 minutes each, 5 tries. */
export const short = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});
/**
 * Host git and GitHub: they heartbeat every 5 s; on a cancel the run waits until the activity has
 * finished (a push or clone is never cut off half-way, and cleanup never runs under it).
 */
const GIT_OPTIONS = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 4 },
} as const;
const gitWaiting = proxyActivities<Activities>({ ...GIT_OPTIONS, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });
/** Runs started before `git-wait-cancel` replay with the SDK's default (TRY_CANCEL), as they ran. */
const gitTrying = proxyActivities<Activities>(GIT_OPTIONS);
/** The git activities of this run (see {@link gitWaiting}). */
export const git = new Proxy({} as Activities, {
  get: (_t, name: keyof Activities) => (patched(PATCH_GIT_WAIT_CANCEL) ? gitWaiting : gitTrying)[name],
});
/** Test runs: bounded at 15 minutes (the activity kills its container at its own timeout). */
const TEST_RUN_MS = 15 * 60_000;
/** Options of `notify` (its task queue aside). */
export const NOTIFY_OPTIONS = {
  startToCloseTimeout: '1 minute',
  // A message to the origin is never given up lightly: ~1 hour of retries.
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20 },
} as const;
/** Messages to the origin, on the run's own task queue (runs started before `messages-queue`; see report.ts). */
export const notifyActs = proxyActivities<Activities>(NOTIFY_OPTIONS);

/** `runAgent` and `runTests` heartbeat; their start-to-close timeout follows the budget (ms). */
export function longActivities(wallClockMs: number): Pick<Activities, 'runAgent' | 'runTests'> {
  return proxyActivities<Activities>({
    startToCloseTimeout: wallClockMs + 10 * 60_000,
    heartbeatTimeout: '30 seconds',
    // On cancel, wait until the activity has stopped its container before going on.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
  });
}

/** The test runs (before any change, and each attempt's validation). */
export const tests = longActivities(TEST_RUN_MS);
