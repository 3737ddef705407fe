/**
 * *Take over* (on an escalation): the requester of the run's repository (or an approver/admin)
 * answers the escalation with `take over` (a `humanReply`): the run ends and hands its branch over.
 */
import type { SlackDeps } from '../deps.js';
import { clickedRun, markDone, messageOf, type ButtonArgs, type ClickResult } from './common.js';

/** Phases in which an escalation waits for its answer. */
export const ESCALATED_PHASES = ['escalating', 'awaiting_human'] as const;

export async function handleTakeOverClick(deps: SlackDeps, args: ButtonArgs): Promise<ClickResult> {
  await args.ack();
  const user = args.body.user.id;
  const run = await clickedRun(deps, args, 'take_over', { allowed: [...ESCALATED_PHASES], otherwise: 'This run is not waiting for an answer right now; nothing was done.' });
  if ('refused' in run) return run.refused;
  await deps.runs.reply(run.workflowId, { text: 'take over', author: user });
  const msg = messageOf(args.body);
  if (msg) await markDone(deps, args.client, msg, user, 'took the run over');
  return 'done';
}
