/**
 * What the Slack handlers need from Temporal, as a small port ({@link RunsPort}) so that a unit
 * test can hand a handler a fake and an integration test the real dev server
 * ({@link temporalRuns}).
 *
 * Who started a run and on which repository is read back from the run's own start event (the
 * `TaskRequest` input in `WorkflowExecutionStarted`), so nothing extra is stored and it survives
 * restarts. "The user's last run" is kept in memory ({@link LastRuns}): lost on restart, then
 * `status` asks for an id.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ApprovalDecision, HumanReply, RunStatus, TaskRequest } from '../../workflows/types.js';
import { answerApproval, cancelRun, replyToRun, runStatus, startRun } from '../../worker/runs.js';

/** Visibility of one run. */
export interface RunInfo {
  workflowId: string;
  /** Temporal execution status: `RUNNING`, `COMPLETED`, `FAILED`, `CANCELLED`, `TERMINATED`, `TIMED_OUT`, … */
  status: string;
  /** Start time, Unix ms. */
  startedAt: number;
  /** The run's input, when readable. */
  request?: TaskRequest;
}

/** Temporal operations of the Slack front end. */
export interface RunsPort {
  /** Starts once (`already_started` for a known id); rejects on any other failure. */
  start(workflowId: string, req: TaskRequest): Promise<'started' | 'already_started'>;
  /** The run, or undefined when no run has this id. */
  describe(workflowId: string): Promise<RunInfo | undefined>;
  /** The `status` query; undefined when it does not answer within `timeoutMs` (no worker polling). */
  status(workflowId: string, timeoutMs: number): Promise<RunStatus | undefined>;
  /** Sends the `cancel` signal. */
  cancel(workflowId: string, by: string, reason?: string): Promise<void>;
  /** Open `agentTask` runs, newest first, at most `limit`. */
  listOpen(limit: number): Promise<RunInfo[]>;
  /** Sends the `humanReply` signal (guidance, `cancel`, `take over`). */
  reply(workflowId: string, reply: HumanReply): Promise<void>;
  /** Sends the `approve` signal (approve or reject the diff gate's request). */
  approve(workflowId: string, decision: ApprovalDecision): Promise<void>;
}

/** The real port on a Temporal client. */
export function temporalRuns(client: Client, taskQueue: string): RunsPort {
  return {
    start: (id, req) => startRun(client, taskQueue, id, req),
    async describe(id) {
      const handle = client.workflow.getHandle(id);
      try {
        const d = await handle.describe();
        return { workflowId: id, status: d.status.name, startedAt: d.startTime.getTime(), request: await startInput(client, id) };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
    },
    async status(id, timeoutMs) {
      // A deadline on the call itself: without a worker the query would otherwise wait.
      return client.withDeadline(Date.now() + timeoutMs, () => runStatus(client, id)).catch(() => undefined);
    },
    cancel: (id, by, reason) => cancelRun(client, id, by, reason),
    reply: (id, r) => replyToRun(client, id, r),
    approve: (id, d) => answerApproval(client, id, d),
    async listOpen(limit) {
      const out: RunInfo[] = [];
      for await (const w of client.workflow.list({ query: `WorkflowType = 'agentTask' AND ExecutionStatus = 'Running'` })) {
        out.push({ workflowId: w.workflowId, status: w.status.name, startedAt: w.startTime.getTime() });
        if (out.length >= limit) break;
      }
      return out.sort((a, b) => b.startedAt - a.startedAt);
    },
  };
}

/** The `TaskRequest` a run was started with, from its first history event (undefined if unreadable). */
async function startInput(client: Client, workflowId: string): Promise<TaskRequest | undefined> {
  // Only the first event (a long run's whole history would be thousands of events).
  const { history } = await client.workflowService.getWorkflowExecutionHistory({ namespace: client.options.namespace, execution: { workflowId }, maximumPageSize: 1 });
  const payload = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) return undefined;
  return client.options.loadedDataConverter.payloadConverter.fromPayload<TaskRequest>(payload);
}

/** The last run each Slack user started through this process (in memory, bounded). */
export class LastRuns {
  private readonly byUser = new Map<string, string>();
  constructor(private readonly max = 10_000) {}
  /** Records `workflowId` as `user`'s last run. */
  set(user: string, workflowId: string): void {
    this.byUser.delete(user);
    this.byUser.set(user, workflowId);
    if (this.byUser.size > this.max) this.byUser.delete(this.byUser.keys().next().value as string);
  }
  get(user: string): string | undefined {
    return this.byUser.get(user);
  }
}
