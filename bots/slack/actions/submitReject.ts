/**
 * The rejection modal's submission: `approve {decision: 'reject', reason}` (reason optional).
 * Nothing is pushed; the run escalates and asks for guidance.
 */
import type { SlackDeps } from '../deps.js';
import { esc } from '../views/liveStatus.js';
import { APPROVAL_PHASES, NO_APPROVAL_PENDING } from './approve.js';
import { checkSubmission, markSubmitted, type SubmitArgs, type SubmitResult } from './submission.js';

export async function handleRejectSubmit(deps: SlackDeps, args: SubmitArgs): Promise<SubmitResult> {
  const s = await checkSubmission(deps, args, { action: 'reject', phases: [...APPROVAL_PHASES], notWaiting: NO_APPROVAL_PENDING, textRequired: false });
  if (!s) return 'invalid';
  await deps.runs.approve(s.meta.workflowId, { decision: 'reject', by: s.user, ...(s.text ? { reason: s.text } : {}) });
  await markSubmitted(deps, args, s, s.text ? `rejected the change: “${esc(s.text.slice(0, 200))}”` : 'rejected the change');
  return 'done';
}
