/**
 * Runs of the fault matrix on a {@link LocalStack}: a labelled Linear issue starts the run (its
 * origin is the issue: messages there are Linear comments), the test injects its fault, and
 * {@link settleRun} waits until the run has ended or waits for a human, then {@link observeStack}
 * makes the row.
 */
import { WEBHOOK_SECRET, type LocalStack } from '../../devstack/stack.js';
import { labeledIssueDelivery } from '../../devstack/linearIssue.js';
import { runResult, runStatus } from '../../worker/runs.js';
import { observeRun, type FaultRow, type Observed } from './matrix.js';

/** A run started by a labelled issue. */
export interface StartedRun {
  workflowId: string;
  issueId: string;
  startedAt: number;
}

/** Sends a labelled-issue delivery to the stack; throws unless the receiver answers 200. */
export async function startLinearRun(stack: LocalStack): Promise<StartedRun> {
  const delivery = labeledIssueDelivery(WEBHOOK_SECRET);
  const startedAt = Date.now();
  const res = await stack.sendLinearDelivery(delivery);
  if (res.status !== 200) throw new Error(`the webhook receiver answered ${res.status}`);
  return { workflowId: `linear-${delivery.issueId}`, issueId: delivery.issueId, startedAt };
}

/** Polls `pred` every 250 ms until it holds; throws after `ms`. */
export async function waitFor(what: string, pred: () => Promise<boolean> | boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/**
 * Waits until the run has ended (its outcome) or waits for a human after an escalation (its
 * status as an `awaiting_human` outcome); throws after `ms`.
 */
export async function settleRun(stack: { client: LocalStack['client'] }, workflowId: string, ms = 240_000): Promise<Observed['outcome']> {
  let settled: Observed['outcome'] | undefined;
  const done = runResult(stack.client, workflowId).then((o) => (settled = o));
  done.catch(() => undefined);
  await waitFor(
    `run ${workflowId} to end or wait for a human`,
    async () => {
      if (settled) return true;
      const s = await runStatus(stack.client, workflowId).catch(() => undefined);
      if (s?.phase === 'awaiting_human') settled = { kind: 'awaiting_human', spend: s.spend, ...(s.wipBranch ? { wipBranch: s.wipBranch } : {}) };
      return settled !== undefined;
    },
    ms,
  );
  return settled!;
}

/** The row of a settled run of `stack` (origin: the Linear issue; PRs on the stack's repository). */
export async function observeStack(
  stack: LocalStack,
  run: StartedRun,
  fault: string,
  phase: string,
  outcome: Observed['outcome'],
  work?: Observed['work'],
): Promise<FaultRow> {
  const pulls = stack.github.pulls(stack.config.repos[Object.keys(stack.config.repos)[0]!]!.github!);
  return observeRun(fault, phase, {
    workflowId: run.workflowId,
    outcome,
    originMessages: stack.linear.comments.filter((c) => c.issueId === run.issueId).map((c) => c.body),
    prComments: pulls.flatMap((p) => p.comments.map((c) => c.body)),
    prs: pulls.length,
    bareRepo: stack.bareRepo,
    stateDir: stack.config.stateDir,
    ...(work ? { work } : {}),
    startedAt: run.startedAt,
  });
}

/** The calculator fix the scripted agent makes (`fixCalculatorScript`). */
export const CALC_FIX = { path: 'calc.py', pattern: /return a \+ b/ };
