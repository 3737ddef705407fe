/**
 * `prTrackingWorkflow`: one sync of tracked pull requests, started by the polling Schedule (every
 * open PR) or by a GitHub webhook delivery (one PR). Deterministic: it only runs the
 * `syncPullRequests` activity (activities/prTracking.ts), which reads GitHub and writes the ledger.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { PrTrackingActivities, SyncPullRequestsInput, SyncPullRequestsResult } from '../activities/prTracking.js';

const { syncPullRequests } = proxyActivities<PrTrackingActivities>({
  startToCloseTimeout: '10 minutes',
  // One PR's three GitHub calls take seconds; a sync of hundreds heartbeats per PR.
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 8 },
});

/** Syncs the tracked PRs `input` names; returns what changed. */
export async function prTrackingWorkflow(input: SyncPullRequestsInput): Promise<SyncPullRequestsResult> {
  return syncPullRequests(input);
}
