/**
 * The deliver phase: the diff gate reviews the validated change (and, when it must, a human
 * approves it), then the branch is pushed and the PR opened, and the origin hears of it.
 */
import { CancellationScope, condition, log, patched } from '@temporalio/workflow';
import type { ChangeReview, RunPlan, Workspace } from '../activityTypes.js';
import { renderApprovalRequest } from '../gateSummary.js';
import { renderSuccess, renderTimedOut } from '../summary.js';
import type { ApprovalDecision, RunOutcome } from '../types.js';
import { releaseSlot } from './admission.js';
import { hostActs } from './host.js';
import { cancelled } from './cancel.js';
import { cleanUpAfterDelivery } from './cleanup.js';
import { PATCH_ATOMIC_DELIVERY } from './patches.js';
import { report } from './report.js';
import { finish, GateStop, spendOf, type CancelRequest, type RunState } from './state.js';

/**
 * Asks the origin to approve the reviewed change and waits (durably) for the `approve` signal,
 * a cancel, or the escalation wait. Returns the decision, or undefined when nobody answered.
 */
async function awaitApproval(s: RunState, p: RunPlan, review: ChangeReview): Promise<ApprovalDecision | undefined> {
  s.approval = undefined;
  s.awaitingApproval = true;
  // An approval can take days: the sandbox slot goes back to the queue (delivery needs none).
  await releaseSlot(s);
  await report(s, 'approval_needed', (f) => renderApprovalRequest({ title: s.req.title, workflowId: s.workflowId, review, what: 'pull request', waitMs: p.escalationWaitMs }, f));
  // Like `awaiting_human`: the phase says the request is out (an answer sent meanwhile still counts).
  s.phase = 'awaiting_approval';
  const answered = await condition(() => s.approval !== undefined || s.cancelRequest !== undefined, p.escalationWaitMs);
  s.awaitingApproval = false;
  return answered ? s.approval : undefined;
}

/**
 * Delivers the validated change and returns the run's outcome (`pr_opened`, `cancelled`, or
 * `escalation_timed_out` when an approval never came). Throws {@link GateStop} when the gate or a
 * human stops the delivery, and what the activities throw.
 */
export async function deliverPhase(s: RunState, p: RunPlan, ws: Workspace): Promise<RunOutcome> {
  const { req, workflowId } = s;
  s.phase = 'delivering';
  const { git } = hostActs(s);
  // The diff gate: nothing is pushed before the change is reviewed (and, when it must be, approved).
  const review = await git.reviewChanges({ workflowId, plan: p, workspace: ws, taskText: `${req.title}\n${req.task}` });
  // A cancel that arrived during the review (git activities finish before the run sees it):
  // nothing is asked for and nothing is delivered.
  if (s.cancelRequest) return await cancelled(s);
  const validatedTree = s.attempts.at(-1)?.validation?.treeSha;
  if (validatedTree && validatedTree !== review.treeSha) {
    throw new GateStop('the change to push differs from the change Nightshift validated; nothing was pushed');
  }
  const draft = review.testChanges.length > 0;
  let approvedBy: string | undefined;
  if (draft && p.testChangesPolicy === 'escalate') {
    throw new GateStop(`the change modifies what "passing" means (${review.testChanges.map((c) => c.description).slice(0, 3).join('; ')}); a human must decide`);
  }
  if (review.findings.length > 0) {
    const decision = await awaitApproval(s, p, review);
    if (s.cancelRequest) return await cancelled(s);
    if (!decision) {
      s.keepWorkspace = true;
      await report(s, 'timed_out', (f) =>
        renderTimedOut({ waitedMs: p.escalationWaitMs, wipBranch: s.wipBranch, spend: spendOf(s), waitedFor: 'approval of the change', note: 'Nothing was pushed; the change is kept on the worker.' }, f),
      );
      return finish(s, 'escalation_timed_out', { reason: `no approval within ${Math.round(p.escalationWaitMs / 3_600_000)} h; nothing was pushed` });
    }
    if (decision.decision === 'reject') {
      throw new GateStop(`${decision.by} rejected the change${decision.reason ? `: ${decision.reason}` : ''}`);
    }
    approvedBy = decision.by;
    s.phase = 'delivering';
  }
  const gate = { review, approvedBy, draft };
  // Notes that arrived during the attempt that passed: listed as not acted on (none on runs before `reply-during-work`).
  const notes = s.notes.map((n) => ({ author: n.author, text: n.text }));
  const success = {
    title: req.title, task: req.task, source: req.source, testsBefore: s.testsBefore, attempts: s.attempts, spend: spendOf(s), durationMs: Date.now() - s.startedAt, workflowId, gate,
    ...(notes.length > 0 ? { notes } : {}),
    ...(s.clarify ? { clarify: s.clarify } : {}),
    ...(p.routing ? { routing: p.routing } : {}),
  };
  // Without a PR URL the renderer gives the PR body; with it, the report to the origin.
  // Once the push starts it finishes: a cancel arriving now is answered with the PR it made.
  const deliver = () => git.deliver({ workflowId, plan: p, workspace: ws, title: req.title, body: renderSuccess(success, 'markdown'), reviewedTree: review.treeSha, draft });
  const delivery = patched(PATCH_ATOMIC_DELIVERY) ? await CancellationScope.nonCancellable(deliver) : await deliver();
  // (A signal handler may have set it while the delivery ran: TypeScript cannot see that.)
  const late = s.cancelRequest as CancelRequest | undefined;
  if (late) log.warn('cancel arrived during delivery; the pull request was already opened', { by: late.by, pr: delivery.prUrl });
  // Nothing reads the workspace any more: its cleanup goes beside the report (run/cleanup.ts).
  cleanUpAfterDelivery(s);
  await report(s, 'pr_opened', (f) => renderSuccess({ ...success, prUrl: delivery.prUrl, branch: delivery.branch }, f));
  return finish(s, 'pr_opened', { prUrl: delivery.prUrl, branch: delivery.branch, draft, ...(notes.length > 0 ? { notesNotActedOn: notes } : {}) });
}
