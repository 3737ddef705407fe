/**
 * The team engine: PostgreSQL through node-postgres (https://node-postgres.com/apis/pool). The
 * same driver runs on any client with `query(text, values)` (PGlite in the tests).
 */
import pg from 'pg';
import { LedgerError } from './types.js';
import { postgresDialect, toDollarParams, type SqlDriver, type SqlQuerier, type SqlRow, type SqlValue } from './sql.js';

/** What the driver needs of a PostgreSQL client: node-postgres' `Pool`/`PoolClient`, PGlite and its transactions all fit. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount?: number | null; affectedRows?: number }>;
}

/** A PostgreSQL connection as the driver sees it: queries, a transaction runner, and close. */
export interface PgConnection extends PgQueryable {
  transaction<T>(fn: (tx: PgQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function querier(c: PgQueryable): SqlQuerier {
  return {
    all: async (sql: string, params: SqlValue[] = []) => (await c.query(toDollarParams(sql), params)).rows as SqlRow[],
    run: async (sql: string, params: SqlValue[] = []) => {
      const r = await c.query(toDollarParams(sql), params);
      return r.rowCount ?? r.affectedRows ?? 0;
    },
  };
}

/** The ledger driver over a PostgreSQL connection. */
export function pgDriver(conn: PgConnection): SqlDriver {
  const q = querier(conn);
  return {
    dialect: postgresDialect,
    all: q.all,
    run: q.run,
    transaction: (fn) => conn.transaction((tx) => fn(querier(tx))),
    close: () => conn.close(),
  };
}

/**
 * A node-postgres pool on `url` (`postgres://user@host:5432/db`). The password comes from
 * $PGPASSWORD (node-postgres reads it), never from the configuration. Connections are made
 * lazily: a bad URL or an unreachable server shows at the first query (as `LedgerError`).
 */
export function pgPoolConnection(url: string, max = 4): PgConnection {
  let pool: pg.Pool;
  try {
    pool = new pg.Pool({ connectionString: url, max });
  } catch (err) {
    throw new LedgerError('open_failed', 'could not configure the PostgreSQL ledger (ledger.url)', { cause: err });
  }
  // An idle client's error (server restart) must not crash the worker; the next query reconnects.
  pool.on('error', () => undefined);
  return {
    query: (text, values) => pool.query(text, values),
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
