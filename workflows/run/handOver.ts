/**
 * A human took the work over while the run worked: partial work is pushed (unless the diff gate
 * holds it back) and the origin hears where it is.
 */
import { isCancellation, log } from '@temporalio/workflow';
import { renderHandedOver } from '../summary.js';
import type { RunOutcome } from '../types.js';
import { pushPartialWork } from './cancel.js';
import { report } from './report.js';
import { finish, infraErrorOf, spendOf, type RunState } from './state.js';

/** Hands the run over to `by`: pushes partial work, reports `handed_over`, returns the outcome. Throws only a cancellation. */
export async function handOver(s: RunState, by: string): Promise<RunOutcome> {
  if (s.plan && s.workspace && s.attempts.length > 0) {
    const ws = s.workspace;
    try {
      const heldBack = await pushPartialWork(s, s.plan, ws);
      if (heldBack) log.warn(heldBack, { path: ws.path });
    } catch (err) {
      if (isCancellation(err)) throw err;
      s.keepWorkspace = true;
      log.warn('could not push partial work; its workspace will be kept', { ...infraErrorOf(err, 'push partial work'), path: ws.path });
    }
  }
  await report(s, 'handed_over', (f) => renderHandedOver({ by, wipBranch: s.wipBranch, attempts: s.attempts.length, spend: spendOf(s) }, f));
  return finish(s, 'handed_over', { reason: `taken over by ${by}` });
}
