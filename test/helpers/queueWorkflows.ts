/**
 * Workflows of the queue tests and benchmarks (a bundle of their own): the coordinator, and
 * `slotHolder`, a stand-in for a run that takes a sandbox slot, works for a while, and gives it back.
 */
import { CancellationScope, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import { acquireSandboxSlot, type SlotAsk } from '../../workflows/queueSlot.js';

export { queueCoordinator } from '../../workflows/queueCoordinator.js';

/** Test activities: the holder reports what it does while it holds its slot. */
export interface HolderActivities {
  /** Called right after the grant (before any work). */
  holderBegin(e: { workflowId: string; repo: string; team: string; priority: number; grantSeq: number }): Promise<void>;
  /** Called after the work, before the release. */
  holderEnd(e: { workflowId: string; repo: string }): Promise<void>;
}

const { holderBegin, holderEnd } = proxyActivities<HolderActivities>({ startToCloseTimeout: '10 seconds' });

/** Input of {@link slotHolder}. */
export interface SlotHolderInput extends SlotAsk {
  /** How long the slot is held, ms. */
  workMs: number;
}

/**
 * Acquires a slot, reports, sleeps `workMs`, reports, releases; the end report and the release are
 * in a finally (a cancelled holder gives its slot back too). Returns the grant number.
 */
export async function slotHolder(input: SlotHolderInput): Promise<number> {
  const slot = await acquireSandboxSlot(input);
  const { workflowId } = workflowInfo();
  try {
    await holderBegin({ workflowId, repo: input.repo, team: input.team ?? '', priority: input.priority ?? 3, grantSeq: slot.grant.grantSeq });
    await sleep(input.workMs);
    return slot.grant.grantSeq;
  } finally {
    await CancellationScope.nonCancellable(() => holderEnd({ workflowId, repo: input.repo }));
    await slot.release();
  }
}
