/**
 * The `ledger` key of `nightshift.config.yaml` (zod). Imported by worker/config.ts.
 */
import { z } from 'zod';

/**
 * Where the run ledger lives. `url` absent: embedded SQLite at `<stateDir>/ledger.sqlite` (WAL).
 * `url` (`postgres://user@host:5432/nightshift`): a PostgreSQL database for a team deployment;
 * the password comes from $PGPASSWORD, never from this file (a URL with a password is refused).
 */
export const ledgerConfigSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
      .refine((u) => {
        try {
          return new URL(u).password === '';
        } catch {
          return false;
        }
      }, 'the ledger URL must not hold a password: set $PGPASSWORD')
      .optional(),
  })
  .prefault({});

/** The parsed `ledger` key. */
export type LedgerConfig = z.infer<typeof ledgerConfigSchema>;
