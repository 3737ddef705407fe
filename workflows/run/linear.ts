/**
 * What a run started from Linear does besides the run itself (issue 8):
 * - access (patch `linear-access`): the requester must be allowed (`checkLinearAccess`), else the
 *   run is refused with a reply saying why and nothing runs;
 * - issue state (patch `linear-issue-state`): on start the issue moves to its team's first
 *   `started` state, on a PR to its review state; a permission error turns it off for the run;
 *   an escalation leaves the issue where it is and says so;
 * - the agent session's plan, links and phase thoughts (patch `linear-session-plan`, see
 *   ../linearSession.ts);
 * - `duplicateRequest` (patch `duplicate-request`): the run answers where it is.
 *
 * All of it runs on the messages task queue (`<taskQueue>-messages`). Deterministic workflow code.
 */
import { log, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import { startSessionMirror, type SessionMirror } from '../linearSession.js';
import { messagesTaskQueue, type IssueMove, type IssueStateTarget, type LinearRunActivities } from '../linearTypes.js';
import { duplicateRequestSignal } from '../signals.js';
import type { RunOutcome } from '../types.js';
import { report } from './report.js';
import { finish, statusOf, type RunState } from './state.js';

export const PATCH_LINEAR_ACCESS = 'linear-access';
export const PATCH_LINEAR_ISSUE_STATE = 'linear-issue-state';
export const PATCH_LINEAR_SESSION_PLAN = 'linear-session-plan';
export const PATCH_DUPLICATE_REQUEST = 'duplicate-request';

/** The Linear side of one run. */
interface LinearRun {
  mirror?: SessionMirror;
  admitted: boolean;
  /** False once a move was refused for lack of permission (or states are off). */
  statesOn: boolean;
  /** The issue's state as last known (after the start's move). */
  state?: string;
  /** The start's move, running alongside the run. */
  starting?: Promise<void>;
  answered: Set<string>;
}

const runs = new WeakMap<RunState, LinearRun>();

function acts(): LinearRunActivities {
  return proxyActivities<LinearRunActivities>({
    taskQueue: messagesTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
  });
}

/**
 * Sets up the Linear side of a run from Linear (no-op for other sources): the session mirror and
 * the `duplicateRequest` handler. Call once, before the phases.
 */
export function startLinearRun(s: RunState): void {
  const src = s.req.source;
  if (src.kind !== 'linear') return;
  const lr: LinearRun = { admitted: false, statesOn: true, answered: new Set() };
  runs.set(s, lr);
  if (src.agentSessionId && patched(PATCH_LINEAR_SESSION_PLAN)) {
    lr.mirror = startSessionMirror({ workflowId: s.workflowId, agentSessionId: src.agentSessionId, status: () => statusOf(s) });
  }
  setHandler(duplicateRequestSignal, (d) => {
    if (!patched(PATCH_DUPLICATE_REQUEST)) return;
    if (d.id && lr.answered.has(d.id)) return;
    if (d.id) lr.answered.add(d.id);
    void report(s, 'duplicate_request', () => whereTheRunIs(s, d.by));
  });
}

/** The answer to a request for a run that is already open. */
export function whereTheRunIs(s: Pick<RunState, 'workflowId' | 'phase' | 'currentAttempt' | 'plan'>, by: string): string {
  const attempt = s.currentAttempt > 0 ? `, attempt ${s.currentAttempt}${s.plan ? ` of ${s.plan.maxAttempts}` : ''}` : '';
  return `${by} asked again: this issue already has a Nightshift run open (\`${s.workflowId}\`), now ${s.phase.replace(/_/g, ' ')}${attempt}. Nothing new was started; reply here to steer it.`;
}

/**
 * First step of a Linear run: the access check, then the move to a started state (not awaited:
 * the run goes on meanwhile). Returns the `rejected` outcome (reported) when the requester may not
 * start runs. Throws what the access check throws after its retries.
 */
export async function admitLinearRun(s: RunState): Promise<RunOutcome | undefined> {
  const lr = runs.get(s);
  const src = s.req.source;
  if (!lr || src.kind !== 'linear' || lr.admitted) return undefined;
  if (patched(PATCH_LINEAR_ACCESS)) {
    const d = await acts().checkLinearAccess({ workflowId: s.workflowId, issueId: src.issueId, requesterId: src.requesterId, requester: s.req.requester });
    if (!d.allowed) {
      await report(s, 'rejected', () => `Nightshift did not start: ${d.reason}`);
      return finish(s, 'rejected', { reason: `access refused: ${d.reason}` });
    }
  }
  lr.admitted = true;
  if (patched(PATCH_LINEAR_ISSUE_STATE)) lr.starting = moveIssue(s, lr, 'started');
  return undefined;
}

async function moveIssue(s: RunState, lr: LinearRun, target: IssueStateTarget): Promise<void> {
  const src = s.req.source;
  if (src.kind !== 'linear' || !lr.statesOn) return;
  let r: IssueMove;
  try {
    r = await acts().moveLinearIssue({ workflowId: s.workflowId, issueId: src.issueId, target });
  } catch (err) {
    // Never fails the run: the issue just stays where it is.
    log.warn('could not move the Linear issue', { target, error: String(err) });
    return;
  }
  if (r.moved || r.state) lr.state = r.state;
  if (!r.moved && (r.reason === 'forbidden' || r.reason === 'disabled')) {
    lr.statesOn = false;
    if (r.reason === 'forbidden') log.warn('the Linear API key may not change issue states: issue states are off for this run');
  }
}

/** After a PR: the issue moves to its team's review state (when it has one). */
export async function linearPrOpened(s: RunState): Promise<void> {
  const lr = runs.get(s);
  if (!lr || !patched(PATCH_LINEAR_ISSUE_STATE)) return;
  await lr.starting;
  await moveIssue(s, lr, 'review');
}

/** A line for an escalation on Linear: the issue stays where it is. Undefined elsewhere. */
export function escalationStateNote(s: RunState): string | undefined {
  const lr = runs.get(s);
  if (!lr || !patched(PATCH_LINEAR_ISSUE_STATE)) return undefined;
  return lr.state ? `The issue stays in **${lr.state}** until this is resolved.` : 'The issue stays where it is until this is resolved.';
}

/** Waits until the session shows the run's current phase, so that a report follows its thought. */
export async function settleLinearSession(s: RunState): Promise<void> {
  await runs.get(s)?.mirror?.settle();
}

/** Ends the Linear side: the session shows the final plan (and the PR). Never throws. */
export async function closeLinearRun(s: RunState): Promise<void> {
  await runs.get(s)?.mirror?.close();
}
