/**
 * Starting and talking to runs from the front ends (CLI, Linear, Slack).
 */
import { InternalConnectionLikeSymbol, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client, type InternalConnectionLike } from '@temporalio/client';
import { agentTask, approveSignal, cancelSignal, humanReplySignal, statusQuery } from '../workflows/index.js';
import { duplicateRequestSignal } from '../workflows/signals.js';
import type { ApprovalDecision, DuplicateRequest, HumanReply, RunOutcome, RunStatus, TaskRequest } from '../workflows/types.js';

/**
 * Searchless facts stored with a run at its start (Temporal memo): the Linear delivery that
 * started it, so that a redelivery after the run ended is recognised.
 */
export interface RunMemo {
  /** Key of the Linear event that started the run (bots/linear/deliveryKey.ts), so that its redelivery starts nothing. */
  linearEvent?: string;
}

/** A signal to a run, by name with its payload. */
export type RunSignal =
  | { name: 'humanReply'; reply: HumanReply }
  | { name: 'cancel'; by: string; reason?: string }
  | { name: 'duplicateRequest'; request: DuplicateRequest };

/** What `describe` tells about a run. */
export interface RunDescription {
  workflowId: string;
  /** True while the run is open (Temporal status `RUNNING`). */
  running: boolean;
  /** Temporal execution status name: `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, `TERMINATED`, … */
  status: string;
  memo: RunMemo;
}

function signalOf(sig: RunSignal): { name: string; args: unknown[] } {
  switch (sig.name) {
    case 'humanReply':
      return { name: humanReplySignal.name, args: [sig.reply] };
    case 'cancel':
      return { name: cancelSignal.name, args: [{ by: sig.by, ...(sig.reason ? { reason: sig.reason } : {}) }] };
    case 'duplicateRequest':
      return { name: duplicateRequestSignal.name, args: [sig.request] };
  }
}

function memoOf(memo: RunMemo | undefined): Record<string, unknown> | undefined {
  return memo && Object.keys(memo).length > 0 ? { ...memo } : undefined;
}

/**
 * Whether `client` can ask for eager workflow start: only a client on the worker's
 * NativeConnection (a worker of the task queue in this process), where the server hands the run's
 * first workflow task back in the start response instead of through matching.
 * https://docs.temporal.io/develop/worker-performance#eager-workflow-start
 */
export function canStartEagerly(client: Client): boolean {
  return (client.connection as InternalConnectionLike)[InternalConnectionLikeSymbol]?.supportsEagerStart === true;
}

/**
 * Starts the `agentTask` run with this id once, eagerly when the client shares the worker's
 * connection ({@link canStartEagerly}; the server falls back to a normal start when no local
 * worker has a free slot). A second start with the same id, while the run is
 * open or after it closed, starts nothing and returns `already_started` (redeliveries are safe).
 */
export async function startRun(
  client: Client,
  taskQueue: string,
  workflowId: string,
  req: TaskRequest,
  memo?: RunMemo,
): Promise<'started' | 'already_started'> {
  try {
    const m = memoOf(memo);
    await client.workflow.start(agentTask, {
      taskQueue,
      workflowId,
      args: [req],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      ...(canStartEagerly(client) ? { requestEagerStart: true } : {}),
      ...(m ? { memo: m } : {}),
    });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already_started';
    throw err;
  }
}

/**
 * Signals the run with this id, starting it with `req` first when no run has the id (Temporal's
 * signalWithStart: one atomic call, so a signal that races the start is never lost).
 * @returns `delivered` (signalled an open run, or started one and signalled it); `closed` when a
 *   closed run holds the id (ids are never reused), so nothing was started or signalled.
 * @throws Temporal client errors other than "already started" (connection, permission).
 */
export async function signalWithStartRun(
  client: Client,
  taskQueue: string,
  workflowId: string,
  req: TaskRequest,
  sig: RunSignal,
  memo?: RunMemo,
): Promise<'delivered' | 'closed'> {
  const { name, args } = signalOf(sig);
  const m = memoOf(memo);
  try {
    await client.workflow.signalWithStart(agentTask, {
      taskQueue,
      workflowId,
      args: [req],
      signal: name,
      signalArgs: args,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...(m ? { memo: m } : {}),
    });
    return 'delivered';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'closed';
    throw err;
  }
}

/**
 * Signals an open run.
 * @returns `not_running` when no run has the id or it has ended.
 */
export async function signalRun(client: Client, workflowId: string, sig: RunSignal): Promise<'delivered' | 'not_running'> {
  const { name, args } = signalOf(sig);
  try {
    await client.workflow.getHandle(workflowId).signal(name, ...args);
    return 'delivered';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'not_running';
    throw err;
  }
}

/** Describes the latest run with this id; undefined when no run ever had it. */
export async function describeRun(client: Client, workflowId: string): Promise<RunDescription | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    const memo = (d.memo ?? {}) as Record<string, unknown>;
    return {
      workflowId,
      running: d.status.name === 'RUNNING',
      status: d.status.name,
      memo: typeof memo.linearEvent === 'string' ? { linearEvent: memo.linearEvent } : {},
    };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
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

/**
 * The `TaskRequest` a run was started with, read from its first history event only; undefined
 * when no run has the id or the input is unreadable.
 */
export async function runInput(client: Client, workflowId: string): Promise<TaskRequest | undefined> {
  try {
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId },
      maximumPageSize: 1,
    });
    const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    if (!payload) return undefined;
    return client.options.loadedDataConverter.payloadConverter.fromPayload<TaskRequest>(payload);
  } catch (err) {
    // NOT_FOUND (gRPC status 5): no run has the id.
    if ((err as { code?: unknown }).code === 5) return undefined;
    throw err;
  }
}
