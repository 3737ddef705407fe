/**
 * The trigger label added to an issue: the first run is `linear-<issueId>`; once every run
 * of the issue has ended, adding the label again starts `linear-<issueId>-<n>` (next free n, its
 * task saying "run n"); while a run is open nothing starts and that run is told (the
 * `duplicateRequest` signal: it says where it is). A redelivery of the delivery that started a run
 * (its event key, deliveryKey.ts, is in the run's memo) does nothing, even after a restart.
 */
import { sequencedWorkflowId, type TaskRequest } from '../../workflows/types.js';
import type { LabelDecision } from './decide.js';
import type { ActOutcome } from './outcome.js';
import { findSequence, startedBy, type LinearRunsPort, type RunMemo } from './runs.js';

/** The request of run `n` of an issue (n ≥ 2 says so in the task). */
export function nthRunRequest(first: TaskRequest, n: number, previousId: string): TaskRequest {
  if (n <= 1) return first;
  return {
    ...first,
    task: `${first.task}\n\n(Run ${n} on this issue: the label was added again after run ${n - 1}, ${previousId}, ended.)`,
  };
}

/** Races (a concurrent delivery started or ended a run meanwhile) are retried this many times. */
const ATTEMPTS = 3;

/**
 * Acts on a label decision.
 * @throws the port's errors (the delivery is answered 500 and redelivered).
 */
export async function actOnLabel(port: LinearRunsPort, d: LabelDecision, eventKey: string | undefined): Promise<ActOutcome> {
  const memo: RunMemo = eventKey ? { linearEvent: eventKey } : {};
  if ((await port.start(d.baseId, d.request, memo)) === 'started') return { result: 'started', workflowId: d.baseId, why: 'first run of the issue' };
  for (let i = 0; i < ATTEMPTS; i++) {
    const seq = await findSequence(port, d.baseId);
    const mine = startedBy(seq, eventKey);
    if (mine) return { result: 'already_started', workflowId: mine.workflowId, why: 'redelivery of the delivery that started the run' };
    if (seq.open) {
      const told = await port.signal(seq.open.workflowId, {
        name: 'duplicateRequest',
        request: { by: d.by, via: 'linear-label', ...(eventKey ? { id: eventKey } : {}) },
      });
      if (told === 'delivered') return { result: 'told_open', workflowId: seq.open.workflowId, why: 'label added while a run is open' };
      continue; // it ended meanwhile: start the next one
    }
    const id = sequencedWorkflowId(d.baseId, seq.next);
    const previous = seq.runs.at(-1)?.workflowId ?? d.baseId;
    if ((await port.start(id, nthRunRequest(d.request, seq.next, previous), memo)) === 'started') {
      return { result: 'started', workflowId: id, why: `label added again after ${previous} ended: run ${seq.next}` };
    }
  }
  return { result: 'nothing', why: 'the issue\'s runs kept changing while this delivery was handled; nothing started' };
}
