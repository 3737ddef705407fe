/**
 * A human's reply in a comment thread of an issue (e.g. under the escalation comment) reaches the
 * issue's open label run as a `humanReply` (`via: 'linear-comment'`, `id` = the comment id,
 * `inReplyTo` = the thread's parent comment, so the workflow can tell its own escalation thread
 * from others). With no open label run, nothing happens. Our own comments never get here
 * (decide.ts). The run is the latest of `linear-<issueId>`, `linear-<issueId>-2`, … (runs.ts).
 */
import type { CommentDecision } from './decide.js';
import type { ActOutcome } from './outcome.js';
import { findSequence, type LinearRunsPort } from './runs.js';

/**
 * Acts on a comment reply.
 * @throws the port's errors (the delivery is answered 500 and redelivered).
 */
export async function actOnComment(port: LinearRunsPort, d: CommentDecision): Promise<ActOutcome> {
  const seq = await findSequence(port, d.baseId);
  if (!seq.open) return { result: 'nothing', why: seq.runs.length ? 'the issue\'s runs have ended' : 'the issue has no Nightshift run' };
  const sent = await port.signal(seq.open.workflowId, { name: 'humanReply', reply: d.reply });
  if (sent === 'not_running') return { result: 'nothing', workflowId: seq.open.workflowId, why: 'the run ended before the reply reached it' };
  return { result: 'signalled', workflowId: seq.open.workflowId, why: 'comment reply sent to the issue\'s open run' };
}
