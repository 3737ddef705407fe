/**
 * The contract between the workflow and the Linear run activities (served on the messages task
 * queue, `<taskQueue>-messages`, so that they never wait behind agent runs for an activity slot).
 *
 * Types only: the workflow bundle imports this module. Linear's Agent API:
 * https://linear.app/developers/agent-interaction
 */

/** Task queue of the message activities of a worker whose main task queue is `taskQueue`. */
export function messagesTaskQueue(taskQueue: string): string {
  return `${taskQueue}-messages`;
}

/** Status of one plan step (`agentSessionUpdate` `plan[].status`). */
export type PlanStepStatus = 'pending' | 'inProgress' | 'completed' | 'canceled';

/** One step of an agent session's plan, as Linear shows it. */
export interface PlanStep {
  content: string;
  status: PlanStepStatus;
}

/** A link shown on the agent session (`externalUrls`). */
export interface SessionLink {
  label: string;
  url: string;
}

/**
 * Input of `mirrorLinearSession`: the session's whole plan (replacing what Linear shows), the PR
 * once opened, and optionally a progress thought to post after them. The activity links the run
 * in the Temporal Web UI itself (from its configuration) and the PR, as `externalUrls`.
 */
export interface SessionMirrorInput {
  workflowId: string;
  agentSessionId: string;
  plan: PlanStep[];
  /** The pull request, once opened. */
  prUrl?: string;
  /** A phase change as a `thought` activity; `id` (UUID v4) makes a retried post idempotent. */
  thought?: { id: string; body: string; ephemeral: boolean };
}

/** Where `moveLinearIssue` moves an issue. */
export type IssueStateTarget = 'started' | 'review';

/** Result of `moveLinearIssue`: never a failure for "not allowed" (the run goes on). */
export type IssueMove =
  | { moved: true; state: string }
  /**
   * `already`: the issue is in a suitable state (`state` names it); `no_state`: the team has no
   * such state; `disabled`: issue states are off for the team; `forbidden`: the API key may not
   * update the issue (the run stops moving it).
   */
  | { moved: false; reason: 'already' | 'no_state' | 'disabled' | 'forbidden'; state?: string };

/** Result of `checkLinearAccess`. */
export type AccessDecision = { allowed: true } | { allowed: false; reason: string };

/** Activities of Linear runs (all on the messages task queue). */
export interface LinearRunActivities {
  /** Replaces the session's plan and links (`agentSessionUpdate`), then posts the thought, if any. */
  mirrorLinearSession(input: SessionMirrorInput): Promise<void>;
  /**
   * Moves the issue to its team's first `started` state, or to its review state (per-team config).
   * Returns why not when it does not; throws only retryable failures.
   */
  moveLinearIssue(input: { workflowId: string; issueId: string; target: IssueStateTarget }): Promise<IssueMove>;
  /** Whether the requester may start runs: member of `linear.allowedTeams`, or of the workspace. */
  checkLinearAccess(input: { workflowId: string; issueId: string; requesterId?: string; requester: string }): Promise<AccessDecision>;
}
