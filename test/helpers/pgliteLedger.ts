/**
 * A ledger on PGlite (a real PostgreSQL engine in-process, https://pglite.dev/docs/api), to test
 * the PostgreSQL dialect without a server.
 */
import { PGlite } from '@electric-sql/pglite';
import { ledgerOn } from '../../ledger/open.js';
import { pgDriver } from '../../ledger/postgres.js';
import type { Ledger } from '../../ledger/types.js';

/** A fresh in-memory PostgreSQL ledger, migrated. `close()` stops the engine. */
export async function openPgliteLedger(): Promise<Ledger> {
  const db = new PGlite();
  await db.waitReady;
  return ledgerOn(
    pgDriver({
      query: (text, values) => db.query(text, values),
      transaction: (fn) => db.transaction((tx) => fn({ query: (text, values) => tx.query(text, values) })),
      close: () => db.close(),
    }),
  );
}
