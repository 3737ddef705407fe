/**
 * A stand-in `agentTask` for the Linear ingress integration test: same name and input, and the
 * signals the ingress sends (`humanReply`, `cancel`, `duplicateRequest`), each recorded and
 * readable by the `log` query and in the result; ends on `cancel` or on `finish`. Keeps the test
 * about ids, starts and signals, in a second instead of a whole agent run.
 */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import { duplicateRequestSignal } from '../../workflows/signals.js';
import type { HumanReply, TaskRequest } from '../../workflows/types.js';

/** Query: what the run received, in order. */
export const logQuery = defineQuery<string[]>('log');
/** Signal: end the run (as a run that opened its PR would). */
export const finishSignal = defineSignal('finish');

/** Result of the stand-in. */
export interface StandInResult {
  task: string;
  log: string[];
}

/** The stand-in run. */
export async function agentTask(req: TaskRequest): Promise<StandInResult> {
  const log: string[] = [];
  let done = false;
  setHandler(defineSignal<[HumanReply]>('humanReply'), (r) => void log.push(`humanReply ${r.via ?? '-'} ${r.author}: ${r.text}`));
  setHandler(defineSignal<[{ by: string; reason?: string }]>('cancel'), (c) => {
    log.push(`cancel ${c.by}: ${c.reason ?? ''}`);
    done = true;
  });
  setHandler(duplicateRequestSignal, (d) => void log.push(`duplicateRequest ${d.by}`));
  setHandler(finishSignal, () => {
    done = true;
  });
  setHandler(logQuery, () => log);
  await condition(() => done);
  return { task: req.task, log };
}
