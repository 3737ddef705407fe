/**
 * *Reply with guidance* (on an escalation): the requester of the run's repository (or an
 * approver/admin) gets a modal with a text field (`views.open` within 3 s of the click: the checks
 * before it take one Temporal describe and one query bounded at 1.2 s). The submission is
 * `submitGuidance.ts`.
 */
import type { SlackDeps } from '../deps.js';
import { guidanceModal } from '../views/modals.js';
import { clickedRun, messageOf, tellClicker, type ButtonArgs, type ClickResult } from './common.js';
import { ESCALATED_PHASES } from './takeOver.js';

export async function handleGuidanceClick(deps: SlackDeps, args: ButtonArgs): Promise<ClickResult> {
  await args.ack();
  const run = await clickedRun(deps, args, 'guidance', { allowed: [...ESCALATED_PHASES], otherwise: 'This run is not waiting for guidance right now; nothing was done.' });
  if ('refused' in run) return run.refused;
  const msg = messageOf(args.body);
  if (!msg) {
    await tellClicker(args, 'I cannot tell which message this button was on; reply in the thread instead.');
    return 'failed';
  }
  await args.client.views.open({ trigger_id: args.body.trigger_id, view: guidanceModal({ workflowId: run.workflowId, channel: msg.channel, ts: msg.ts, threadTs: msg.threadTs ?? msg.ts }) as never });
  return 'opened';
}
