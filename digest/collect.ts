/**
 * Reads what a digest needs from the run ledger: the period's runs (created since, or finished
 * since), every run still open, the last validation of each PR, and the current cap periods of the
 * team and its repositories with their spend so far (runs in flight included).
 */
import type { Config } from '../worker/config.js';
import type { Ledger } from '../ledger/types.js';
import { capPeriods, type CapUsage } from '../queue/spendCaps.js';
import { buildDigest, type Digest, type DigestRun } from './build.js';

/** The ledger queries a digest uses. */
export type DigestLedger = Pick<Ledger, 'listRuns' | 'getRun' | 'spendBetween'>;

/** Runs read per query at most. */
const LIMIT = 1000;

/**
 * Builds the digest of `[sinceMs, nowMs]` for `team` (absent: every team) from the ledger.
 * @throws LedgerError when the ledger cannot be read
 */
export async function collectDigest(ledger: DigestLedger, config: Pick<Config, 'repos' | 'linear' | 'spendCaps'>, opts: { team?: string; sinceMs: number; nowMs: number }): Promise<Digest> {
  const filter = opts.team ? { team: opts.team } : {};
  const [recent, open] = await Promise.all([
    ledger.listRuns({ ...filter, since: opts.sinceMs - 7 * 24 * 3_600_000, limit: LIMIT }),
    ledger.listRuns({ ...filter, status: ['queued', 'waiting', 'running', 'awaiting_human'], limit: LIMIT }),
  ]);
  const byId = new Map<string, DigestRun>();
  for (const r of [...recent, ...open]) byId.set(r.workflowId, r);
  const runs = [...byId.values()];
  // Tests of each PR: its last validation.
  await Promise.all(
    runs
      .filter((r) => r.outcome === 'pr_opened')
      .map(async (r) => {
        const detail = await ledger.getRun(r.workflowId);
        const v = detail?.validations.filter((x) => x.attempt > 0).sort((a, b) => a.attempt - b.attempt).at(-1);
        if (v) r.lastValidation = { passed: v.passed, counts: v.counts, failingTests: v.failingTests };
      }),
  );
  // Caps: the team's and those of the repositories its runs touched (or every repository's for a whole digest).
  const repos = new Set(runs.map((r) => r.repo));
  if (!opts.team) for (const name of Object.keys(config.spendCaps.repos)) repos.add(name);
  const periods = [
    ...(opts.team ? capPeriods(config.spendCaps, { repo: '', team: opts.team }, opts.nowMs) : Object.keys(config.spendCaps.teams).flatMap((t) => capPeriods(config.spendCaps, { repo: '', team: t }, opts.nowMs))),
    ...[...repos].flatMap((repo) => capPeriods({ teams: {}, repos: config.spendCaps.repos }, { repo }, opts.nowMs)),
  ];
  const usage: CapUsage[] = await Promise.all(
    periods.map(async (p) => ({ ...p, spentUsd: (await ledger.spendBetween(p.scope === 'team' ? { team: p.key } : { repo: p.key }, p.startMs, p.endMs)).usd })),
  );
  return buildDigest(runs, config.spendCaps, usage, opts.sinceMs, opts.nowMs, { team: opts.team });
}
