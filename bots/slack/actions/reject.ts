/**
 * *Reject* (on an approval request of the diff gate): an approver/admin of the run's repository
 * gets a modal asking why (optional); the submission (`submitReject.ts`) sends
 * `approve {decision: 'reject'}`: nothing is pushed and the run asks for guidance.
 */
import type { SlackDeps } from '../deps.js';
import { rejectModal } from '../views/modals.js';
import { APPROVAL_PHASES, NO_APPROVAL_PENDING } from './approve.js';
import { clickedRun, messageOf, tellClicker, type ButtonArgs, type ClickResult } from './common.js';

export async function handleRejectClick(deps: SlackDeps, args: ButtonArgs): Promise<ClickResult> {
  await args.ack();
  const run = await clickedRun(deps, args, 'reject', { allowed: [...APPROVAL_PHASES], otherwise: NO_APPROVAL_PENDING });
  if ('refused' in run) return run.refused;
  const msg = messageOf(args.body);
  if (!msg) {
    await tellClicker(args, 'I cannot tell which message this button was on; reply `reject` in the thread instead.');
    return 'failed';
  }
  await args.client.views.open({ trigger_id: args.body.trigger_id, view: rejectModal({ workflowId: run.workflowId, channel: msg.channel, ts: msg.ts, threadTs: msg.threadTs ?? msg.ts }) as never });
  return 'opened';
}
