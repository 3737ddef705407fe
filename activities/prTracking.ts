/**
 * PR tracking (issue 12, item 3): every PR Nightshift opened is followed on GitHub and its fate
 * recorded in the ledger (`pull_requests`): merged or closed unmerged, when, review rounds, and
 * commits pushed on top by humans. Triggered by the polling Schedule (every open tracked PR) and
 * by GitHub webhooks (one PR, worker/githubWebhook.ts); both refresh from the REST API, so a
 * lost or reordered delivery never leaves a wrong row.
 *
 * Definitions: a review round is a distinct head commit that received a submitted review from a
 * human (not `PENDING`, not by Nightshift); a human commit is one on the PR whose author is not
 * Nightshift (`github.botName`/`botEmail`, `prTracking.botLogins`).
 * https://docs.github.com/rest/pulls/pulls#get-a-pull-request,
 * https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request,
 * https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request
 */
import { heartbeat } from '@temporalio/activity';
import type { Octokit } from '@octokit/rest';
import type { Ledger, PullRequestRow } from '../ledger/types.js';
import type { Config } from '../worker/config.js';
import type { Logger } from '../worker/logger.js';
import { NightshiftError } from './errors.js';
import { toGitHubApiError } from './github.js';
import type { PrTrackingActivities, SyncPullRequestsInput, SyncPullRequestsResult } from '../workflows/prTracking.js';

export type { PrTrackingActivities, SyncPullRequestsInput, SyncPullRequestsResult };

/** What the activities need. */
export interface PrTrackingDeps {
  config: Pick<Config, 'repos' | 'github' | 'prTracking'>;
  ledger?: Pick<Ledger, 'listRuns' | 'listPullRequests' | 'upsertPullRequest'>;
  octokit: Octokit;
  logger?: Logger;
  /** Clock, Unix ms (tests). */
  now?: () => number;
}

/** Runs looked back to register PRs, ms (30 days). */
const REGISTER_WINDOW_MS = 30 * 86_400_000;

/** `https://github.com/acme/calc/pull/12` → `{ githubRepo: 'acme/calc', number: 12 }`. */
export function parsePullUrl(url: string): { githubRepo: string; number: number } | undefined {
  const m = /^https?:\/\/[^/]+\/([\w.-]+\/[\w.-]+)\/pull\/(\d+)(?:[/?#].*)?$/.exec(url);
  return m ? { githubRepo: m[1]!, number: Number(m[2]) } : undefined;
}

const ms = (iso: string | null | undefined): number | undefined => (iso ? Date.parse(iso) : undefined);

/**
 * Builds the activities. Errors: CONFIG_INVALID (not retryable) without a ledger; GITHUB_FAILED
 * (retryable per status) when GitHub fails; a PR GitHub no longer knows (404) is skipped and logged.
 */
export function createPrTrackingActivities(deps: PrTrackingDeps): PrTrackingActivities {
  const clock = deps.now ?? Date.now;
  const bots = new Set([deps.config.github.botName, ...deps.config.prTracking.botLogins].map((s) => s.toLowerCase()));
  const botEmail = deps.config.github.botEmail.toLowerCase();
  const isBot = (login: string | undefined, email?: string | null): boolean =>
    (login !== undefined && (bots.has(login.toLowerCase()) || bots.has(`${login.toLowerCase()}[bot]`))) || (email ?? '').toLowerCase() === botEmail;
  const repoOf = (githubRepo: string): string | undefined => Object.entries(deps.config.repos).find(([, r]) => r.github.toLowerCase() === githubRepo.toLowerCase())?.[0];

  async function refresh(row: Omit<PullRequestRow, 'openedAt' | 'state' | 'reviewRounds' | 'humanCommits'> & Partial<PullRequestRow>, event: string): Promise<PullRequestRow | undefined> {
    const [owner, repo] = row.githubRepo.split('/') as [string, string];
    const where = `${row.githubRepo}#${row.number}`;
    const octokit = deps.octokit;
    try {
      const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: row.number });
      const reviews = await octokit.paginate(octokit.rest.pulls.listReviews, { owner, repo, pull_number: row.number, per_page: 100 });
      const commits = await octokit.paginate(octokit.rest.pulls.listCommits, { owner, repo, pull_number: row.number, per_page: 100 });
      const rounds = new Set(reviews.filter((r) => r.state !== 'PENDING' && !isBot(r.user?.login)).map((r) => r.commit_id ?? `review-${r.id}`));
      const human = commits.filter((c) => !isBot(c.author?.login ?? undefined, c.commit.author?.email));
      const mergedAt = ms(pull.merged_at);
      const closedAt = ms(pull.closed_at);
      return {
        workflowId: row.workflowId,
        repo: row.repo,
        githubRepo: row.githubRepo,
        number: row.number,
        url: pull.html_url,
        openedAt: ms(pull.created_at) ?? row.openedAt ?? clock(),
        state: mergedAt !== undefined ? 'merged' : pull.state === 'closed' ? 'closed' : 'open',
        ...(mergedAt !== undefined ? { mergedAt } : {}),
        ...(closedAt !== undefined ? { closedAt } : {}),
        reviewRounds: rounds.size,
        humanCommits: human.length,
        lastCheckedAt: clock(),
        lastEvent: event,
      };
    } catch (err) {
      const e = toGitHubApiError(err, `refreshing pull request ${where}`);
      if (e.reason === 'not_found') {
        deps.logger?.warn({ pr: where, workflowId: row.workflowId }, 'a tracked pull request is gone from GitHub; left as it was');
        return undefined;
      }
      throw e;
    }
  }

  return {
    async syncPullRequests(input) {
      const ledger = deps.ledger;
      if (!ledger) throw new NightshiftError('CONFIG_INVALID', 'PR tracking needs the run ledger, and none is open', { retryable: false });
      const event = input.event ?? 'poll';
      const result: SyncPullRequestsResult = { registered: 0, refreshed: 0, settled: 0 };
      // Register the PRs of recent runs not tracked yet.
      const tracked = new Set((await ledger.listPullRequests({ limit: 100_000 })).map((p) => p.workflowId));
      const runs = await ledger.listRuns({ status: 'done', since: clock() - REGISTER_WINDOW_MS, limit: 10_000 });
      const fresh = runs.flatMap((r) => {
        const ref = r.outcome === 'pr_opened' && r.prUrl && !tracked.has(r.workflowId) ? parsePullUrl(r.prUrl) : undefined;
        return ref ? [{ workflowId: r.workflowId, repo: r.repo, url: r.prUrl!, openedAt: r.finishedAt ?? r.updatedAt, ...ref }] : [];
      });
      const open = await ledger.listPullRequests({ state: 'open', ...(input.only ?? {}) });
      const todo = input.only
        ? [...open, ...fresh.filter((f) => f.githubRepo.toLowerCase() === input.only!.githubRepo.toLowerCase() && f.number === input.only!.number)]
        : [...fresh, ...open];
      if (input.only && todo.length === 0) {
        // A webhook for a PR that is not ours, or already settled: nothing to do.
        deps.logger?.debug({ pr: `${input.only.githubRepo}#${input.only.number}`, event }, 'webhook for an untracked or settled pull request');
      }
      for (const item of todo) {
        heartbeat({ at: `${item.githubRepo}#${item.number}` });
        const row = await refresh({ ...item, repo: item.repo || repoOf(item.githubRepo) || '' }, 'state' in item ? event : 'register');
        if (!row) continue;
        await ledger.upsertPullRequest(row);
        if (!('state' in item)) result.registered++;
        result.refreshed++;
        if (row.state !== 'open') result.settled++;
      }
      return result;
    },
  };
}
