/**
 * Activities of the sandbox queue (workflows/queueCoordinator.ts, workflows/queueSlot.ts):
 * - `requestSandboxSlot`: a run's request, sent to the coordinator with signalWithStart (the first
 *   request of a namespace starts the coordinator; a workflow cannot do that by signal itself),
 *   with the caps of this worker's configuration;
 * - `findClosedRuns`: which holders/waiters are closed, for the coordinator's reclaim.
 * https://typescript.temporal.io/api/classes/client.WorkflowClient#signalwithstart
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { queueCoordinator, requestSlotSignal, type CoordinatorActivities } from '../workflows/queueCoordinator.js';
import type { RequestSlotInput, SlotActivities } from '../workflows/queueSlot.js';

/** What the admission activities need. */
export interface AdmissionDeps {
  client: Client;
  /** Task queue the coordinator runs on (a worker there must register `queueCoordinator`). */
  taskQueue: string;
  /** Global cap: concurrent sandboxes in the namespace (`queue.maxConcurrent`). */
  maxConcurrent: number;
  /** Per-repository caps (`repos.X.maxConcurrent`); a repository without one has only the global cap. */
  repoCaps: Record<string, number | undefined>;
  /** How often the coordinator reclaims closed holders, ms (`queue.reclaimEverySeconds`). */
  reclaimEveryMs?: number;
  /** Continue-as-new threshold of the coordinator, history events (tests make it small). */
  maxHistoryEvents?: number;
}

/** Builds the admission activities (register them on the worker with the rest). */
export function createAdmissionActivities(deps: AdmissionDeps): SlotActivities & CoordinatorActivities {
  return {
    async requestSandboxSlot(input: RequestSlotInput): Promise<void> {
      const repoCap = deps.repoCaps[input.repo];
      await deps.client.workflow.signalWithStart(queueCoordinator, {
        workflowId: input.coordinatorId,
        taskQueue: deps.taskQueue,
        args: [
          {
            caps: { global: deps.maxConcurrent, repos: {} },
            ...(deps.reclaimEveryMs !== undefined ? { reclaimEveryMs: deps.reclaimEveryMs } : {}),
            ...(deps.maxHistoryEvents !== undefined ? { maxHistoryEvents: deps.maxHistoryEvents } : {}),
          },
        ],
        signal: requestSlotSignal,
        signalArgs: [
          {
            workflowId: input.workflowId,
            repo: input.repo,
            team: input.team,
            priority: input.priority,
            requestedAt: input.requestedAt,
            globalCap: deps.maxConcurrent,
            ...(repoCap !== undefined ? { repoCap } : {}),
          },
        ],
      });
    },

    async findClosedRuns(workflowIds: string[]): Promise<string[]> {
      const closed: string[] = [];
      // A few at a time: thousands of waiters must not open thousands of calls at once.
      for (let i = 0; i < workflowIds.length; i += 20) {
        const batch = workflowIds.slice(i, i + 20);
        const states = await Promise.all(
          batch.map(async (id) => {
            try {
              const d = await deps.client.workflow.getHandle(id).describe();
              return d.status.name !== 'RUNNING';
            } catch (err) {
              if (err instanceof WorkflowNotFoundError) return true;
              throw err;
            }
          }),
        );
        batch.forEach((id, j) => states[j] && closed.push(id));
      }
      return closed;
    },
  };
}
