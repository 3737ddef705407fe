/**
 * The ledger's schema, as versioned migrations applied in order. The applied version is kept in
 * `schema_version`; each migration runs in one transaction under the dialect's lock, so a worker
 * and a CLI opening the ledger at once apply it once. Add a migration at the end; never edit one
 * that has shipped.
 */
import { LedgerError } from './types.js';
import type { Dialect, SqlDriver } from './sql.js';

/** One schema step: its version and its statements for a dialect. */
export interface Migration {
  version: number;
  description: string;
  statements(d: Dialect): string[];
}

/** Types both engines accept: BIGINT for Unix ms and tokens, DOUBLE PRECISION for USD, TEXT for JSON, INTEGER 0/1 for booleans. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'runs, attempts, trace events (full text), validations',
    statements: (d) => [
      `CREATE TABLE runs (
        workflow_id TEXT PRIMARY KEY,
        origin_kind TEXT NOT NULL,
        origin_link TEXT,
        repo TEXT NOT NULL,
        team TEXT,
        requester TEXT NOT NULL,
        title TEXT NOT NULL,
        priority INTEGER NOT NULL,
        status TEXT NOT NULL,
        phase TEXT,
        outcome TEXT,
        reason TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        started_at BIGINT,
        finished_at BIGINT,
        spend_usd DOUBLE PRECISION NOT NULL,
        spend_tokens BIGINT NOT NULL,
        attempts INTEGER NOT NULL,
        pr_url TEXT,
        wip_branch TEXT,
        agent TEXT,
        model TEXT,
        plan TEXT,
        task_type TEXT
      )`,
      `CREATE INDEX runs_created ON runs (created_at)`,
      `CREATE INDEX runs_repo ON runs (repo, created_at)`,
      `CREATE INDEX runs_team ON runs (team, created_at)`,
      `CREATE INDEX runs_status ON runs (status)`,
      `CREATE TABLE attempts (
        workflow_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        started_at BIGINT NOT NULL,
        ended_at BIGINT,
        end_kind TEXT,
        agent TEXT,
        model TEXT,
        spend_usd DOUBLE PRECISION NOT NULL,
        spend_tokens BIGINT NOT NULL,
        stuck_rule TEXT,
        budget_kind TEXT,
        failure TEXT,
        final_message TEXT,
        diff_stat TEXT,
        files_changed TEXT,
        PRIMARY KEY (workflow_id, attempt)
      )`,
      `CREATE TABLE trace_events (
        id ${d.serialKey},
        workflow_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        ts BIGINT NOT NULL,
        kind TEXT NOT NULL,
        tool TEXT,
        text TEXT NOT NULL,
        is_error INTEGER,
        exit_code INTEGER,
        UNIQUE (workflow_id, attempt, seq)
      )`,
      ...d.fullTextDdl,
      `CREATE TABLE validations (
        workflow_id TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        ts BIGINT NOT NULL,
        passed INTEGER NOT NULL,
        exit_code INTEGER NOT NULL,
        command TEXT NOT NULL,
        duration_ms BIGINT NOT NULL,
        failing_tests TEXT NOT NULL,
        counts TEXT,
        contract_summary TEXT,
        output_tail TEXT NOT NULL,
        PRIMARY KEY (workflow_id, attempt)
      )`,
    ],
  },
  {
    version: 2,
    description: 'spend reservations of runs in flight (reserved_usd, reserved_at)',
    statements: () => [
      `ALTER TABLE runs ADD COLUMN reserved_usd DOUBLE PRECISION`,
      `ALTER TABLE runs ADD COLUMN reserved_at BIGINT`,
    ],
  },
  {
    version: 3,
    description: 'task classification and model routing (task_size, task_risk, model_tier, routing_rule)',
    statements: () => [
      `ALTER TABLE runs ADD COLUMN task_size TEXT`,
      `ALTER TABLE runs ADD COLUMN task_risk TEXT`,
      `ALTER TABLE runs ADD COLUMN model_tier TEXT`,
      `ALTER TABLE runs ADD COLUMN routing_rule TEXT`,
    ],
  },
  {
    version: 4,
    description: 'agent-authored pull requests followed after opening (pull_requests)',
    statements: () => [
      `CREATE TABLE pull_requests (
        workflow_id TEXT PRIMARY KEY,
        repo TEXT NOT NULL,
        github_repo TEXT NOT NULL,
        number INTEGER NOT NULL,
        url TEXT NOT NULL,
        opened_at BIGINT NOT NULL,
        state TEXT NOT NULL,
        merged_at BIGINT,
        closed_at BIGINT,
        review_rounds INTEGER NOT NULL,
        human_commits INTEGER NOT NULL,
        last_checked_at BIGINT,
        last_event TEXT,
        UNIQUE (github_repo, number)
      )`,
      `CREATE INDEX pull_requests_state ON pull_requests (state, last_checked_at)`,
    ],
  },
];

/** The version this code expects. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Brings the database to {@link SCHEMA_VERSION}. Throws `LedgerError` `migration_failed` (its
 * cause the driver's error), or when the database is newer than this code.
 */
export async function migrate(db: SqlDriver): Promise<void> {
  try {
    await db.run('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  } catch (err) {
    throw new LedgerError('migration_failed', 'could not create schema_version', { cause: err });
  }
  const current = await readVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new LedgerError('migration_failed', `ledger schema version ${current} is newer than this Nightshift (${SCHEMA_VERSION})`, {
      details: { current, expected: SCHEMA_VERSION },
    });
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    try {
      await db.transaction(async (tx) => {
        if (db.dialect.migrationLock) await tx.all(db.dialect.migrationLock);
        const [row] = await tx.all('SELECT MAX(version) AS v FROM schema_version');
        if (Number(row?.['v'] ?? 0) >= m.version) return; // another process applied it meanwhile
        for (const s of m.statements(db.dialect)) await tx.run(s);
        await tx.run('INSERT INTO schema_version (version) VALUES (?)', [m.version]);
      });
    } catch (err) {
      throw new LedgerError('migration_failed', `ledger migration ${m.version} (${m.description}) failed`, {
        cause: err,
        details: { version: m.version },
      });
    }
  }
}

async function readVersion(db: SqlDriver): Promise<number> {
  const [row] = await db.all('SELECT MAX(version) AS v FROM schema_version');
  return Number(row?.['v'] ?? 0);
}
