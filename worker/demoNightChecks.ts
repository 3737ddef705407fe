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

/** An end a run may reach: its state, for `done` the outcome kind, and the report that says so at its origin. */
interface NightEnd {
  state: string;
  outcome?: string;
  kind: Report['kind'];
}

const PR: NightEnd = { state: 'done', outcome: 'pr_opened', kind: 'pr_opened' };
const DEFERRED: NightEnd = { state: 'deferred', kind: 'deferred' };

/** The ends each expectation allows. */
const ENDS: Record<NightExpectation, NightEnd[]> = {
  pr: [PR],
  escalation: [{ state: 'escalated', kind: 'escalation' }],
  rejected: [{ state: 'done', outcome: 'rejected', kind: 'rejected' }],
  deferred: [DEFERRED],
  pr_or_deferred: [PR, DEFERRED],
};

const endText = (e: NightEnd): string => `${e.state}${e.outcome ? ` (${e.outcome})` : ''}`;

/** Problems found (empty: every run ended as built, with its message at its origin). */
export function checkOrigins(stack: LocalStack, watch: NightWatch): string[] {
  const problems: string[] = [];
  for (const run of watch.allRuns()) {
    const { label, expect } = run.task;
    const seen = watch.stateOf(run.workflowId);
    const allowed = ENDS[expect];
    const end = allowed.find((e) => seen.state === e.state && (!e.outcome || seen.outcome === e.outcome));
    if (!end) {
      problems.push(`${label} (${run.workflowId}) ended ${seen.state ?? 'unseen'}${seen.outcome ? ` (${seen.outcome})` : ''}; built to end ${allowed.map(endText).join(' or ')}`);
    }
    const last = stack.reports.filter((r) => r.workflowId === run.workflowId).at(-1);
    const kinds = end ? [end.kind] : allowed.map((e) => e.kind);
    if (!last || !kinds.includes(last.kind)) {
      problems.push(`${label} (${run.workflowId}): no final message at its origin (last report: ${last?.kind ?? 'none'}; expected ${kinds.join(' or ')})`);
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
