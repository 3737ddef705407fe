/**
 * The run's signals and query, and their handlers over the run state.
 *
 * Signals: `cancel` (stop now), `humanReply` ("cancel", "take over", or guidance), `approve` (the
 * diff gate's approval), `attemptProgress` (from the `runAgent` activity). Query: `status`.
 */
import { defineQuery, defineSignal, log, patched, setHandler } from '@temporalio/workflow';
import type { ApprovalDecision, AttemptProgress, HumanReply, RunStatus } from '../types.js';
import { PATCH_REPLY_ONLY_WHEN_ASKED } from './patches.js';
import { onReply } from './replies.js';
import { statusOf, type CancelRequest, type RunState } from './state.js';

/** Query: the run's phase, attempt, spend so far and last events. */
export const statusQuery = defineQuery<RunStatus>('status');
/** Signal: stop the run now (the agent's container is stopped, partial work is pushed). */
export const cancelSignal = defineSignal<[CancelRequest]>('cancel');
/** Signal: a human's reply: to an escalation or a question, or (patch `reply-during-work`) while the run works. */
export const humanReplySignal = defineSignal<[HumanReply]>('humanReply');
/** Signal: a human's answer to the diff gate's approval request. */
export const approveSignal = defineSignal<[ApprovalDecision]>('approve');
/** Signal (from the `runAgent` activity): a running attempt's live spend and last events, for `status`. */
export const attemptProgressSignal = defineSignal<[AttemptProgress]>('attemptProgress');

/** Cancels the run: records who asked (the first request wins) and cancels its work scope. */
export function requestCancel(s: RunState, c: CancelRequest): void {
  s.cancelRequest ??= c;
  s.work.cancel();
}

/** Sets the `status` query's handler (first, so that the run is visible from its start). */
export function installStatusQuery(s: RunState): void {
  setHandler(statusQuery, () => statusOf(s));
}

/** Sets the handlers of the run's signals. */
export function installSignalHandlers(s: RunState): void {
  setHandler(cancelSignal, (c) => requestCancel(s, c));
  setHandler(humanReplySignal, async (r) => {
    if (s.replyDuringWork) return onReply(s, r, (c) => requestCancel(s, c));
    // Only an answer to an escalation counts: a reply sent while the run works answers nothing
    // (it would silently answer the next escalation).
    if (s.awaitingReply || !patched(PATCH_REPLY_ONLY_WHEN_ASKED)) s.replies.push(r);
    else log.warn('reply with no escalation pending; ignored', { author: r.author });
  });
  setHandler(approveSignal, (a) => {
    // Only an answer to a pending request counts: an early "approve" approves nothing.
    if (a.decision !== 'approve' && a.decision !== 'reject') log.warn('approval signal with an unknown decision; ignored', { by: a.by });
    else if (s.awaitingApproval) s.approval ??= a;
    else log.warn('approval signal with no approval pending; ignored', { by: a.by, decision: a.decision });
  });
  setHandler(attemptProgressSignal, (p) => {
    const live = s.live;
    if (!live || p.attempt > live.attempt || (p.attempt === live.attempt && p.spend.requests >= live.spend.requests)) s.live = p;
  });
}
