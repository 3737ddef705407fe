/**
 * The admission phase (issue 10), after scope: the run window, the spend caps, then a sandbox slot.
 *
 *   admissionTime (workflow clock) → `never`: rejected with the reason; `wait`: phase
 *     `waiting_for_window`, a durable sleep until the opening (a cancel ends it)
 *   → checkSpendCap → `refuse`: rejected with the cap's message; `defer`: a `deferred` report at
 *     the origin, phase `waiting_for_budget` until the cap's next period, then window and cap again
 *   → acquireSandboxSlot (phase `queued`): held for prepare, attempts and delivery; released before
 *     an escalation waits for a human and on every exit; acquired again after guidance. Once
 *     granted, reserveSpendCap checks the caps again counting runs in flight at what they reserved
 *     and reserves the run's budget; a run that no longer fits gives the slot back and is deferred.
 *
 * `--now` (`overrides.now`) skips the window only. New runs take this path (patch
 * `queue-admission`); older ones wait for the plan's UTC-hour window as they did. Workflow code.
 */
import { CancellationScope, condition, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { QueueActivities } from '../../activities/queue.js';
import type { SpendDecision } from '../../queue/spendCaps.js';
import { messagesTaskQueue } from '../linearTypes.js';
import { coordinatorIdFor } from '../queueCoordinator.js';
import { acquireSandboxSlot, type SandboxSlot } from '../queueSlot.js';
import { renderRejection } from '../summary.js';
import type { RunOutcome } from '../types.js';
import { noteQueue, teamOf } from './record.js';
import { report } from './report.js';
import { waitForWindow } from './scope.js';
import { finish, spendOf, type RunState } from './state.js';

export const PATCH_QUEUE_ADMISSION = 'queue-admission';
/** The spend caps checked again once the slot is granted, with the run's budget reserved (issue 10). */
export const PATCH_SPEND_RESERVATION = 'spend-reservation';

/** A run's spend reservation is dropped as it gives its slot back (before, it counted until the final ledger write). */
export const PATCH_RELEASE_RESERVATION = 'release-reservation';

/**
 * Fewer waits between activities: the window and the spend cap are asked at once (the cap's answer
 * is dropped when the window says no), and the host is claimed beside the spend reservation once
 * the slot is granted. Before, one after the other.
 */
export const PATCH_LEAN_ADMISSION = 'lean-admission';

/** The queue side of one run. */
interface QueueRun {
  on: boolean;
  slot?: SandboxSlot;
  /** The instant the last `deferred` report said the run would run (epoch ms). */
  deferredUntil?: number;
}

const queueRuns = new WeakMap<RunState, QueueRun>();

/** The timing activities: on the run's own queue (the worker registers them there). */
const timing = proxyActivities<QueueActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Sleeps (durably) until `atMs` on the workflow clock; a cancel of the run ends it (its scope throws). */
async function sleepUntil(s: RunState, atMs: number): Promise<void> {
  const ms = atMs - Date.now();
  if (ms > 0) await condition(() => s.cancelRequest !== undefined, ms);
}

/**
 * Admits the run: waits for its window and its spend caps (see the module doc). Returns the
 * `rejected` outcome (reported) when it may never run, else undefined. Needs `s.plan`. Throws a
 * cancellation, or what the activities throw after their retries (CONFIG_INVALID for a bad window).
 */
export async function admissionPhase(s: RunState, resumed = false): Promise<RunOutcome | undefined> {
  const q: QueueRun = { on: resumed || patched(PATCH_QUEUE_ADMISSION) };
  queueRuns.set(s, q);
  if (!q.on) {
    await waitForWindow(s);
    return undefined;
  }
  return await admit(s, q);
}

/** Rejects the run with `reason` at the origin. */
async function reject(s: RunState, reason: string): Promise<RunOutcome> {
  noteQueue(s, { reason });
  await report(s, 'rejected', (f) => renderRejection({ reason, title: s.req.title }, f));
  return finish(s, 'rejected', { reason });
}

/** Says a spend cap defers the run (once per period: a re-check deferring to the same instant says nothing new), then waits for its next period. */
async function deferForCap(s: RunState, q: QueueRun, cap: Extract<SpendDecision, { kind: 'defer' }>): Promise<void> {
  noteQueue(s, { reason: cap.message });
  if (q.deferredUntil !== cap.untilMs) {
    q.deferredUntil = cap.untilMs;
    await report(s, 'deferred', () => cap.message);
  }
  s.phase = 'waiting_for_budget';
  await sleepUntil(s, cap.untilMs);
}

/** A promise's outcome as a value: awaited later, or dropped without an unhandled rejection. */
function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

function unwrap<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw r.error;
  return r.value;
}

/** The window and the spend caps, until both let the run go (undefined) or it may never run (the outcome). */
async function admit(s: RunState, q: QueueRun): Promise<RunOutcome | undefined> {
  const plan = s.plan!;
  const now = s.req.overrides?.now === true;
  const atOnce = patched(PATCH_LEAN_ADMISSION);
  for (;;) {
    // Patch `lean-admission`: the cap is asked beside the window (settled, so a dropped answer never rejects unhandled).
    const early = atOnce ? settle(timing.checkSpendCap({ plan, workflowId: s.workflowId, nowMs: Date.now() })) : undefined;
    const admission = await timing.admissionTime({ plan, now, nowMs: Date.now() });
    noteQueue(s, { team: admission.team });
    if (admission.kind === 'never') return await reject(s, admission.reason);
    if (admission.kind === 'wait' && admission.atMs > Date.now()) {
      noteQueue(s, { reason: admission.reason });
      s.phase = 'waiting_for_window';
      await sleepUntil(s, admission.atMs);
      continue;
    }
    const cap = early ? unwrap(await early) : await timing.checkSpendCap({ plan, workflowId: s.workflowId, nowMs: Date.now() });
    if (cap.kind === 'refuse') return await reject(s, cap.message);
    if (cap.kind === 'defer') {
      await deferForCap(s, q, cap);
      continue;
    }
    noteQueue(s, { reason: admission.reason });
    return undefined;
  }
}

/**
 * Holds a sandbox slot from here on (phase `queued` while waiting; no-op when the run holds one or
 * took the old path). Once granted (patch `spend-reservation`), the spend caps are checked again
 * counting runs in flight at what they reserved, and the run reserves its budget: runs woken
 * together at a window's opening all passed the first check, and the later ones may no longer
 * fit. A run that no longer fits gives its slot back, is deferred to the cap's next period, and is
 * admitted again (window and caps) before it queues again. Returns the `rejected` outcome when it
 * may never run (reported), else undefined. `onGranted` (patch `lean-admission`): work to do once
 * the slot is granted, beside the reservation (its failure gives the slot back and is thrown).
 * Throws a cancellation (the request is withdrawn first).
 */
export async function holdSlot(s: RunState, onGranted?: () => Promise<void>): Promise<RunOutcome | undefined> {
  const q = queueRuns.get(s);
  if (!q?.on || q.slot) return undefined;
  const reserve = patched(PATCH_SPEND_RESERVATION);
  // Patch `lean-admission`: `onGranted` (the host claim) runs beside the reservation, not after it.
  const beside = onGranted && patched(PATCH_LEAN_ADMISSION) ? onGranted : undefined;
  for (;;) {
    s.phase = 'queued';
    const slot = await acquireSandboxSlot({
      repo: s.req.repo,
      team: teamOf(s),
      priority: s.req.priority,
      taskQueue: messagesTaskQueue(workflowInfo().taskQueue),
      coordinatorId: coordinatorIdFor(workflowInfo().taskQueue),
    });
    if (!reserve || !s.plan) {
      q.slot = slot;
      return undefined;
    }
    let cap: SpendDecision;
    try {
      const reserveNow = () => timing.reserveSpendCap({ plan: s.plan!, workflowId: s.workflowId, nowMs: Date.now(), spentUsd: spendOf(s).usd });
      if (beside) {
        const [reserved, granted] = await Promise.all([settle(reserveNow()), settle(beside())]);
        if (!granted.ok) throw granted.error;
        cap = unwrap(reserved);
      } else {
        // (As before the patch, to the await: the order of a replayed run's commands must not move.)
        cap = await reserveNow();
      }
    } catch (err) {
      await CancellationScope.nonCancellable(() => slot.release());
      throw err;
    }
    if (cap.kind === 'ok') {
      q.slot = slot;
      return undefined;
    }
    await CancellationScope.nonCancellable(() => slot.release());
    if (cap.kind === 'refuse') return await reject(s, cap.message);
    await deferForCap(s, q, cap);
    const rejected = await admit(s, q);
    if (rejected) return rejected;
  }
}

/** Releasing the reservation: a few quick tries (the slot must not wait long on the ledger). */
const release = proxyActivities<QueueActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 4 },
});

/**
 * Gives the slot back (before waiting for a human, and on every exit), after dropping the run's
 * spend reservation (patch `release-reservation`; a failure to drop it is logged: the reservation
 * then ends with the run's final ledger write). Never throws.
 */
export async function releaseSlot(s: RunState): Promise<void> {
  const q = queueRuns.get(s);
  const slot = q?.slot;
  if (!q || !slot) return;
  q.slot = undefined;
  if (patched(PATCH_RELEASE_RESERVATION)) {
    await CancellationScope.nonCancellable(() => release.releaseSpendReservation({ workflowId: s.workflowId, spentUsd: spendOf(s).usd })).catch((err: unknown) => {
      log.warn('could not drop the spend reservation before giving the slot back', { error: err instanceof Error ? err.message : String(err) });
    });
  }
  await CancellationScope.nonCancellable(() => slot.release());
}

/** Marks a run continued as new as admitted (its admission happened in the first execution). */
export function resumeAdmitted(s: RunState): void {
  queueRuns.set(s, { on: true });
}
