/**
 * Reads what the calibration report needs from the run ledger: the runs created in the period
 * and the one before it, their attempts (stuck rules, budgets) and their tracked pull requests.
 */
import type { Ledger } from '../ledger/types.js';
import { buildCalibration, type Calibration, type CalibrationOptions, type CalibrationRun } from './build.js';

/** The ledger queries the report uses. */
export type CalibrationLedger = Pick<Ledger, 'listRuns' | 'listAttempts' | 'listPullRequests'>;

/** Runs read at most (two periods). */
const LIMIT = 100_000;

/**
 * Builds the report of [sinceMs, nowMs) from the ledger.
 * @throws LedgerError when the ledger cannot be read
 */
export async function collectCalibration(ledger: CalibrationLedger, opts: CalibrationOptions & { sinceMs: number; nowMs: number }): Promise<Calibration> {
  const from = opts.sinceMs - (opts.nowMs - opts.sinceMs);
  const [runs, attempts, prs] = await Promise.all([
    ledger.listRuns({ since: from, until: opts.nowMs, limit: LIMIT }),
    ledger.listAttempts(from, opts.nowMs),
    ledger.listPullRequests({ openedSince: from, limit: LIMIT }),
  ]);
  const byRun = new Map<string, CalibrationRun>(runs.map((run) => [run.workflowId, { run, attempts: [] }]));
  for (const a of attempts) byRun.get(a.workflowId)?.attempts.push(a);
  for (const p of prs) {
    const c = byRun.get(p.workflowId);
    if (c) c.pr = p;
  }
  return buildCalibration([...byRun.values()], opts.sinceMs, opts.nowMs, opts);
}
