/**
 * *Cancel* (on the live message and on an escalation): the run's requester (`cancel_own`) or an
 * approver/admin of its repository (`cancel_any`) sends the `cancel` signal; the buttons are
 * replaced by who cancelled and when.
 */
import type { SlackDeps } from '../deps.js';
import { clickedRun, markDone, messageOf, type ButtonArgs, type ClickResult } from './common.js';

export async function handleCancelClick(deps: SlackDeps, args: ButtonArgs): Promise<ClickResult> {
  await args.ack();
  const user = args.body.user.id;
  const run = await clickedRun(deps, args, (info) => (info.request?.requester === user ? 'cancel_own' : 'cancel_any'));
  if ('refused' in run) return run.refused;
  await deps.runs.cancel(run.workflowId, user, 'cancelled from Slack');
  const msg = messageOf(args.body);
  if (msg) await markDone(deps, args.client, msg, user, 'cancelled the run');
  return 'done';
}
