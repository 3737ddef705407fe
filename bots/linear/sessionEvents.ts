/**
 * Events of an agent session that has (or will have) a run: a `prompted` reply → `humanReply`
 * (`via: 'linear-session'`), a `stop` → `cancel` (`reason: 'stop in Linear'`).
 *
 * The session's run is `linear-session-<sessionId>` (workflows/types.ts `workflowIdFor`), so an
 * event finds its run from the payload alone. Delivery is Temporal's signalWithStart: a `prompted`
 * that arrives before `created` started the run starts it (with the same request: `prompted`
 * carries the whole `agentSession`) and the signal is its first event; `created` then finds it
 * started. Session runs started under the old scheme (`linear-<issueId>`, input naming the same
 * session) are still signalled while open.
 *
 * After the session's run ended (ids are never reused):
 * - a reply starts a follow-up run of the session, `linear-session-<sessionId>-<n>`, whose task
 *   is the original request plus the reply; Linear's UI invites a follow-up in the session, and
 *   the run answers it there. A bare command (`cancel`, `take over`, `approve`, `reject`, `stop`)
 *   starts nothing;
 * - a stop does nothing (nothing is running).
 * A redelivery of the delivery that started a follow-up (its event key, deliveryKey.ts, in the run's memo) does
 * nothing.
 */
import { sequencedWorkflowId, type HumanReply, type TaskRequest } from '../../workflows/types.js';
import { taskText, type SessionDecision } from './decide.js';
import type { ActOutcome } from './outcome.js';
import { findSequence, startedBy, type LinearRunsPort, type RunMemo, type RunSignal } from './runs.js';

const COMMAND = /^(cancel|take over|approve|reject|stop)$/i;

/** The request of follow-up run `n` of a session. */
export function followUpRequest(first: TaskRequest, reply: HumanReply, n: number, previousId: string): TaskRequest {
  return {
    ...first,
    requester: reply.author,
    task: taskText(first.task, `Follow-up from ${reply.author} in the Linear session (run ${n}; the previous run, ${previousId}, ended):\n${reply.text}`),
  };
}

const ATTEMPTS = 3;

/**
 * Acts on a session event.
 * @throws the port's errors (the delivery is answered 500 and redelivered).
 */
export async function actOnSession(port: LinearRunsPort, d: SessionDecision, eventKey: string | undefined): Promise<ActOutcome> {
  const memo: RunMemo = eventKey ? { linearEvent: eventKey } : {};
  const sig: RunSignal =
    d.action.kind === 'reply' ? { name: 'humanReply', reply: d.action.reply } : { name: 'cancel', by: d.action.by, reason: 'stop in Linear' };

  const base = await port.describe(d.baseId);
  if (!base) {
    const legacy = await port.describe(d.legacyId);
    if (legacy?.running && (await port.sessionOf(d.legacyId)) === d.agentSessionId) {
      if ((await port.signal(d.legacyId, sig)) === 'delivered') return { result: 'signalled', workflowId: d.legacyId, why: 'sent to the session\'s run (old id)' };
    }
  }
  if (!base || base.running) {
    if ((await port.signalWithStart(d.baseId, d.request, sig, memo)) === 'delivered') {
      return { result: 'signalled', workflowId: d.baseId, why: base ? 'sent to the session\'s run' : 'started the session\'s run with the event (it came before created)' };
    }
  }
  for (let i = 0; i < ATTEMPTS; i++) {
    const seq = await findSequence(port, d.baseId);
    const mine = startedBy(seq, eventKey);
    if (mine) return { result: 'already_started', workflowId: mine.workflowId, why: 'redelivery of the event that started this run' };
    if (seq.open) {
      if ((await port.signal(seq.open.workflowId, sig)) === 'delivered') return { result: 'signalled', workflowId: seq.open.workflowId, why: 'sent to the session\'s open run' };
      continue;
    }
    if (d.action.kind === 'stop') return { result: 'nothing', why: 'stop after the session\'s run ended' };
    const reply = d.action.reply;
    if (COMMAND.test(reply.text)) return { result: 'nothing', why: `"${reply.text}" after the session's run ended` };
    const previous = seq.runs.at(-1)?.workflowId ?? d.baseId;
    const id = sequencedWorkflowId(d.baseId, seq.next);
    if ((await port.start(id, followUpRequest(d.request, reply, seq.next, previous), memo)) === 'started') {
      return { result: 'follow_up', workflowId: id, why: `reply after ${previous} ended: follow-up run ${seq.next}` };
    }
  }
  return { result: 'nothing', why: 'the session\'s runs kept changing while this delivery was handled; nothing started' };
}
