/**
 * A run's side of the sandbox queue (workflow code): ask the coordinator for a slot, wait for the
 * grant, give it back. Use it around everything that holds a sandbox:
 *
 * ```ts
 * const slot = await acquireSandboxSlot({ repo, team, priority });
 * try { … } finally { await slot.release(); }
 * ```
 *
 * The request goes through the `requestSandboxSlot` activity (signalWithStart: the first request
 * starts the coordinator); the grant arrives as the `slotGranted` signal; the release is an external
 * signal to the coordinator, sent in a non-cancellable scope so that it also goes out when the run
 * is being cancelled. A run cancelled while waiting withdraws its request.
 */
import { CancellationScope, condition, getExternalWorkflowHandle, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { COORDINATOR_ID, releaseSlotSignal, slotGrantedSignal, type SlotGrant } from './queueCoordinator.js';
import { normalizePriority } from './queuePolicy.js';

/** What a run says about itself when it asks for a slot. */
export interface SlotAsk {
  repo: string;
  /** Fairness key (the run's team); '' or absent when none. */
  team?: string;
  /** 1 urgent … 4 low; 0/absent = normal (3). Linear's priority maps directly. */
  priority?: number;
  /** The coordinator's workflow id (default {@link COORDINATOR_ID}; tests use their own). */
  coordinatorId?: string;
  /** Task queue of the `requestSandboxSlot` activity (default: the workflow's own; runs use the messages queue). */
  taskQueue?: string;
  /** How often the request is repeated while waiting, ms (default 10 minutes; tests shorten it). */
  reaskMs?: number;
}

/** Input of the `requestSandboxSlot` activity. */
export interface RequestSlotInput {
  /** The coordinator's workflow id. */
  coordinatorId: string;
  /** The asking run's workflow id. */
  workflowId: string;
  repo: string;
  team: string;
  priority: 1 | 2 | 3 | 4;
  /** Epoch ms (workflow time) of the first ask. */
  requestedAt: number;
}

/** Activities of the run's side (activities/admission.ts). */
export interface SlotActivities {
  /**
   * Sends the request to the coordinator with signalWithStart, adding the caps from the worker's
   * configuration.
   */
  requestSandboxSlot(input: RequestSlotInput): Promise<void>;
}

/** A granted slot. */
export interface SandboxSlot {
  grant: SlotGrant;
  /** Gives the slot back (idempotent; never throws; runs even when the run is cancelled). */
  release(): Promise<void>;
}

/** How often a waiting run repeats its request, ms. */
const REASK_MS = 10 * 60_000;

const SLOT_ACTIVITY_OPTIONS = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
} as const;

/**
 * Asks for a sandbox slot and waits (durably, as long as it takes) for the grant, asking again
 * every 10 minutes (a coordinator terminated meanwhile is started again by the request).
 * @throws CancelledFailure when the run is cancelled while waiting (the request is withdrawn first)
 */
export async function acquireSandboxSlot(ask: SlotAsk): Promise<SandboxSlot> {
  let grant: SlotGrant | undefined;
  setHandler(slotGrantedSignal, (g) => {
    grant ??= g;
  });
  const { workflowId } = workflowInfo();
  const coordinatorId = ask.coordinatorId ?? COORDINATOR_ID;
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    await CancellationScope.nonCancellable(async () => {
      try {
        await getExternalWorkflowHandle(coordinatorId).signal(releaseSlotSignal, { workflowId });
      } catch {
        // No coordinator to tell (terminated): nothing holds the slot.
      }
    });
  };
  const { requestSandboxSlot } = proxyActivities<SlotActivities>({ ...SLOT_ACTIVITY_OPTIONS, ...(ask.taskQueue ? { taskQueue: ask.taskQueue } : {}) });
  const request = { coordinatorId, workflowId, repo: ask.repo, team: ask.team ?? '', priority: normalizePriority(ask.priority), requestedAt: Date.now() };
  try {
    await requestSandboxSlot(request);
    // Asked again now and then (idempotent per run; same place in the order): a coordinator that
    // was terminated or reset meanwhile is started again with this run waiting, not forgotten.
    while (!(await condition(() => grant !== undefined, ask.reaskMs ?? REASK_MS))) await requestSandboxSlot(request);
  } catch (err) {
    // Cancelled (or the request failed for good): withdraw, so that no slot is granted to nobody.
    await release();
    throw err;
  }
  return { grant: grant!, release };
}
