/**
 * The `pull_requests` table (migration 4): agent-authored pull requests followed after opening,
 * and the attempts query of the calibration report. Same SQL on SQLite and PostgreSQL.
 */
import type { SqlQuerier, SqlRow, SqlValue } from './sql.js';
import { attemptFromRow, num } from './rows.js';
import type { AttemptOfRun, PullRequestFilter, PullRequestRow, PullRequestState } from './types.js';

const PR_COLUMNS = [
  'workflow_id', 'repo', 'github_repo', 'number', 'url', 'opened_at', 'state', 'merged_at', 'closed_at',
  'review_rounds', 'human_commits', 'last_checked_at', 'last_event',
] as const;

const opt = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

function params(r: PullRequestRow): SqlValue[] {
  return [
    r.workflowId, r.repo, r.githubRepo, r.number, r.url, r.openedAt, r.state, r.mergedAt ?? null, r.closedAt ?? null,
    r.reviewRounds, r.humanCommits, r.lastCheckedAt ?? null, r.lastEvent ?? null,
  ];
}

function fromRow(r: SqlRow): PullRequestRow {
  const row: PullRequestRow = {
    workflowId: String(r['workflow_id']),
    repo: String(r['repo']),
    githubRepo: String(r['github_repo']),
    number: num(r['number']),
    url: String(r['url']),
    openedAt: num(r['opened_at']),
    state: String(r['state']) as PullRequestState,
    reviewRounds: num(r['review_rounds']),
    humanCommits: num(r['human_commits']),
  };
  const mergedAt = opt(r['merged_at']);
  const closedAt = opt(r['closed_at']);
  const checked = opt(r['last_checked_at']);
  if (mergedAt !== undefined) row.mergedAt = mergedAt;
  if (closedAt !== undefined) row.closedAt = closedAt;
  if (checked !== undefined) row.lastCheckedAt = checked;
  if (r['last_event'] !== null && r['last_event'] !== undefined) row.lastEvent = String(r['last_event']);
  return row;
}

/** Inserts or replaces a tracked pull request (keyed by workflow id). */
export async function upsertPullRequest(db: SqlQuerier, row: PullRequestRow): Promise<void> {
  const updates = PR_COLUMNS.slice(1).map((c) => `${c} = excluded.${c}`);
  await db.run(
    `INSERT INTO pull_requests (${PR_COLUMNS.join(', ')}) VALUES (${PR_COLUMNS.map(() => '?').join(', ')})
     ON CONFLICT (workflow_id) DO UPDATE SET ${updates.join(', ')}`,
    params(row),
  );
}

/** Tracked pull requests matching `filter`, least recently checked (never checked first). */
export async function listPullRequests(db: SqlQuerier, filter: PullRequestFilter = {}): Promise<PullRequestRow[]> {
  const where: string[] = [];
  const p: SqlValue[] = [];
  if (filter.state !== undefined) {
    const states = Array.isArray(filter.state) ? filter.state : [filter.state];
    if (states.length === 0) return [];
    where.push(`state IN (${states.map(() => '?').join(', ')})`);
    p.push(...states);
  }
  if (filter.openedSince !== undefined) {
    where.push('opened_at >= ?');
    p.push(filter.openedSince);
  }
  if (filter.githubRepo !== undefined) {
    where.push('LOWER(github_repo) = LOWER(?)');
    p.push(filter.githubRepo);
  }
  if (filter.number !== undefined) {
    where.push('number = ?');
    p.push(filter.number);
  }
  p.push(Math.max(1, Math.floor(filter.limit ?? 500)));
  const rows = await db.all(
    `SELECT * FROM pull_requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY COALESCE(last_checked_at, 0), workflow_id LIMIT ?`,
    p,
  );
  return rows.map(fromRow);
}

/** Attempts of the runs created in [since, until) (Unix ms), by run then attempt. */
export async function listAttempts(db: SqlQuerier, since: number, until: number): Promise<AttemptOfRun[]> {
  const rows = await db.all(
    `SELECT a.*, r.created_at AS run_created_at FROM attempts a JOIN runs r ON r.workflow_id = a.workflow_id
     WHERE r.created_at >= ? AND r.created_at < ? ORDER BY a.workflow_id, a.attempt`,
    [since, until],
  );
  return rows.map((r) => ({ ...attemptFromRow(r), runCreatedAt: num(r['run_created_at']) }));
}
