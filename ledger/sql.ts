/**
 * The small SQL layer both ledger engines share: a driver interface (what SQLite and PostgreSQL
 * clients have in common) and the dialect pieces that differ (placeholders, full-text search,
 * the migration lock). Every other statement is written once, in the SQL both engines accept.
 */

/** A bound parameter: the ledger passes only these (booleans as 0/1, absent values as `null`). */
export type SqlValue = string | number | null;

/** A row as the driver returns it (column name → value; PostgreSQL may give BIGINT/NUMERIC as strings). */
export type SqlRow = Record<string, unknown>;

/** What runs statements: the whole connection, or one transaction. SQL uses `?` placeholders. */
export interface SqlQuerier {
  /** Rows of a query. */
  all(sql: string, params?: SqlValue[]): Promise<SqlRow[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: SqlValue[]): Promise<number>;
}

/** A connection to one engine. */
export interface SqlDriver extends SqlQuerier {
  readonly dialect: Dialect;
  /** Runs `fn` in one transaction (`immediate`: take the write lock at once, for migrations). Rolls back when `fn` throws. */
  transaction<T>(fn: (q: SqlQuerier) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** What differs between SQLite and PostgreSQL. */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Integer primary key that numbers rows itself. */
  readonly serialKey: string;
  /** Statements (run in the migration's transaction) that make `trace_events.text` searchable. */
  readonly fullTextDdl: string[];
  /** Statement taking the migration lock inside a transaction, or `undefined` when the transaction itself locks. */
  readonly migrationLock?: string;
  /**
   * A query with two parameters (the query text as `ftsQuery` made it, then the limit) returning
   * `workflow_id, attempt, seq, ts, kind, tool, repo, snippet`, best match first.
   */
  readonly searchSql: string;
  /** The user's search text as the engine's query parameter. */
  ftsQuery(text: string): string;
}

/** `?` placeholders as PostgreSQL's `$1, $2…` (no `?` appears in the ledger's SQL otherwise). */
export function toDollarParams(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const SEARCH_COLUMNS = 'e.workflow_id, e.attempt, e.seq, e.ts, e.kind, e.tool, r.repo';

/** SQLite: an FTS5 table over `trace_events.text` kept by a trigger (https://sqlite.org/fts5.html). */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  serialKey: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  fullTextDdl: [
    `CREATE VIRTUAL TABLE trace_fts USING fts5(text, content='trace_events', content_rowid='id')`,
    `CREATE TRIGGER trace_events_fts AFTER INSERT ON trace_events BEGIN
       INSERT INTO trace_fts(rowid, text) VALUES (new.id, new.text);
     END`,
  ],
  searchSql: `SELECT ${SEARCH_COLUMNS}, snippet(trace_fts, 0, '[', ']', '…', 16) AS snippet
    FROM trace_fts JOIN trace_events e ON e.id = trace_fts.rowid
    LEFT JOIN runs r ON r.workflow_id = e.workflow_id
    WHERE trace_fts MATCH ? ORDER BY bm25(trace_fts), e.ts DESC LIMIT ?`,
  ftsQuery: sqliteFtsQuery,
};

/**
 * PostgreSQL: a generated `tsvector` column (the `simple` configuration: no stemming, so error
 * codes and identifiers match as written), a GIN index, and `websearch_to_tsquery`
 * (https://www.postgresql.org/docs/current/textsearch-controls.html).
 */
export const postgresDialect: Dialect = {
  name: 'postgres',
  serialKey: 'BIGSERIAL PRIMARY KEY',
  fullTextDdl: [
    `ALTER TABLE trace_events ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED`,
    `CREATE INDEX trace_events_tsv ON trace_events USING GIN (tsv)`,
  ],
  migrationLock: 'SELECT pg_advisory_xact_lock(7410010)',
  searchSql: `SELECT ${SEARCH_COLUMNS},
      ts_headline('simple', e.text, q, 'StartSel=[, StopSel=], MaxWords=24, MinWords=8, MaxFragments=1') AS snippet
    FROM trace_events e CROSS JOIN websearch_to_tsquery('simple', ?) q
    LEFT JOIN runs r ON r.workflow_id = e.workflow_id
    WHERE e.tsv @@ q ORDER BY ts_rank(e.tsv, q) DESC, e.ts DESC LIMIT ?`,
  ftsQuery: (text) => text,
};

/**
 * The user's text as an FTS5 query with `websearch_to_tsquery`'s everyday meaning: `"quoted
 * phrases"` and bare words, all required. Each becomes an FTS5 string, so punctuation
 * (`ENOENT:`, `a/b.py`, `-x`) is text, never query syntax.
 */
export function sqliteFtsQuery(text: string): string {
  const parts: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const part = (m[1] ?? m[2] ?? '').trim();
    if (part) parts.push(`"${part.replace(/"/g, '""')}"`);
  }
  return parts.join(' ');
}
