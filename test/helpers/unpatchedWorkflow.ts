/**
 * A deliberately incompatible `agentTask` (its first command differs from every recorded
 * history's), for the replay test's own failure case: a workflow change made without `patched`.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../workflows/activityTypes.js';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });

/** Starts with the environment where every real version starts with scoping. */
export async function agentTask(): Promise<void> {
  await acts.cleanup({ workflowId: 'unpatched' });
}
