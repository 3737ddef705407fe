/**
 * The morning digest's data: what the night did (PRs, escalations waiting, rejections and
 * failures, what is still queued), spend by team and repository against the caps, and totals.
 * Pure: the `postDigest` activity and `nightshift digest` read the ledger and call
 * {@link buildDigest}; `markdown.ts` and `blocks.ts` render its result.
 */
import type { RunRow, ValidationRow } from '../ledger/types.js';
import type { CapUsage, SpendCapsConfig } from '../queue/spendCaps.js';

/** A ledger run with its last validation (for "tests" of a PR). */
export type DigestRun = RunRow & { lastValidation?: Pick<ValidationRow, 'passed' | 'counts' | 'failingTests'> };

/** A pull request opened in the period. */
export interface DigestPr {
  workflowId: string;
  title: string;
  repo: string;
  prUrl: string;
  /** `12 passed` / `passed` / `unknown`. */
  tests: string;
  usd: number;
}

/** A run waiting for a human. */
export interface DigestEscalation {
  workflowId: string;
  title: string;
  repo: string;
  /** How long it has waited (since its last write), ms. */
  ageMs: number;
  /** One line. */
  reason: string;
  /** Where to answer: the Slack thread permalink or the Linear issue URL; absent for CLI runs. */
  url?: string;
}

/** A run that ended without a PR (rejected, failed, environment failed, timed out, cancelled, handed over). */
export interface DigestEnded {
  workflowId: string;
  title: string;
  repo: string;
  outcome: string;
  reason: string;
}

/** A run not started or not finished: queued, waiting for its window or a cap, running. */
export interface DigestOpen {
  workflowId: string;
  title: string;
  repo: string;
  status: string;
  reason?: string;
}

/** Spend of one team or repository: in the digest's period, and against its caps. */
export interface DigestSpendLine {
  scope: 'team' | 'repo';
  key: string;
  /** Spent by the period's runs, USD. */
  usd: number;
  /** Its caps' current periods (today, this month), with spend so far. */
  caps: CapUsage[];
}

/** The digest of one period (a night), for one team or for all. */
export interface Digest {
  team?: string;
  /** Epoch ms. */
  sinceMs: number;
  nowMs: number;
  prs: DigestPr[];
  escalations: DigestEscalation[];
  ended: DigestEnded[];
  open: DigestOpen[];
  spend: DigestSpendLine[];
  totals: { runs: number; prs: number; escalations: number; ended: number; open: number; usd: number; tokens: number };
}

/** Options of {@link buildDigest}. */
export interface DigestOptions {
  /** Only this team's runs (and its caps); absent: every run. */
  team?: string;
  /** Base of Slack permalinks (default `https://slack.com/archives/`). */
  slackArchivesUrl?: string;
}

/** `C123/1700000000.000100` → a permalink (https://docs.slack.dev/reference/methods/chat.getPermalink shows the form). */
export function originUrl(run: Pick<RunRow, 'originKind' | 'originLink'>, slackArchivesUrl = 'https://slack.com/archives/'): string | undefined {
  const link = run.originLink;
  if (!link) return undefined;
  if (/^https?:\/\//.test(link)) return link;
  if (run.originKind === 'slack') {
    const [channel, ts] = link.split('/');
    if (channel && ts && /^\d+\.\d+$/.test(ts)) return `${slackArchivesUrl}${channel}/p${ts.replace('.', '')}`;
  }
  return undefined;
}

function tests(r: DigestRun): string {
  const v = r.lastValidation;
  if (!v) return 'unknown';
  if (v.counts) return `${v.counts.passed} passed${v.counts.failed ? `, ${v.counts.failed} failed` : ''}${v.counts.skipped ? `, ${v.counts.skipped} skipped` : ''}`;
  return v.passed ? 'passed' : `failing: ${v.failingTests.join(', ') || 'yes'}`;
}

/**
 * Builds the digest of runs created or finished in `[sinceMs, nowMs]`, plus every run still open
 * or waiting for a human (whenever created). `runs` may hold more (they are filtered);
 * `capUsage` holds the team's and repositories' cap periods with spend so far (ledger).
 */
export function buildDigest(runs: DigestRun[], caps: SpendCapsConfig, capUsage: CapUsage[], sinceMs: number, nowMs: number, opts: DigestOptions = {}): Digest {
  const inTeam = runs.filter((r) => !opts.team || r.team === opts.team);
  const touched = (r: DigestRun): boolean => (r.finishedAt ?? r.updatedAt) >= sinceMs || r.createdAt >= sinceMs;
  const night = inTeam.filter((r) => r.status !== 'done' || (touched(r) && (r.finishedAt ?? r.updatedAt) <= nowMs));
  const d: Digest = { team: opts.team, sinceMs, nowMs, prs: [], escalations: [], ended: [], open: [], spend: [], totals: { runs: 0, prs: 0, escalations: 0, ended: 0, open: 0, usd: 0, tokens: 0 } };
  const byOldest = [...night].sort((a, b) => a.createdAt - b.createdAt);
  for (const r of byOldest) {
    const base = { workflowId: r.workflowId, title: r.title, repo: r.repo };
    if (r.status === 'done' && r.outcome === 'pr_opened' && r.prUrl) d.prs.push({ ...base, prUrl: r.prUrl, tests: tests(r), usd: r.spend.usd });
    else if (r.status === 'done') d.ended.push({ ...base, outcome: r.outcome ?? 'done', reason: r.reason ?? '' });
    else if (r.status === 'awaiting_human') d.escalations.push({ ...base, ageMs: Math.max(0, nowMs - r.updatedAt), reason: r.reason ?? 'waiting for a reply', url: originUrl(r, opts.slackArchivesUrl) });
    else d.open.push({ ...base, status: r.phase ?? r.status, reason: r.reason });
  }
  // Spend of the period: runs touched in it (open ones at their latest known spend).
  const spent = night.filter(touched);
  const lines = new Map<string, DigestSpendLine>();
  const line = (scope: 'team' | 'repo', key: string): DigestSpendLine => {
    const id = `${scope}:${key}`;
    let l = lines.get(id);
    if (!l) lines.set(id, (l = { scope, key, usd: 0, caps: capUsage.filter((c) => c.scope === scope && c.key === key) }));
    return l;
  };
  if (opts.team && caps.teams[opts.team]) line('team', opts.team);
  for (const r of spent) {
    if (r.team) line('team', r.team).usd += r.spend.usd;
    line('repo', r.repo).usd += r.spend.usd;
  }
  for (const c of capUsage) if (!opts.team || c.scope === 'repo' || c.key === opts.team) line(c.scope, c.key);
  d.spend = [...lines.values()].sort((a, b) => (a.scope === b.scope ? a.key.localeCompare(b.key) : a.scope === 'team' ? -1 : 1));
  d.totals = {
    runs: night.length,
    prs: d.prs.length,
    escalations: d.escalations.length,
    ended: d.ended.length,
    open: d.open.length,
    usd: spent.reduce((s, r) => s + r.spend.usd, 0),
    tokens: spent.reduce((s, r) => s + r.spend.tokens, 0),
  };
  return d;
}
