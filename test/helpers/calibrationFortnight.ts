/**
 * A fortnight of mixed runs for the calibration report's tests, with hand-worked figures (see
 * test/unit/calibrationReport.test.ts). `NOW` is a Monday 09:00 UTC; the period is the 7 days
 * before it, the previous period the 7 days before that.
 *
 * This period (20 settled runs + 1 running):
 * - docs, small tier (claude-haiku): 5 PRs, $0.10…$0.50, 10 min; 4 merged (2 h), 1 open.
 * - docs, large tier (claude-opus): 4 PRs ($1…$4, 30 min: 2 merged (4 h), 1 closed unmerged with
 *   2 human commits, 1 open) and 1 failed run ($5).
 * - bug_fix, small tier (claude-haiku): 2 PRs (1 merged (6 h), 1 open), 2 waiting for a human
 *   (stuck no_progress; budget usd), 1 escalation timed out (stuck no_progress, 60 min); $0.50 each.
 * - bug_fix, large tier (claude-opus): 5 PRs, $2 each, 20 min, 3 merged (8 h; one with 1 human commit).
 * Previous period: 4 docs runs on the large tier, $1 each, 30 min, PRs 2 merged (4 h) and 2 open.
 */
import type { AttemptRow, Ledger, PullRequestRow, RunPatch } from '../../ledger/types.js';

const H = 3_600_000;
const MIN = 60_000;
const D = 86_400_000;
/** Monday 2025-05-19 09:00 UTC. */
export const NOW = Date.UTC(2025, 4, 19, 9, 0, 0);
export const SINCE = NOW - 7 * D;

interface Seed {
  run: RunPatch & { workflowId: string; createdAt: number };
  attempts: AttemptRow[];
  pr?: PullRequestRow;
}

let n = 0;
function seed(o: {
  type: string; tier: 'small' | 'large'; usd: number; minutes?: number; at: number;
  outcome?: 'pr_opened' | 'failed' | 'escalation_timed_out'; waiting?: boolean; running?: boolean;
  stuck?: 'no_progress'; budget?: 'usd'; pr?: 'merged' | 'open' | 'closed'; mergeHours?: number; humanCommits?: number; repo?: string; requester?: string;
}): Seed {
  n++;
  const workflowId = `run-${String(n).padStart(3, '0')}-${o.type}-${o.tier}`;
  const createdAt = o.at;
  const startedAt = createdAt + MIN;
  const done = !o.waiting && !o.running;
  const finishedAt = done && o.minutes !== undefined ? startedAt + o.minutes * MIN : undefined;
  const model = o.tier === 'small' ? 'claude-haiku' : 'claude-opus';
  const run: Seed['run'] = {
    workflowId, originKind: 'cli', repo: o.repo ?? (o.type === 'docs' ? 'webapp' : 'calculator'), requester: o.requester ?? (n % 2 ? 'ana' : 'bo'),
    title: `${o.type} task ${n}`, priority: 3, status: o.running ? 'running' : o.waiting ? 'awaiting_human' : 'done', createdAt, startedAt,
    ...(finishedAt !== undefined ? { finishedAt } : {}), spend: { usd: o.usd, tokens: Math.round(o.usd * 100_000) }, attempts: 1,
    agent: 'claude-code', model, taskType: o.type, modelTier: o.tier, ...(o.outcome ? { outcome: o.outcome } : {}),
    ...(o.outcome === 'pr_opened' ? { prUrl: `https://github.com/acme/x/pull/${n}` } : {}),
  };
  const attempts: AttemptRow[] = [{
    workflowId, attempt: 1, startedAt, endedAt: finishedAt ?? startedAt + 5 * MIN, end: o.stuck ? 'stuck' : o.budget ? 'budget' : 'agent_exited', agent: 'claude-code', model,
    spend: { usd: o.usd, tokens: 1 }, ...(o.stuck ? { stuckRule: o.stuck } : {}), ...(o.budget ? { budgetKind: o.budget } : {}),
  }];
  let pr: PullRequestRow | undefined;
  if (o.pr) {
    const openedAt = (finishedAt ?? startedAt) - MIN;
    pr = {
      workflowId, repo: run.repo!, githubRepo: 'acme/x', number: n, url: `https://github.com/acme/x/pull/${n}`, openedAt, state: o.pr,
      reviewRounds: o.pr === 'open' ? 0 : 1, humanCommits: o.humanCommits ?? 0,
      ...(o.pr === 'merged' ? { mergedAt: openedAt + (o.mergeHours ?? 1) * H, closedAt: openedAt + (o.mergeHours ?? 1) * H } : {}),
      ...(o.pr === 'closed' ? { closedAt: openedAt + 5 * H } : {}),
      lastCheckedAt: NOW, lastEvent: 'poll',
    };
  }
  return { run, attempts, pr };
}

/** The fortnight's runs (and one older run the report ignores). */
export function fortnight(): Seed[] {
  n = 0;
  const at = (daysAgo: number, hour = 1): number => NOW - daysAgo * D + hour * H;
  const out: Seed[] = [];
  [0.1, 0.2, 0.3, 0.4, 0.5].forEach((usd, i) => out.push(seed({ type: 'docs', tier: 'small', usd, minutes: 10, at: at(6 - i), outcome: 'pr_opened', pr: i < 4 ? 'merged' : 'open', mergeHours: 2 })));
  const largeDocs: Array<'merged' | 'closed' | 'open'> = ['merged', 'merged', 'closed', 'open'];
  [1, 2, 3, 4].forEach((usd, i) => out.push(seed({ type: 'docs', tier: 'large', usd, minutes: 30, at: at(5 - i, 3), outcome: 'pr_opened', pr: largeDocs[i], mergeHours: 4, humanCommits: largeDocs[i] === 'closed' ? 2 : 0 })));
  out.push(seed({ type: 'docs', tier: 'large', usd: 5, minutes: 30, at: at(2, 5), outcome: 'failed' }));
  out.push(seed({ type: 'bug_fix', tier: 'small', usd: 0.5, minutes: 10, at: at(6, 6), outcome: 'pr_opened', pr: 'merged', mergeHours: 6 }));
  out.push(seed({ type: 'bug_fix', tier: 'small', usd: 0.5, minutes: 10, at: at(5, 6), outcome: 'pr_opened', pr: 'open' }));
  out.push(seed({ type: 'bug_fix', tier: 'small', usd: 0.5, at: at(4, 6), waiting: true, stuck: 'no_progress' }));
  out.push(seed({ type: 'bug_fix', tier: 'small', usd: 0.5, at: at(3, 6), waiting: true, budget: 'usd' }));
  out.push(seed({ type: 'bug_fix', tier: 'small', usd: 0.5, minutes: 60, at: at(2, 6), outcome: 'escalation_timed_out', stuck: 'no_progress' }));
  for (let i = 0; i < 5; i++) out.push(seed({ type: 'bug_fix', tier: 'large', usd: 2, minutes: 20, at: at(6 - i, 8), outcome: 'pr_opened', pr: i < 3 ? 'merged' : 'open', mergeHours: 8, humanCommits: i === 0 ? 1 : 0 }));
  out.push(seed({ type: 'bug_fix', tier: 'large', usd: 0.7, at: NOW - 2 * H, running: true }));
  for (let i = 0; i < 4; i++) out.push(seed({ type: 'docs', tier: 'large', usd: 1, minutes: 30, at: at(13 - i, 2), outcome: 'pr_opened', pr: i < 2 ? 'merged' : 'open', mergeHours: 4 }));
  out.push(seed({ type: 'docs', tier: 'large', usd: 9, minutes: 30, at: at(30), outcome: 'failed' }));
  return out;
}

/** Writes the fortnight into a ledger. */
export async function seedFortnight(ledger: Ledger): Promise<void> {
  for (const s of fortnight()) {
    await ledger.upsertRun(s.run);
    for (const a of s.attempts) await ledger.recordAttempt(a);
    if (s.pr) await ledger.upsertPullRequest(s.pr);
  }
}
