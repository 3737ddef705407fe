/**
 * *Approve* (on an approval request of the diff gate): an approver/admin of the run's repository
 * sends `approve {decision: 'approve'}`; the run pushes and opens the pull request.
 */
import type { SlackDeps } from '../deps.js';
import { clickedRun, markDone, messageOf, type ButtonArgs, type ClickResult } from './common.js';

/** Phases in which an approval request waits (the request is posted just before `awaiting_approval`). */
export const APPROVAL_PHASES = ['delivering', 'awaiting_approval'] as const;
export const NO_APPROVAL_PENDING = 'This run is not waiting for an approval right now; nothing was done.';

export async function handleApproveClick(deps: SlackDeps, args: ButtonArgs): Promise<ClickResult> {
  await args.ack();
  const user = args.body.user.id;
  const run = await clickedRun(deps, args, 'approve', { allowed: [...APPROVAL_PHASES], otherwise: NO_APPROVAL_PENDING });
  if ('refused' in run) return run.refused;
  await deps.runs.approve(run.workflowId, { decision: 'approve', by: user });
  const msg = messageOf(args.body);
  if (msg) await markDone(deps, args.client, msg, user, 'approved the change');
  return 'done';
}
