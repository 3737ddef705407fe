/**
 * Spend reservations (issue 10, spend caps): a run admitted to a sandbox slot reserves what it may
 * still spend (its spend so far + its tranche's dollar budget), so that runs waking together at a
 * window's opening do not all see the same spend and overspend a cap together.
 *
 * Committed spend of a run = its spend, or, while it holds a reservation and is in flight (any
 * ledger status but `awaiting_human` and `done`: a status written late must not hide a fresh
 * reservation), max(spend, reservation). A run that no longer fits drops its reservation. A run counts in the period of its first attempt's start, else of its
 * reservation, else of its request (`COALESCE(started_at, reserved_at, created_at)`).
 *
 * The check and the write happen in one transaction under a lock (SQLite: `BEGIN IMMEDIATE`, the
 * database's write lock; PostgreSQL: a transaction-scoped advisory lock,
 * https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS), so two
 * runs reserving at once see each other. SQL shared by both engines.
 */
import type { SqlDriver, SqlQuerier, SqlRow, SqlValue } from './sql.js';
import type { SpendReservation, SpendScope, SpendTotal } from './types.js';

/** The advisory lock key of reservations (PostgreSQL). */
const RESERVATION_LOCK = 'SELECT pg_advisory_xact_lock(7410011)';

/** The instant a run's spend counts at (see the module doc). */
export const SPEND_AT = 'COALESCE(started_at, reserved_at, created_at)';

/** Rows of a spend period: two parameters, from (inclusive) and to (exclusive), Unix ms. */
export const SPEND_PERIOD = `${SPEND_AT} >= ? AND ${SPEND_AT} < ?`;

/** Committed spend (one parameter first: the workflow id counted at its spend only, '' for none). */
const COMMITTED_SELECT = `COALESCE(SUM(CASE
    WHEN workflow_id <> ? AND status NOT IN ('done', 'awaiting_human') AND reserved_usd IS NOT NULL AND reserved_usd > spend_usd
    THEN reserved_usd ELSE spend_usd END), 0) AS usd,
  COALESCE(SUM(spend_tokens), 0) AS tokens, COUNT(*) AS runs,
  COALESCE(SUM(CASE WHEN status <> 'done' THEN 1 ELSE 0 END), 0) AS in_flight`;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** A `SpendTotal` from a row of {@link COMMITTED_SELECT} (or the plain spend select). */
export function spendTotalOf(r: SqlRow | undefined): SpendTotal {
  return { usd: num(r?.['usd']), tokens: num(r?.['tokens']), runs: num(r?.['runs']), inFlight: num(r?.['in_flight']) };
}

/** Committed spend of the runs in `scope` counted in [from, to); `self` counts at its spend only. */
export async function committedBetween(q: SqlQuerier, scope: SpendScope, from: number, to: number, self = ''): Promise<SpendTotal> {
  const where = [SPEND_PERIOD];
  const params: SqlValue[] = [self, from, to];
  if (scope.team !== undefined) {
    where.push('team = ?');
    params.push(scope.team);
  }
  if (scope.repo !== undefined) {
    where.push('repo = ?');
    params.push(scope.repo);
  }
  const [row] = await q.all(`SELECT ${COMMITTED_SELECT} FROM runs WHERE ${where.join(' AND ')}`, params);
  return spendTotalOf(row);
}

/**
 * Checks and reserves in one locked transaction: reads the committed spend of each period (the
 * run itself at its spend), asks `r.decide`, and when it answers a ceiling writes it as the run's
 * reservation (creating the run's row when the recorder has not written it yet). Returns what
 * `decide` returned.
 */
export async function reserveSpend<T>(db: SqlDriver, r: SpendReservation<T>): Promise<T> {
  return db.transaction(async (tx) => {
    if (db.dialect.name === 'postgres') await tx.all(RESERVATION_LOCK);
    const committed: number[] = [];
    for (const p of r.periods) committed.push((await committedBetween(tx, p.scope, p.from, p.to, r.workflowId)).usd);
    const verdict = r.decide(committed);
    if (verdict.reserveUsd === null) {
      await tx.run('UPDATE runs SET reserved_usd = NULL WHERE workflow_id = ?', [r.workflowId]);
    } else if (verdict.reserveUsd !== undefined) {
      await tx.run(
        `INSERT INTO runs (workflow_id, origin_kind, repo, team, requester, title, priority, status, created_at, updated_at,
           spend_usd, spend_tokens, attempts, reserved_usd, reserved_at)
         VALUES (?, 'cli', ?, ?, '', '', 3, 'queued', ?, ?, 0, 0, 0, ?, ?)
         ON CONFLICT (workflow_id) DO UPDATE SET reserved_usd = excluded.reserved_usd, reserved_at = excluded.reserved_at`,
        [r.workflowId, r.repo, r.team ?? null, r.at, r.at, verdict.reserveUsd, r.at],
      );
    }
    return verdict.value;
  });
}
