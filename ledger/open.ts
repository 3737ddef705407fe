/**
 * Opening the ledger the configuration names, migrated to the current schema.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerConfig } from './config.js';
import { pgDriver, pgPoolConnection } from './postgres.js';
import { migrate } from './schema.js';
import type { SqlDriver } from './sql.js';
import { SqlLedger } from './sqlLedger.js';
import { openSqliteDriver } from './sqlite.js';
import type { Ledger } from './types.js';

/** File name of the embedded ledger inside `stateDir`. */
export const LEDGER_FILE = 'ledger.sqlite';

/**
 * The ledger of a configuration: PostgreSQL when `ledger.url` is set, else SQLite at
 * `<stateDir>/ledger.sqlite` (created with its directory). Applies pending migrations. Throws
 * `LedgerError` (`open_failed`, `migration_failed`); the driver is closed on failure.
 */
export async function openLedger(config: { stateDir: string; ledger?: LedgerConfig }): Promise<Ledger> {
  const url = config.ledger?.url;
  if (url) return ledgerOn(pgDriver(pgPoolConnection(url)));
  mkdirSync(config.stateDir, { recursive: true });
  return ledgerOn(openSqliteDriver(join(config.stateDir, LEDGER_FILE)));
}

/** A migrated `Ledger` on an open driver (tests pass PGlite's). Closes the driver when migration fails. */
export async function ledgerOn(driver: SqlDriver): Promise<Ledger> {
  try {
    await migrate(driver);
  } catch (err) {
    await driver.close().catch(() => undefined);
    throw err;
  }
  return new SqlLedger(driver);
}
