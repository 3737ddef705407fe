/**
 * Starting and talking to runs from the front ends (CLI, Linear, Slack).
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { agentTask, approveSignal, cancelSignal, humanReplySignal, statusQuery } from '../workflows/index.js';
import type { ApprovalDecision, HumanReply, RunOutcome, RunStatus, TaskRequest } from '../workflows/types.js';

/**
 * Starts the `agentTask` run with this id once. A second start with the same id, while the run is
 * open or after it closed, starts nothing and returns `already_started` (redeliveries are safe).
 */
export async function startRun(client: Client, taskQueue: string, workflowId: string, req: TaskRequest): Promise<'started' | 'already_started'> {
  try {
    await client.workflow.start(agentTask, {
      taskQueue,
      workflowId,
      args: [req],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
    });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already_started';
    throw err;
  }
}

/** The `status` query of a run. */
export function runStatus(client: Client, workflowId: string): Promise<RunStatus> {
  return client.workflow.getHandle(workflowId).query(statusQuery);
}

/** Sends a human reply (guidance, `cancel`, `take over`) to a run. */
export function replyToRun(client: Client, workflowId: string, reply: HumanReply): Promise<void> {
  return client.workflow.getHandle(workflowId).signal(humanReplySignal, reply);
}

/** Answers a run's approval request (the diff gate): approve pushes the change, reject escalates. */
export function answerApproval(client: Client, workflowId: string, decision: ApprovalDecision): Promise<void> {
  return client.workflow.getHandle(workflowId).signal(approveSignal, decision);
}

/** Asks a run to stop now. */
export function cancelRun(client: Client, workflowId: string, by: string, reason?: string): Promise<void> {
  return client.workflow.getHandle(workflowId).signal(cancelSignal, { by, reason });
}

/** Waits for a run's outcome. */
export function runResult(client: Client, workflowId: string): Promise<RunOutcome> {
  return client.workflow.getHandle<typeof agentTask>(workflowId).result();
}
