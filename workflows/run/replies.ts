/**
 * Replies that arrive while no escalation is pending (patch `reply-during-work`): "cancel" cancels
 * the run, "take over" hands it over at the end of the current attempt, anything else is a note
 * for the next attempt's prompt, acknowledged at the origin. A reply whose id was seen is ignored.
 */
import { log } from '@temporalio/workflow';
import { classifyReply } from '../prompt.js';
import { renderReplyNoted } from '../replySummary.js';
import type { HumanReply } from '../types.js';
import { report } from './report.js';
import type { RunState } from './state.js';

/**
 * Handles one `humanReply` signal of a run that took the patch. Synchronous effects first (so
 * that a later signal sees them); the acknowledgement is then posted (awaited by the handler).
 * `cancel` is the run's cancel (given as `requestCancel` to avoid an import cycle with signals.ts).
 */
export async function onReply(s: RunState, r: HumanReply, cancel: (c: { by: string; reason?: string }) => void): Promise<void> {
  if (r.id !== undefined) {
    if (s.seenReplyIds.has(r.id)) {
      log.info('reply already received; ignored', { id: r.id, author: r.author });
      return;
    }
    s.seenReplyIds.add(r.id);
  }
  // A Linear comment reply counts only in the thread of one of this run's own comments (another
  // thread on the issue is a conversation between people, not an answer to the run).
  if (r.via === 'linear-comment' && r.inReplyTo !== undefined && !s.reportIds.has(r.inReplyTo)) {
    log.info('reply in a comment thread that is not this run\'s; ignored', { author: r.author });
    return;
  }
  // An escalation or a question is out: the reply answers it.
  if (s.awaitingReply) {
    s.replies.push(r);
    return;
  }
  if (s.phase === 'done') {
    log.warn('reply after the run ended; ignored', { author: r.author });
    return;
  }
  const kind = classifyReply(r.text);
  if (kind === 'cancel') {
    cancel({ by: r.author, reason: 'replied cancel' });
    return;
  }
  if (kind === 'take_over') {
    s.takeOverRequest ??= r;
    return;
  }
  s.notes.push(r);
  await report(s, 'reply_noted', (f) => renderReplyNoted(r, f));
}

/** Moves the notes sent so far into the guidance (call when an attempt's prompt is built). */
export function takeNotes(s: RunState): void {
  for (const n of s.notes.splice(0)) s.guidance.push(n.text);
}
