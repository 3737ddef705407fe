/**
 * Workspace affinity (issue 11, item 1; Temporal's worker-specific task queue pattern,
 * https://github.com/temporalio/samples-typescript/tree/main/worker-specific-task-queues).
 *
 * A run's workspace directory, host-only git directory, Docker sandboxes and gateway live on ONE
 * worker host. Each worker polls, besides the shared task queue, its own host queue
 * `<taskQueue>@<hostId>` with the host-bound activities. Before preparing, the run asks the shared
 * queue which host it gets (`claimHost`, answered by whichever worker picks it up) and sends every
 * host-bound activity to that host's queue, with a ScheduleToStart timeout: a task that no worker
 * of the host picks up within `hostGoneTimeoutMs` means the host is gone. The run then claims
 * another host, re-prepares there from the last pushed state (the WIP branch, else the base), says
 * so at its origin and goes on. Patch `host-affinity`: runs started before it keep their
 * activities on the shared queue, as they ran. Workflow code: deterministic.
 */
import { ActivityCancellationType, ActivityFailure, patched, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { Activities, HostActivities, HostClaim } from '../activityTypes.js';
import { git as sharedGit, longActivities as sharedLong, short, tests as sharedTests } from './activities.js';
import { report } from './report.js';
import { planForAttempt } from './routing.js';
import type { RunState } from './state.js';
import { ZERO_SPEND } from '../types.js';

export const PATCH_HOST_AFFINITY = 'host-affinity';

/** Longest wait for a warm start's activity to start on the host (ms). */
const WARM_START_WITHIN_MS = 30_000;

/** `claimHost`: on the shared queue, short, retried (any live worker answers). */
const claims = proxyActivities<HostActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** The host-bound activities a phase calls (on the run's host queue, or the shared queue before the patch). */
export interface HostActs {
  git: Pick<Activities, 'prepareWorkspace' | 'reviewChanges' | 'deliver' | 'pushWip'>;
  tests: Pick<Activities, 'runTests'>;
  /** `runAgent` with a start-to-close timeout that follows the budget (ms). */
  long(wallClockMs: number): Pick<Activities, 'runAgent' | 'runTests'>;
  env: Pick<Activities, 'prepareEnvironment'>;
  cleanup: Pick<Activities, 'cleanup'>;
  /**
   * `warmAgent` on the claimed host (one try, waited for when cancelled: its sandbox must exist
   * before the run's cleanup looks for it); none without a host (the agent could start elsewhere).
   */
  warm?: Pick<Activities, 'warmAgent' | 'warmTests'>;
}

/** The activities of a run without a claimed host: the shared queue, exactly as before `host-affinity`. */
const SHARED: HostActs = {
  git: sharedGit,
  tests: sharedTests,
  long: sharedLong,
  env: proxyActivities<Activities>({
    startToCloseTimeout: '90 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
  }),
  cleanup: short,
};

/**
 * The host-bound activity proxies of a claimed host: the same timeouts, retries and cancellation
 * types as the shared ones, plus `taskQueue: claim.taskQueue` and
 * `scheduleToStartTimeout: claim.hostGoneTimeoutMs`.
 *
 * Why a ScheduleToStart timeout says "host gone": a live host polls its queue all the time and
 * starts a task within seconds when it has a free activity slot; a host that died (or lost its
 * network) leaves the task in the queue. The timeout is enforced per task (each retry is a new
 * task) and is not retried by the server, so a run whose host died mid-activity learns it after
 * the activity's heartbeat timeout (≤ 1 min) + the retry backoff (≤ 2 min) + `hostGoneTimeoutMs`.
 * `hostGoneTimeoutMs` (config `worker.hostGoneTimeoutMs`, default 5 min) must exceed a worker's
 * restart time (so that a restarted worker with the same host id resumes its runs) and the longest
 * wait for an activity slot on a busy live host (keep `sandbox.maxConcurrentActivities` at or above
 * the runs one host holds at once).
 */
function hostActsOf(claim: HostClaim): HostActs {
  const on = { taskQueue: claim.taskQueue, scheduleToStartTimeout: claim.hostGoneTimeoutMs };
  const git = proxyActivities<Activities>({
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '1 minute',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 4 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    ...on,
  });
  const long = (wallClockMs: number) =>
    proxyActivities<Activities>({
      startToCloseTimeout: wallClockMs + 10 * 60_000,
      heartbeatTimeout: '30 seconds',
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
      ...on,
    });
  return {
    git,
    tests: long(15 * 60_000),
    long,
    env: proxyActivities<Activities>({
      startToCloseTimeout: '90 minutes',
      heartbeatTimeout: '1 minute',
      retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
      ...on,
    }),
    cleanup: proxyActivities<Activities>({
      startToCloseTimeout: '2 minutes',
      retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
      ...on,
    }),
    // A warm start is worth it only when it starts at once: a busy or gone host gets none (30 s at
    // most; its failure is not taken as "host gone", the activities that need the host say that).
    warm: proxyActivities<Activities>({
      startToCloseTimeout: '2 minutes',
      retry: { maximumAttempts: 1 },
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      taskQueue: claim.taskQueue,
      scheduleToStartTimeout: Math.min(claim.hostGoneTimeoutMs, WARM_START_WITHIN_MS),
    }),
  };
}

/** The host-bound activities of this run: on its claimed host's queue, else on the shared queue. */
export function hostActs(s: RunState): HostActs {
  return s.host ? hostActsOf(s.host) : SHARED;
}

/**
 * Claims a host for the run's workspace, once, before the first preparation (patch `host-affinity`;
 * a run that already has one, or started before the patch, keeps what it has). Throws what
 * `claimHost` throws once its retries are spent.
 */
export async function claimHost(s: RunState): Promise<void> {
  if (s.host || !patched(PATCH_HOST_AFFINITY)) return;
  s.host = await claims.claimHost({ workflowId: s.workflowId });
}

/**
 * Whether `err` says the run's host is gone: an activity whose task no worker of the host queue
 * picked up within its ScheduleToStart timeout (checked by failure type, never by message).
 */
export function isHostGone(s: RunState, err: unknown): boolean {
  if (!s.host || !(err instanceof ActivityFailure)) return false;
  const cause = err.cause;
  return cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START';
}

/**
 * The run's host is gone: claims another one, and tells the origin where the run goes on and from
 * what (`s.wipBranch` at `s.wipSha` when partial work was pushed, else the base). The caller
 * re-prepares the workspace there (`preparePhase`, which reads `s.wipBranch` / `s.wipSha`).
 * `stage`: the stage the run was in. An attempt cut off with the host is recorded (end
 * `host_lost`, its last metered spend; the ledger ends it, the next attempt has the next number,
 * and it does not count against the tranche); a change that passed the tests but was not pushed
 * (`deliver`) is lost with the host: the caller starts a new tranche. The line is kept in
 * `s.hostMoves` for the final report (run/report.ts). Throws what `claimHost` throws.
 */
export async function moveHost(s: RunState, stage: string): Promise<void> {
  const gone = s.host!;
  const next = await claims.claimHost({ workflowId: s.workflowId });
  s.host = next;
  const lost = stage === 'attempts' ? recordLostAttempt(s, gone) : undefined;
  const unpushed = stage === 'deliver' ? s.attempts.at(-1)?.attempt : undefined;
  s.live = undefined;
  s.workspace = undefined;
  const from = s.wipBranch && s.wipSha ? `${s.wipBranch} at ${s.wipSha.slice(0, 12)}` : `the base branch ${s.plan?.defaultBranch ?? ''}`.trim();
  const what =
    lost !== undefined
      ? ` Attempt ${lost} was cut off with it.`
      : unpushed !== undefined
        ? ` The change of attempt ${unpushed} passed the tests but was not pushed before the host was lost: the run makes it again.`
        : '';
  const line = `The worker host ${gone.hostId} was gone for > ${durationText(gone.hostGoneTimeoutMs)}; re-prepared on host ${next.hostId} from ${from}.${what}`;
  s.hostMoves = [...(s.hostMoves ?? []), line];
  await report(s, 'host_moved', () => line);
}

/**
 * Records the attempt the lost host held: one whose agent was running (a record with its last
 * metered progress) or one awaiting Nightshift's validation (its record, marked). Returns its
 * number, or undefined when no attempt was in flight.
 */
function recordLostAttempt(s: RunState, gone: HostClaim): number | undefined {
  const last = s.attempts.at(-1);
  if (s.currentAttempt > s.attempts.length && s.plan) {
    const live = s.live?.attempt === s.currentAttempt ? s.live : undefined;
    s.attempts.push({
      attempt: s.currentAttempt,
      end: 'host_lost',
      agent: s.plan.agent,
      model: planForAttempt(s.plan, s.currentAttempt).model,
      finalMessage: '',
      exitCode: null,
      spend: live?.spend ?? ZERO_SPEND,
      durationMs: s.attemptStartedAt !== undefined ? Math.max(0, Date.now() - s.attemptStartedAt) : 0,
      diffStat: '',
      filesChanged: [],
      commands: [],
      failure: `the worker host ${gone.hostId} was lost while the agent worked`,
      lastEvents: live?.lastEvents ?? [],
    });
    return s.currentAttempt;
  }
  if (last && !last.validation) {
    last.end = 'host_lost';
    last.failure = `the worker host ${gone.hostId} was lost before Nightshift validated the attempt`;
    return last.attempt;
  }
  return undefined;
}

/** A host-gone timeout for people: whole seconds under two minutes (`45 s`), else whole minutes (`5 min`). */
export function durationText(ms: number): string {
  return ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
}
