/**
 * The `Ledger` over a `SqlDriver`: one set of queries for SQLite and PostgreSQL (see `sql.ts` for
 * the few dialect pieces).
 */
import {
  LedgerError,
  type AttemptOfRun,
  type AttemptRow,
  type Ledger,
  type PullRequestFilter,
  type PullRequestRow,
  type RunDetail,
  type RunFilter,
  type RunPatch,
  type RunRow,
  type SearchHit,
  type SpendReservation,
  type SpendScope,
  type SpendTotal,
  type TraceEventKind,
  type TraceEventRow,
  type ValidationRow,
} from './types.js';
import type { SqlDriver, SqlValue } from './sql.js';
import {
  ATTEMPT_COLUMNS,
  EVENT_COLUMNS,
  VALIDATION_COLUMNS,
  attemptFromRow,
  attemptParams,
  eventFromRow,
  eventParams,
  num,
  runFromRow,
  runPatchColumns,
  validationFromRow,
  validationParams,
} from './rows.js';
import { committedBetween, reserveSpend, SPEND_PERIOD, spendTotalOf } from './reserve.js';
import { listAttempts, listPullRequests, upsertPullRequest } from './pullRequests.js';

/** Rows per multi-row INSERT of trace events (9 parameters each: well under both engines' limits). */
const EVENT_CHUNK = 500;

const placeholders = (n: number): string => `(${Array.from({ length: n }, () => '?').join(', ')})`;

/** Column defaults of a run's first write (see `RunPatch`). */
function runDefaults(now: number): Record<string, SqlValue> {
  return {
    origin_kind: 'cli', repo: '', requester: '', title: '', priority: 3, status: 'queued',
    created_at: now, updated_at: now, spend_usd: 0, spend_tokens: 0, attempts: 0,
  };
}

const SPEND_SELECT = `COALESCE(SUM(spend_usd), 0) AS usd, COALESCE(SUM(spend_tokens), 0) AS tokens, COUNT(*) AS runs,
  COALESCE(SUM(CASE WHEN status <> 'done' THEN 1 ELSE 0 END), 0) AS in_flight`;
const spendFromRow = spendTotalOf;

/** A `Ledger` on an open, migrated driver. */
export class SqlLedger implements Ledger {
  private closed = false;
  constructor(private readonly db: SqlDriver) {}

  get engine(): 'sqlite' | 'postgres' {
    return this.db.dialect.name;
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new LedgerError('closed', `ledger ${what} after close`);
    try {
      return await fn();
    } catch (err) {
      if (err instanceof LedgerError) throw err;
      throw new LedgerError('query_failed', `ledger ${what} failed`, { cause: err, details: { engine: this.engine } });
    }
  }

  upsertRun(patch: RunPatch): Promise<void> {
    if (!patch.workflowId) throw new LedgerError('bad_input', 'upsertRun needs a workflowId');
    return this.guard('upsertRun', async () => {
      const now = Date.now();
      const given = runPatchColumns(patch);
      const values: Record<string, SqlValue> = { ...runDefaults(now), updated_at: now };
      for (const [c, v] of given) values[c] = v;
      const sets = given.filter(([c]) => c !== 'updated_at').map(([c]) => `${c} = excluded.${c}`);
      sets.push('updated_at = excluded.updated_at');
      // Entering `running` / `done` stamps its time once, unless the caller gave it.
      if (patch.status === 'running' && patch.startedAt === undefined) {
        values['started_at'] = now;
        sets.push('started_at = COALESCE(runs.started_at, excluded.started_at)');
      }
      if (patch.status === 'done' && patch.finishedAt === undefined) {
        values['finished_at'] = now;
        sets.push('finished_at = COALESCE(runs.finished_at, excluded.finished_at)');
      }
      const cols = Object.keys(values);
      await this.db.run(
        `INSERT INTO runs (workflow_id, ${cols.join(', ')}) VALUES ${placeholders(cols.length + 1)}
         ON CONFLICT (workflow_id) DO UPDATE SET ${sets.join(', ')}`,
        [patch.workflowId, ...cols.map((c) => values[c] ?? null)],
      );
    });
  }

  recordAttempt(row: AttemptRow): Promise<void> {
    if (!row.workflowId || !(row.attempt >= 1)) throw new LedgerError('bad_input', 'recordAttempt needs a workflowId and an attempt ≥ 1');
    return this.guard('recordAttempt', () =>
      this.db.transaction(async (tx) => {
        const updates = ATTEMPT_COLUMNS.slice(2).map((c) => `${c} = excluded.${c}`);
        await tx.run(
          `INSERT INTO attempts (${ATTEMPT_COLUMNS.join(', ')}) VALUES ${placeholders(ATTEMPT_COLUMNS.length)}
           ON CONFLICT (workflow_id, attempt) DO UPDATE SET ${updates.join(', ')}`,
          attemptParams(row),
        );
        const now = Date.now();
        const values = { ...runDefaults(now), attempts: row.attempt };
        const cols = Object.keys(values) as Array<keyof typeof values>;
        await tx.run(
          `INSERT INTO runs (workflow_id, ${cols.join(', ')}) VALUES ${placeholders(cols.length + 1)}
           ON CONFLICT (workflow_id) DO UPDATE SET updated_at = excluded.updated_at,
             attempts = CASE WHEN runs.attempts < excluded.attempts THEN excluded.attempts ELSE runs.attempts END`,
          [row.workflowId, ...cols.map((c) => values[c])],
        );
      }),
    );
  }

  appendEvents(events: TraceEventRow[]): Promise<number> {
    for (const e of events) {
      if (!e.workflowId || !Number.isInteger(e.attempt) || !Number.isInteger(e.seq) || e.seq < 0) {
        throw new LedgerError('bad_input', 'a trace event needs a workflowId, an integer attempt and a seq ≥ 0', {
          details: { workflowId: e.workflowId, attempt: e.attempt, seq: e.seq },
        });
      }
    }
    if (events.length === 0) return Promise.resolve(0);
    return this.guard('appendEvents', () =>
      this.db.transaction(async (tx) => {
        let added = 0;
        for (let i = 0; i < events.length; i += EVENT_CHUNK) {
          const chunk = events.slice(i, i + EVENT_CHUNK);
          added += await tx.run(
            `INSERT INTO trace_events (${EVENT_COLUMNS.join(', ')}) VALUES
             ${chunk.map(() => placeholders(EVENT_COLUMNS.length)).join(', ')}
             ON CONFLICT (workflow_id, attempt, seq) DO NOTHING`,
            chunk.flatMap(eventParams),
          );
        }
        return added;
      }),
    );
  }

  recordValidation(row: ValidationRow): Promise<void> {
    return this.guard('recordValidation', async () => {
      const updates = VALIDATION_COLUMNS.slice(2).map((c) => `${c} = excluded.${c}`);
      await this.db.run(
        `INSERT INTO validations (${VALIDATION_COLUMNS.join(', ')}) VALUES ${placeholders(VALIDATION_COLUMNS.length)}
         ON CONFLICT (workflow_id, attempt) DO UPDATE SET ${updates.join(', ')}`,
        validationParams(row),
      );
    });
  }

  listRuns(filter: RunFilter = {}): Promise<RunRow[]> {
    return this.guard('listRuns', async () => {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (filter.repo !== undefined) {
        where.push('repo = ?');
        params.push(filter.repo);
      }
      if (filter.team !== undefined) {
        where.push('team = ?');
        params.push(filter.team);
      }
      if (filter.status !== undefined) {
        const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
        if (statuses.length === 0) return [];
        where.push(`status IN (${statuses.map(() => '?').join(', ')})`);
        params.push(...statuses);
      }
      if (filter.since !== undefined) {
        where.push('created_at >= ?');
        params.push(filter.since);
      }
      if (filter.until !== undefined) {
        where.push('created_at < ?');
        params.push(filter.until);
      }
      params.push(Math.max(1, Math.floor(filter.limit ?? 100)));
      const rows = await this.db.all(
        `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, workflow_id LIMIT ?`,
        params,
      );
      return rows.map(runFromRow);
    });
  }

  getRun(workflowId: string): Promise<RunDetail | undefined> {
    return this.guard('getRun', async () => {
      const [run] = await this.db.all('SELECT * FROM runs WHERE workflow_id = ?', [workflowId]);
      if (!run) return undefined;
      const attempts = await this.db.all('SELECT * FROM attempts WHERE workflow_id = ? ORDER BY attempt', [workflowId]);
      const events = await this.db.all(
        `SELECT ${EVENT_COLUMNS.join(', ')} FROM trace_events WHERE workflow_id = ? ORDER BY attempt, seq`,
        [workflowId],
      );
      const validations = await this.db.all('SELECT * FROM validations WHERE workflow_id = ? ORDER BY attempt', [workflowId]);
      return {
        run: runFromRow(run),
        attempts: attempts.map(attemptFromRow),
        events: events.map(eventFromRow),
        validations: validations.map(validationFromRow),
      };
    });
  }

  search(text: string, limit = 20): Promise<SearchHit[]> {
    return this.guard('search', async () => {
      const query = this.db.dialect.ftsQuery(text);
      if (!query.trim()) return [];
      const rows = await this.db.all(this.db.dialect.searchSql, [query, Math.max(1, Math.floor(limit))]);
      return rows.map((r) => {
        const hit: SearchHit = {
          workflowId: String(r['workflow_id']),
          attempt: num(r['attempt']),
          seq: num(r['seq']),
          ts: num(r['ts']),
          kind: String(r['kind']) as TraceEventKind,
          repo: String(r['repo'] ?? ''),
          snippet: String(r['snippet'] ?? ''),
        };
        if (r['tool'] !== null && r['tool'] !== undefined) hit.tool = String(r['tool']);
        return hit;
      });
    });
  }

  spendBetween(scope: SpendScope, from: number, to: number): Promise<SpendTotal> {
    return this.guard('spendBetween', async () => {
      const where = [SPEND_PERIOD];
      const params: SqlValue[] = [from, to];
      if (scope.team !== undefined) {
        where.push('team = ?');
        params.push(scope.team);
      }
      if (scope.repo !== undefined) {
        where.push('repo = ?');
        params.push(scope.repo);
      }
      const [row] = await this.db.all(`SELECT ${SPEND_SELECT} FROM runs WHERE ${where.join(' AND ')}`, params);
      return spendFromRow(row);
    });
  }

  committedBetween(scope: SpendScope, from: number, to: number, self?: string): Promise<SpendTotal> {
    return this.guard('committedBetween', () => committedBetween(this.db, scope, from, to, self));
  }

  reserveSpend<T>(r: SpendReservation<T>): Promise<T> {
    return this.guard('reserveSpend', () => reserveSpend(this.db, r));
  }

  releaseReservation(workflowId: string, spentUsd: number): Promise<void> {
    return this.guard('releaseReservation', () =>
      this.db.run('UPDATE runs SET reserved_usd = NULL, spend_usd = CASE WHEN spend_usd < ? THEN ? ELSE spend_usd END WHERE workflow_id = ?', [spentUsd, spentUsd, workflowId]).then(() => undefined),
    );
  }

  spendByGroup(by: 'team' | 'repo', from: number, to: number): Promise<Array<SpendTotal & { key: string }>> {
    return this.guard('spendByGroup', async () => {
      const key = by === 'team' ? "COALESCE(team, '')" : 'repo';
      const rows = await this.db.all(
        `SELECT ${key} AS k, ${SPEND_SELECT} FROM runs WHERE ${SPEND_PERIOD} GROUP BY ${key} ORDER BY ${key}`,
        [from, to],
      );
      return rows.map((r) => ({ key: String(r['k'] ?? ''), ...spendFromRow(r) }));
    });
  }

  upsertPullRequest(row: PullRequestRow): Promise<void> {
    if (!row.workflowId || !row.githubRepo || !(row.number >= 1)) throw new LedgerError('bad_input', 'upsertPullRequest needs a workflowId, a githubRepo and a number ≥ 1');
    return this.guard('upsertPullRequest', () => upsertPullRequest(this.db, row));
  }

  listPullRequests(filter?: PullRequestFilter): Promise<PullRequestRow[]> {
    return this.guard('listPullRequests', () => listPullRequests(this.db, filter));
  }

  listAttempts(since: number, until: number): Promise<AttemptOfRun[]> {
    return this.guard('listAttempts', () => listAttempts(this.db, since, until));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }
}
