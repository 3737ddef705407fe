/**
 * Workflows of bench/queue.bench.ts (a bundle of their own): the coordinator, the tests' `slotHolder`
 * (part 1: runs held waiting), and `slotWorker`, a run whose work is one activity between grant and
 * release, as a real run's sandbox work is (part 2: handoffs at concurrency 2).
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import { acquireSandboxSlot, type SlotAsk } from '../workflows/queueSlot.js';

export { queueCoordinator } from '../workflows/queueCoordinator.js';
export { slotHolder } from '../test/helpers/queueWorkflows.js';

/** The bench's work activity. */
export interface WorkActivities {
  /** Works `workMs` ms (records its own begin and end). */
  benchWork(e: { workflowId: string; workMs: number }): Promise<void>;
}

const { benchWork } = proxyActivities<WorkActivities>({ startToCloseTimeout: '10 minutes' });

/** Input of {@link slotWorker}. */
export interface SlotWorkerInput extends SlotAsk {
  /** Length of the work activity, ms. */
  workMs: number;
}

/** Acquires a slot, runs one work activity, releases (also when cancelled). */
export async function slotWorker(input: SlotWorkerInput): Promise<void> {
  const slot = await acquireSandboxSlot(input);
  try {
    await benchWork({ workflowId: workflowInfo().workflowId, workMs: input.workMs });
  } finally {
    await slot.release();
  }
}
