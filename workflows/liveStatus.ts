/**
 * The live message of a Slack run, from the workflow side: a small loop that calls the
 * `updateLiveStatus` activity when the run's phase, attempt or outcome changes, and at most every
 * {@link LIVE_PROGRESS_INTERVAL_MS} while only the progress (spend, last events) changes. The
 * state is read at send time, so updates coalesce: while one is in flight, intermediate states
 * are skipped and the latest one is sent next (the worker adds the ≤ 1 update/s per message).
 *
 * No timer: progress changes arrive as `attemptProgress` signals, which wake the workflow, so the
 * loop adds only the update's own events (activity scheduled/started/completed + one workflow
 * task ≈ 6 events). A 2-hour run: about 2 h / 15 s = 480 progress updates + ~10 per attempt for
 * phases ≈ 3,000 events (the progress signals themselves, every ~3 s, already add ~9,600).
 *
 * Deterministic: activities are imported as types only; the loop runs in a non-cancellable scope
 * (a cancelled run still shows its final state) and `close()` waits for the final update.
 */
import { CancellationScope, condition, log, proxyActivities } from '@temporalio/workflow';
import type { LiveStatusActivities, LiveStatusInput } from './activityTypes.js';
import type { RunStatus } from './types.js';

/** Least time between two updates caused by progress alone (workflow clock), ms. */
export const LIVE_PROGRESS_INTERVAL_MS = 15_000;
/** Events shown, and their length. */
const MAX_EVENTS = 5;
const MAX_EVENT_CHARS = 200;

const acts = proxyActivities<LiveStatusActivities>({
  startToCloseTimeout: '30 seconds',
  // Best effort: the outcome also goes to the thread as a reply; a failed update is logged.
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});

/** What the loop needs to know about the run. */
export interface LiveStatusOptions {
  workflowId: string;
  channel: string;
  /** The message to keep current. */
  ts: string;
  requester: string;
  repo: string;
  title: string;
  /** Start of the run, workflow clock (Unix ms). */
  startedAt: number;
  /** The run's current status (what the `status` query answers). */
  status: () => RunStatus;
}

/** A started loop. */
export interface LiveStatus {
  /** Sends the final state (if not yet shown) and ends the loop. Never throws. */
  close(): Promise<void>;
}

/** Starts the loop (call once, early in the workflow). */
export function startLiveStatus(opts: LiveStatusOptions): LiveStatus {
  let closing = false;
  let sentKey: string | undefined;
  let sentProgress: string | undefined;
  let sentAt = Number.NEGATIVE_INFINITY;
  let seq = 0;
  const key = (s: RunStatus): string => `${s.phase}|${s.attempt}|${s.maxAttempts}|${s.outcome?.kind ?? ''}`;
  const progressKey = (s: RunStatus): string => `${s.spend.requests}|${s.spend.tokens}|${s.lastEvents.at(-1) ?? ''}`;
  const due = (): boolean => {
    const s = opts.status();
    return key(s) !== sentKey || (progressKey(s) !== sentProgress && Date.now() - sentAt >= LIVE_PROGRESS_INTERVAL_MS);
  };
  const loop = CancellationScope.nonCancellable(async () => {
    for (;;) {
      await condition(() => closing || due());
      const s = opts.status();
      if (key(s) === sentKey && progressKey(s) === sentProgress) {
        if (closing) return;
        continue;
      }
      sentKey = key(s);
      sentProgress = progressKey(s);
      sentAt = Date.now();
      try {
        await acts.updateLiveStatus(snapshot(opts, s, ++seq));
      } catch (err) {
        log.warn('could not update the live Slack message', { error: String(err) });
      }
    }
  });
  return {
    async close() {
      closing = true;
      await loop;
    },
  };
}

/** The activity's input from a status. */
export function snapshot(opts: LiveStatusOptions, s: RunStatus, seq: number): LiveStatusInput {
  const o = s.outcome;
  return {
    workflowId: opts.workflowId,
    channel: opts.channel,
    ts: opts.ts,
    requester: opts.requester,
    repo: opts.repo,
    title: opts.title,
    phase: s.phase,
    attempt: s.attempt,
    maxAttempts: s.maxAttempts,
    spend: s.spend,
    ...(s.budget ? { budget: s.budget } : {}),
    elapsedMs: Date.now() - opts.startedAt,
    lastEvents: s.lastEvents.slice(-MAX_EVENTS).map((e) => (e.length > MAX_EVENT_CHARS ? `${e.slice(0, MAX_EVENT_CHARS - 1)}…` : e)),
    ...(o
      ? {
          outcome: {
            kind: o.kind,
            ...(o.prUrl ? { prUrl: o.prUrl } : {}),
            ...(o.branch ? { branch: o.branch } : {}),
            ...(o.wipBranch ? { wipBranch: o.wipBranch } : {}),
            ...(o.reason ? { reason: o.reason.slice(0, 500) } : {}),
            ...(o.draft ? { draft: true } : {}),
          },
        }
      : {}),
    seq,
  };
}
