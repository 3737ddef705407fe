/**
 * End-of-night checks of `demo --night` (worker/demoNight.ts): each run ended as built, and its
 * last report reached its origin (Linear: a comment with the report's id or body on the issue;
 * Slack: a message in the run's thread carrying the report's id as message metadata; CLI: the
 * report, which the CLI reads through the `status` query).
 */
import type { NightExpectation } from '../devstack/nightTasks.js';
import type { LocalStack } from '../devstack/stack.js';
import type { Report } from '../workflows/activityTypes.js';
import type { NightWatch } from './demoNightWatch.js';

/** The report kind that ends each expectation's night at its origin. */
const FINAL_KIND: Record<NightExpectation, Report['kind']> = { pr: 'pr_opened', escalation: 'escalation', rejected: 'rejected', deferred: 'deferred' };

/** Where each expectation leaves the run: its state, and for `done` the outcome kind. */
const FINAL_STATE: Record<NightExpectation, { state: string; outcome?: string }> = {
  pr: { state: 'done', outcome: 'pr_opened' },
  escalation: { state: 'escalated' },
  rejected: { state: 'done', outcome: 'rejected' },
  deferred: { state: 'deferred' },
};

/** Problems found (empty: every run ended as built, with its message at its origin). */
export function checkOrigins(stack: LocalStack, watch: NightWatch): string[] {
  const problems: string[] = [];
  for (const run of watch.allRuns()) {
    const { label, expect } = run.task;
    const seen = watch.stateOf(run.workflowId);
    const want = FINAL_STATE[expect];
    if (seen.state !== want.state || (want.outcome && seen.outcome !== want.outcome)) {
      problems.push(`${label} (${run.workflowId}) ended ${seen.state ?? 'unseen'}${seen.outcome ? ` (${seen.outcome})` : ''}; built to end ${want.state}${want.outcome ? ` (${want.outcome})` : ''}`);
    }
    const last = stack.reports.filter((r) => r.workflowId === run.workflowId).at(-1);
    if (!last || last.kind !== FINAL_KIND[expect]) {
      problems.push(`${label} (${run.workflowId}): no final message at its origin (last report: ${last?.kind ?? 'none'}; expected ${FINAL_KIND[expect]})`);
      continue;
    }
    if (run.issueId && !stack.linear.comments.some((c) => c.issueId === run.issueId && (c.id === last.reportId || c.body === last.markdown))) {
      problems.push(`${label}: the ${last.kind} report is not a comment on the Linear issue`);
    }
    if (run.slack) {
      const { channel, rootTs } = run.slack;
      const inThread = stack.slack?.messages.filter((m) => m.channel === channel && m.thread_ts === rootTs) ?? [];
      if (!inThread.some((m) => (last.reportId ? m.metadata?.event_payload.report_id === last.reportId : m.text === last.mrkdwn))) {
        problems.push(`${label}: the ${last.kind} report is not in the run's Slack thread`);
      }
    }
  }
  return problems;
}

/** Buttons anywhere in Block Kit blocks (section accessories, actions elements). */
export function countButtons(blocks: unknown): number {
  if (Array.isArray(blocks)) return blocks.reduce((n: number, b) => n + countButtons(b), 0);
  if (!blocks || typeof blocks !== 'object') return 0;
  const o = blocks as Record<string, unknown>;
  return (o.type === 'button' ? 1 : 0) + Object.values(o).reduce((n: number, v) => n + (typeof v === 'object' ? countButtons(v) : 0), 0);
}
