/**
 * The guidance modal's submission: the text, as typed, is the run's `humanReply` (a new attempt
 * with a fresh budget tranche; `cancel` or `take over` typed alone act as such). The escalation's
 * buttons are replaced by who answered and when.
 */
import type { SlackDeps } from '../deps.js';
import { ESCALATED_PHASES } from './takeOver.js';
import { checkSubmission, markSubmitted, type SubmitArgs, type SubmitResult } from './submission.js';

export async function handleGuidanceSubmit(deps: SlackDeps, args: SubmitArgs): Promise<SubmitResult> {
  const s = await checkSubmission(deps, args, { action: 'guidance', phases: [...ESCALATED_PHASES], notWaiting: 'This run is not waiting for guidance any more; nothing was sent.', textRequired: true });
  if (!s) return 'invalid';
  await deps.runs.reply(s.meta.workflowId, { text: s.text, author: s.user });
  await markSubmitted(deps, args, s, 'replied with guidance');
  return 'done';
}
