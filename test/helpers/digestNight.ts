/**
 * A night of mixed outcomes for the morning digest's tests: 2 PRs, 2 escalations (Slack and
 * Linear), a rejection, a failure, one queued and one waiting run; plus a run from days before
 * and another team's run, which a CALC digest leaves out.
 */
import type { DigestRun } from '../../digest/build.js';

const H = 3_600_000;

/** The night's runs; `since` is the start of the night (epoch ms), `now` its end. */
export function night(since: number, now: number): DigestRun[] {
  const run = (id: string, p: Partial<DigestRun>): DigestRun => ({
    workflowId: id, originKind: 'cli', repo: 'calculator', team: 'CALC', requester: 'ada', title: `task ${id}`, priority: 3, status: 'done',
    createdAt: since + H, updatedAt: since + 2 * H, finishedAt: since + 2 * H, spend: { usd: 0.5, tokens: 1000 }, attempts: 1, ...p,
  });
  return [
    run('pr1', { outcome: 'pr_opened', prUrl: 'https://github.com/acme/calculator/pull/1', title: 'Fix add()', lastValidation: { passed: true, counts: { passed: 12, failed: 0, skipped: 1, total: 13 }, failingTests: [] }, spend: { usd: 0.42, tokens: 6400 } }),
    run('pr2', { outcome: 'pr_opened', prUrl: 'https://github.com/acme/web/pull/7', repo: 'web', title: 'Bump lodash', lastValidation: { passed: true, failingTests: [] }, spend: { usd: 1.1, tokens: 20000 } }),
    run('esc1', { status: 'awaiting_human', originKind: 'slack', originLink: 'C0DEMO/1736900000.000100', title: 'Flaky test_div', reason: 'stuck: the same failing command 3 times (pytest -k div)', updatedAt: now - 5 * H, finishedAt: undefined }),
    run('esc2', { status: 'awaiting_human', originKind: 'linear', originLink: 'https://linear.app/acme/issue/CALC-9', title: 'Migrate <config> & env', reason: 'needs approval: risky path migrations/', updatedAt: now - 30 * 60_000, finishedAt: undefined }),
    run('rej', { outcome: 'rejected', title: 'Rewrite everything', reason: 'not bounded: no success criterion the tests can show', spend: { usd: 0, tokens: 0 } }),
    run('fail', { outcome: 'failed', title: 'Fix sub()', reason: 'dollar budget used up after 3 attempts' }),
    run('q1', { status: 'queued', title: 'Docs typo', finishedAt: undefined, spend: { usd: 0, tokens: 0 } }),
    run('w1', { status: 'waiting', phase: 'waiting_for_window', title: 'Refactor parser', reason: 'spend cap: team CALC daily', finishedAt: undefined, spend: { usd: 0, tokens: 0 } }),
    run('old', { outcome: 'pr_opened', prUrl: 'https://github.com/acme/calculator/pull/0', createdAt: since - 100 * H, updatedAt: since - 99 * H, finishedAt: since - 99 * H }),
    run('other', { team: 'WEB', outcome: 'pr_opened', prUrl: 'https://github.com/acme/web/pull/9' }),
  ];
}
