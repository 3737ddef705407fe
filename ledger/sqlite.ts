/**
 * The embedded engine: SQLite through better-sqlite3 (https://github.com/WiseLibs/better-sqlite3/blob/master/docs/api.md),
 * in WAL mode so that the CLI reads while the worker writes.
 */
import Database from 'better-sqlite3';
import { LedgerError } from './types.js';
import { sqliteDialect, type SqlDriver, type SqlQuerier, type SqlRow, type SqlValue } from './sql.js';

/**
 * Opens (creating) the SQLite database at `path` (`:memory:` for a private one) in WAL mode, with
 * a 5 s busy timeout for a writer in another process. Throws `LedgerError` `open_failed`.
 *
 * better-sqlite3 is synchronous; statements are serialised through one queue so that an `await`
 * inside a transaction never lets another caller's statement into it.
 */
export function openSqliteDriver(path: string): SqlDriver {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    throw new LedgerError('open_failed', `could not open the ledger database at ${path}`, { cause: err, details: { path } });
  }
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T> | T): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
  const direct: SqlQuerier = {
    all: async (sql, params = []) => db.prepare(sql).all(...params) as SqlRow[],
    run: async (sql, params = []) => db.prepare(sql).run(...params).changes,
  };
  return {
    dialect: sqliteDialect,
    all: (sql: string, params?: SqlValue[]) => serial(() => direct.all(sql, params)),
    run: (sql: string, params?: SqlValue[]) => serial(() => direct.run(sql, params)),
    transaction: <T>(fn: (q: SqlQuerier) => Promise<T>) =>
      serial(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const out = await fn(direct);
          db.exec('COMMIT');
          return out;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      }),
    close: () =>
      serial(() => {
        if (db.open) db.close();
      }),
  };
}
