/**
 * What the diff gate and the test contract say, in the run's messages: the gate section of a PR
 * body and of the success report, the approval request posted at the origin, and the note on
 * partial work the gate kept back. Pure and deterministic (bundled into workflow code).
 */
import type { ChangeReview } from './activityTypes.js';
import { bounded, head, join, type Dialect, type SummaryFormat } from './summary.js';

/** The gate's verdict on a delivered change. */
export interface GateSummary {
  review: ChangeReview;
  /** Who approved the gate's findings, when there were any. */
  approvedBy?: string;
  /** Set when the PR is a draft because the test definitions changed. */
  draft?: boolean;
}

const MAX_LISTED = 15;

/** The gate's findings, one bullet each. */
function findingLines(d: Dialect, review: ChangeReview): string[] {
  const lines = review.findings.slice(0, MAX_LISTED).map((f) =>
    f.kind === 'risky_path' ? d.bullet(`${d.code(f.path)}: ${d.text(f.rule)}`) : d.bullet(`size: ${d.text(f.rule)}`),
  );
  if (review.findings.length > MAX_LISTED) lines.push(d.bullet(`… and ${review.findings.length - MAX_LISTED} more`));
  return lines;
}

/** The test-definition changes, one bullet each. */
function testChangeLines(d: Dialect, review: ChangeReview): string[] {
  const lines = review.testChanges.slice(0, MAX_LISTED).map((c) => d.bullet(d.text(head(c.description, 300))));
  if (review.testChanges.length > MAX_LISTED) lines.push(d.bullet(`… and ${review.testChanges.length - MAX_LISTED} more`));
  return lines;
}

/** One line: files and lines changed. */
function sizeLine(d: Dialect, review: ChangeReview): string {
  return `${d.bold('Change:')} ${review.totals.files} file${review.totals.files === 1 ? '' : 's'}, ${review.totals.lines} line${review.totals.lines === 1 ? '' : 's'}`;
}

/** The gate section of a PR body / success report. */
export function renderGateSection(d: Dialect, gate: GateSummary): string {
  const { review } = gate;
  return join([
    d.heading('Diff gate'),
    sizeLine(d, review),
    review.findings.length === 0
      ? `${d.bold('Gate:')} passed (no risky path, within the size policy)`
      : `${d.bold('Gate:')} ${review.findings.length} finding${review.findings.length === 1 ? '' : 's'}, approved by ${d.text(gate.approvedBy ?? 'nobody')}`,
    ...findingLines(d, review),
    review.testChanges.length > 0 && '',
    review.testChanges.length > 0 && `${d.bold('The tests were changed')}${gate.draft ? ' (this is why the pull request is a draft; a human must read these before merging)' : ''}:`,
    ...testChangeLines(d, review),
  ]);
}

/** Input of {@link renderApprovalRequest}. */
export interface ApprovalRequestInput {
  title: string;
  workflowId: string;
  review: ChangeReview;
  /** What is waiting to be pushed: the pull request, or partial work. */
  what: 'pull request' | 'partial work';
  /** How long the run waits for an answer, ms. */
  waitMs: number;
}

/** The approval request posted at the origin: what the gate found, and how to answer. */
export function renderApprovalRequest(input: ApprovalRequestInput, format: SummaryFormat): string {
  return bounded(format, (d) =>
    join([
      d.heading(`Approval needed before I push: ${d.text(head(input.title, 200))}`),
      `The change is ready (the tests pass), but the diff gate stops the ${input.what} until a human approves it.`,
      '',
      sizeLine(d, input.review),
      ...findingLines(d, input.review),
      input.review.testChanges.length > 0 && '',
      input.review.testChanges.length > 0 && d.bold('The tests were changed:'),
      ...testChangeLines(d, input.review),
      '',
      d.heading('What you can do'),
      d.bullet(`Approve: ${d.code(`nightshift approve ${input.workflowId}`)}; I push and open the ${input.what}.`),
      d.bullet(`Reject: ${d.code(`nightshift reject ${input.workflowId} "why"`)}; nothing is pushed and the run asks for guidance.`),
      d.bullet(`No answer within ${Math.round(input.waitMs / 3_600_000)} h: the run ends and nothing is pushed.`),
    ]),
  );
}

/** Why partial work was not pushed (the gate's findings), for the escalation and cancel reports. */
export function heldBackReason(review: ChangeReview): string {
  const items = [...review.findings.map((f) => (f.kind === 'risky_path' ? f.path : f.rule)), ...review.testChanges.map((c) => c.path)];
  const why = review.findings.length > 0 ? 'the diff gate needs an approval' : 'it changes what "passing" means';
  return `partial work not pushed: ${why} (${items.slice(0, 5).join(', ')}${items.length > 5 ? ', …' : ''}); it is kept on the worker`;
}
