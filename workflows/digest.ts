/**
 * `digestWorkflow`: one team's morning digest, started by its Temporal Schedule
 * (worker/schedules.ts). Deterministic: it only runs the `postDigest` activity, which reads the
 * ledger and posts to Slack.
 */
import { proxyActivities } from '@temporalio/workflow';

/** Input of `postDigest`. */
export interface PostDigestInput {
  /** Team key (of `digest.teams`). */
  team: string;
}

/** What `postDigest` posted. */
export interface PostDigestResult {
  channel: string;
  /** The posted message's ts. */
  ts: string;
  blocks: number;
  totals: { runs: number; prs: number; escalations: number; usd: number };
}

/** The digest activities (register with the worker's others). */
export interface DigestActivities {
  postDigest(input: PostDigestInput): Promise<PostDigestResult>;
}

const { postDigest } = proxyActivities<DigestActivities>({
  startToCloseTimeout: '2 minutes',
  // A Slack or ledger hiccup is retried for about half an hour; a configuration error is not.
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/** Posts the digest of `input.team`; returns what was posted. */
export async function digestWorkflow(input: PostDigestInput): Promise<PostDigestResult> {
  return postDigest(input);
}
