/**
 * The run's cleanup on its host: its sandbox leftovers (warm agent included) and its workspace
 * (unless kept). A delivered run starts it as soon as its branch is pushed (patch `early-cleanup`),
 * beside its report to the origin; every other run at its end (agentTask.ts). Workflow code.
 */
import { CancellationScope, log, patched } from '@temporalio/workflow';
import { hostActs } from './host.js';
import type { RunState } from './state.js';

/** The workspace's cleanup starts once the PR is opened, beside the report, not after it. */
export const PATCH_EARLY_CLEANUP = 'early-cleanup';

/** Removes the run's sandbox leftovers and workspace (unless kept) on its host. Never throws (a failure is logged). */
export async function cleanUp(s: RunState): Promise<void> {
  const { workflowId, workspace, keepWorkspace } = s;
  await CancellationScope.nonCancellable(() => hostActs(s).cleanup.cleanup({ workflowId, workspace, keepWorkspace })).catch((err: unknown) => {
    log.warn('cleanup failed', { error: String(err) });
  });
}

/**
 * The change is pushed and its PR opened: nothing reads the workspace any more, so its cleanup
 * starts now (`s.cleaning`, awaited at the run's end), unless the workspace is to be kept.
 */
export function cleanUpAfterDelivery(s: RunState): void {
  if (s.keepWorkspace || s.cleaning || !patched(PATCH_EARLY_CLEANUP)) return;
  s.cleaning = cleanUp(s);
}
