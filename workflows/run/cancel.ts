/**
 * Partial work and the cancelled ending: push what the run has (unless the diff gate holds it
 * back), then tell the origin.
 */
import { CancellationScope, log } from '@temporalio/workflow';
import type { RunPlan, Workspace } from '../activityTypes.js';
import { heldBackReason } from '../gateSummary.js';
import { renderCancelled } from '../summary.js';
import type { RunOutcome } from '../types.js';
import { hostActs } from './host.js';
import { report } from './report.js';
import { finish, infraErrorOf, spendOf, type RunState } from './state.js';

/**
 * Pushes partial work to the WIP branch (sets `s.wipBranch`) unless the diff gate holds it back
 * (then the workspace is kept on the worker and the reason returned). Throws what the activities throw.
 */
export async function pushPartialWork(s: RunState, p: RunPlan, ws: Workspace): Promise<string | undefined> {
  const { req, workflowId } = s;
  const { git } = hostActs(s);
  const review = await git.reviewChanges({ workflowId, plan: p, workspace: ws, taskText: `${req.title}\n${req.task}` });
  // Partial work that touches a risky path or redefines the tests is not pushed either: CI that
  // runs on push would run it with the repository's secrets.
  if (review.findings.length > 0 || review.testChanges.length > 0) {
    s.keepWorkspace = true;
    return heldBackReason(review);
  }
  const wip = await git.pushWip({ workflowId, plan: p, workspace: ws, title: req.title, reviewedTree: review.treeSha });
  s.wipBranch = wip?.branch ?? s.wipBranch;
  s.wipSha = wip?.commitSha ?? s.wipSha;
  return undefined;
}

/**
 * Ends a cancelled run: pushes partial work (not cancellable; a failure keeps the workspace),
 * reports `cancelled` and returns the outcome. Never throws but a workflow cancellation.
 */
export async function cancelled(s: RunState): Promise<RunOutcome> {
  const by = s.cancelRequest?.by ?? 'a cancellation';
  let heldBack: string | undefined;
  if (s.plan && s.workspace) {
    const p = s.plan;
    const ws = s.workspace;
    try {
      heldBack = await CancellationScope.nonCancellable(() => pushPartialWork(s, p, ws));
    } catch (err) {
      // The cancellation is still reported; the workspace is kept so that nothing is lost.
      s.keepWorkspace = true;
      log.error('could not push partial work of a cancelled run; keeping its workspace', { path: ws.path, ...infraErrorOf(err, 'push partial work') });
    }
    if (heldBack) log.warn(heldBack, { path: ws.path });
  }
  await report(s, 'cancelled', (f) => renderCancelled({ by, reason: s.cancelRequest?.reason, wipBranch: s.wipBranch, attempts: s.attempts.length, spend: spendOf(s) }, f));
  return finish(s, 'cancelled', { reason: `cancelled by ${by}` });
}
