/**
 * `prTrackingWorkflow`: one sync of tracked pull requests, started by the polling Schedule (every
 * open PR) or by a GitHub webhook delivery (one PR). Deterministic: it only runs the
 * `syncPullRequests` activity (activities/prTracking.ts), which reads GitHub and writes the ledger.
 */
import { proxyActivities } from '@temporalio/workflow';

/** Input of `syncPullRequests`: one PR (a webhook) or, absent, every open one (the poll). */
export interface SyncPullRequestsInput {
  /** `owner/name` and number of the PR a webhook named. */
  only?: { githubRepo: string; number: number };
  /** What triggered it, recorded as `last_event` (`poll`, `pull_request.closed`, …). */
  event?: string;
}

/** What `syncPullRequests` did. */
export interface SyncPullRequestsResult {
  /** Runs whose PR was added to tracking. */
  registered: number;
  /** PRs refreshed from GitHub. */
  refreshed: number;
  /** PRs that became merged or closed in this sync. */
  settled: number;
}

/** The PR-tracking activities (registered with the worker's others). */
export interface PrTrackingActivities {
  syncPullRequests(input: SyncPullRequestsInput): Promise<SyncPullRequestsResult>;
}


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
