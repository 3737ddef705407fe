/**
 * The sandbox queue's coordinator: one long-lived workflow per namespace (id {@link COORDINATOR_ID})
 * that holds the runs waiting for a sandbox slot and grants slots under a global cap
 * (`queue.maxConcurrent`) and per-repository caps (`repos.X.maxConcurrent`), in the order of
 * {@link pickNext} (priority, fairness between teams, oldest first).
 *
 * Protocol (see workflows/queueSlot.ts for the run's side):
 * - a run asks with the {@link requestSlotSignal}, sent by the `requestSandboxSlot` activity with
 *   signalWithStart (a workflow cannot start another workflow by signal; the activity can, so the
 *   first request starts the coordinator);
 * - the coordinator answers with {@link slotGrantedSignal} to the run (an external signal);
 * - the run gives the slot back with {@link releaseSlotSignal} on every exit path; a request
 *   withdrawn while waiting is the same signal;
 * - every `reclaimEveryMs` the coordinator asks the `findClosedRuns` activity which of its holders
 *   and waiters are closed (terminated, timed out, crashed without a release) and drops them.
 *
 * History stays bounded: the coordinator continues as new with its state when the server suggests
 * it or its history passes `maxHistoryEvents`. Query {@link queueQuery} shows the queue.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { admissionOrder, markServed, pickNext, type HolderEntry, type LastServed, type QueueCaps, type QueuePriority, type SlotRequest, type WaitingEntry } from './queuePolicy.js';

/** Patch: the reclaim check no longer blocks admissions. */
export const PATCH_ASYNC_RECLAIM = 'coordinator-async-reclaim';

/** The coordinator's workflow id for the default task queue (`nightshift`). */
export const COORDINATOR_ID = 'nightshift-queue';

/**
 * The coordinator of the runs on `taskQueue`: one per deployment (task queue), so that two
 * deployments sharing a namespace (or test stacks sharing a server) each have their own queue,
 * served by their own workers. `nightshift` → `nightshift-queue`; any other → `nightshift-queue-<taskQueue>`.
 */
export function coordinatorIdFor(taskQueue: string): string {
  return taskQueue === 'nightshift' ? COORDINATOR_ID : `${COORDINATOR_ID}-${taskQueue}`;
}

/** A run asks for a slot (idempotent per workflow id). */
export const requestSlotSignal = defineSignal<[SlotRequest]>('requestSlot');
/** A run gives its slot back, or withdraws its request. */
export const releaseSlotSignal = defineSignal<[{ workflowId: string }]>('releaseSlot');
/** Sent by the coordinator to a run: its slot is granted. */
export const slotGrantedSignal = defineSignal<[SlotGrant]>('slotGranted');

/** What a run learns when its slot is granted. */
export interface SlotGrant {
  /** Workflow time of the grant, epoch ms. */
  grantedAt: number;
  /** How long the run waited, ms. */
  waitedMs: number;
  /** The grant's number: admission order across the namespace. */
  grantSeq: number;
}

/** One waiting run as the `queue` query shows it. */
export interface QueueWaitingView {
  /** 1 = admitted next (if no cap holds it back). */
  position: number;
  workflowId: string;
  repo: string;
  team: string;
  priority: QueuePriority;
  requestedAt: number;
}

/** Answer of {@link queueQuery}. */
export interface QueueView {
  caps: QueueCaps;
  running: HolderEntry[];
  waiting: QueueWaitingView[];
  /** Slots granted since the coordinator first started (across continue-as-new). */
  granted: number;
}

/** The queue: running holders and waiting runs with their positions. */
export const queueQuery = defineQuery<QueueView>('queue');

/** The coordinator's input, and the state it carries across continue-as-new. */
export interface CoordinatorState {
  caps: QueueCaps;
  waiting?: WaitingEntry[];
  running?: HolderEntry[];
  lastServed?: LastServed;
  /** Grants so far (also the fairness clock). */
  granted?: number;
  seq?: number;
  /** How often closed holders and waiters are reclaimed, ms (default 60 000). */
  reclaimEveryMs?: number;
  /** Continue as new past this many history events (default 10 000), or when the server suggests it. */
  maxHistoryEvents?: number;
}

/** Activities the coordinator calls (activities/admission.ts). */
export interface CoordinatorActivities {
  /** Which of these workflow ids are closed or unknown to the server. */
  findClosedRuns(workflowIds: string[]): Promise<string[]>;
}

const { findClosedRuns } = proxyActivities<CoordinatorActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

/** The coordinating workflow. Never returns (continues as new). */
export async function queueCoordinator(input: CoordinatorState): Promise<never> {
  const caps: QueueCaps = { global: input.caps.global, repos: { ...input.caps.repos } };
  let waiting: WaitingEntry[] = input.waiting ?? [];
  let running: HolderEntry[] = input.running ?? [];
  const lastServed: LastServed = input.lastServed ?? {};
  let granted = input.granted ?? 0;
  let seq = input.seq ?? 0;
  const reclaimEveryMs = input.reclaimEveryMs ?? 60_000;
  const maxHistoryEvents = input.maxHistoryEvents ?? 10_000;
  let dirty = true;
  let pendingSignals = 0;

  setHandler(requestSlotSignal, (req) => {
    caps.global = req.globalCap;
    if (req.repoCap !== undefined) caps.repos[req.repo] = req.repoCap;
    else delete caps.repos[req.repo];
    const holder = running.find((r) => r.workflowId === req.workflowId);
    if (holder) {
      // A retried request (or a lost grant): say it again.
      sendGrant(holder);
    } else if (!waiting.some((w) => w.workflowId === req.workflowId)) {
      waiting.push({ ...req, seq: ++seq });
    }
    dirty = true;
  });
  setHandler(releaseSlotSignal, ({ workflowId }) => {
    drop([workflowId]);
  });
  setHandler(queueQuery, () => {
    const order = admissionOrder(waiting, lastServed, granted);
    const byId = new Map(waiting.map((w) => [w.workflowId, w]));
    return {
      caps,
      running,
      granted,
      waiting: order.map((id, i) => {
        const w = byId.get(id)!;
        return { position: i + 1, workflowId: id, repo: w.repo, team: w.team, priority: w.priority, requestedAt: w.requestedAt };
      }),
    };
  });

  function drop(ids: string[]): void {
    const gone = new Set(ids);
    const before = running.length + waiting.length;
    running = running.filter((r) => !gone.has(r.workflowId));
    waiting = waiting.filter((w) => !gone.has(w.workflowId));
    if (running.length + waiting.length !== before) dirty = true;
  }

  function sendGrant(h: HolderEntry): void {
    pendingSignals++;
    getExternalWorkflowHandle(h.workflowId)
      .signal(slotGrantedSignal, { grantedAt: h.grantedAt, waitedMs: h.grantedAt - h.requestedAt, grantSeq: h.grantSeq })
      // The run is gone (closed, or never existed): its slot is free again.
      .catch(() => drop([h.workflowId]))
      .finally(() => pendingSignals--);
  }

  function admit(): void {
    for (;;) {
      const i = pickNext(waiting, running, caps, lastServed);
      if (i < 0) return;
      const [w] = waiting.splice(i, 1);
      const now = Date.now();
      const holder: HolderEntry = { workflowId: w!.workflowId, repo: w!.repo, team: w!.team, priority: w!.priority, requestedAt: w!.requestedAt, grantedAt: now, grantSeq: ++granted };
      running.push(holder);
      markServed(lastServed, w!.priority, w!.team, granted);
      sendGrant(holder);
    }
  }

  // The reclaim check runs beside admissions (patch `coordinator-async-reclaim`): with a thousand
  // waiting runs it takes seconds, and a release must not wait for it to be granted onwards.
  const asyncReclaim = patched(PATCH_ASYNC_RECLAIM);
  let reclaiming = false;
  let nextReclaim = Date.now() + reclaimEveryMs;
  for (;;) {
    if (dirty) {
      dirty = false;
      admit();
    }
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > maxHistoryEvents) break;
    const wait = Math.max(0, nextReclaim - Date.now());
    const woken = await condition(() => dirty, wait);
    if (!woken && asyncReclaim) {
      nextReclaim = Date.now() + reclaimEveryMs;
      if (!reclaiming && running.length + waiting.length > 0) {
        reclaiming = true;
        void findClosedRuns([...running, ...waiting].map((r) => r.workflowId))
          .then(drop, () => undefined)
          .finally(() => {
            reclaiming = false;
          });
      }
      continue;
    }
    if (!woken && running.length + waiting.length > 0) {
      const closed = await findClosedRuns([...running, ...waiting].map((r) => r.workflowId)).catch(() => [] as string[]);
      drop(closed);
    }
    if (!woken) nextReclaim = Date.now() + reclaimEveryMs;
  }
  // Hand the state over: let every handler, outstanding grant and reclaim check finish first.
  await condition(() => allHandlersFinished() && pendingSignals === 0 && !reclaiming);
  return continueAsNew<typeof queueCoordinator>({ caps, waiting, running, lastServed, granted, seq, reclaimEveryMs, maxHistoryEvents });
}
