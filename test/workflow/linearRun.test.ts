/**
 * The Linear side of a label run in the workflow (workflows/run/linear.ts): the issue moves to a
 * started state at the start and to review on a PR; a permission error turns moves off for the
 * run (never failing it); an escalation says where the issue stays; a repeated request (the label
 * added again while the run is open) is answered once per delivery with where the run is.
 * Temporal dev server; activity doubles for the run's work (tests/helpers/runWorkers.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities, Report, RunPlan } from '../../workflows/activityTypes.js';
import type { IssueMove, IssueStateTarget } from '../../workflows/linearTypes.js';
import { agentTask, humanReplySignal, statusQuery } from '../../workflows/index.js';
import { duplicateRequestSignal } from '../../workflows/signals.js';
import { ZERO_SPEND, type AttemptRecord, type TaskRequest, type ValidationResult } from '../../workflows/types.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { withRunWorkers } from '../helpers/runWorkers.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
before(async () => {
  env = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await env?.teardown();
});

const plan: RunPlan = {
  repo: 'calculator', url: '/tmp/none', github: 'acme/calculator', defaultBranch: 'main', agent: 'claude-code', model: 'claude-sonnet-4-5',
  image: 'nightshift/claude-code:latest', testCommand: 'python3 -m unittest', budget: { wallClockMs: 600_000, tokens: 100_000, usd: 1 }, maxAttempts: 1,
  risk: 'low', riskReasons: [], riskyPaths: [], testChangesPolicy: 'escalate', slug: 'fix-add-abc123', escalationWaitMs: 3_600_000, agentEgress: [],
};
const req: TaskRequest = {
  source: { kind: 'linear', issueId: 'issue-1', issueIdentifier: 'CALC-1', requesterId: 'user-pm' },
  requester: 'Pat PM', repo: 'calculator', title: 'Fix add()', task: 'Fix add() so test_add passes.',
};
const validation = (passed: boolean): ValidationResult => ({ passed, exitCode: passed ? 0 : 1, outputTail: '', failingTests: passed ? [] : ['test_add'], durationMs: 1, command: 'python3 -m unittest' });
const attempt = (n: number): AttemptRecord => ({
  attempt: n, end: 'agent_exited', agent: 'claude-code', model: 'claude-sonnet-4-5', finalMessage: 'done', exitCode: 0,
  spend: { ...ZERO_SPEND, tokens: 10, usd: 0.01, requests: 1 }, durationMs: 1, diffStat: ' calc.py | 2 +-', filesChanged: ['calc.py'], commands: [], lastEvents: [],
});

/** Run doubles: `passes` decides validation; the agent waits for `release` in attempt 1. */
function doubles(passes: boolean, move: (target: IssueStateTarget) => IssueMove) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const reports: Report[] = [];
  const moves: IssueStateTarget[] = [];
  const acts = {
    scopeTask: async () => ({ ok: true as const, plan }),
    prepareWorkspace: async () => ({ path: '/tmp/ws', gitDir: '/tmp/ws.git', baseSha: 'abc' }),
    prepareEnvironment: async () => ({ image: 'env', key: 'k', source: 'default' as const, cached: true, setup: [], seed: [], prepareMs: 1 }),
    runTests: async (i: { label: string }) => validation(i.label === 'before' ? false : passes),
    runAgent: async (i: { attempt: number }) => {
      await gate;
      return attempt(i.attempt);
    },
    reviewChanges: async () => ({ files: [], totals: { files: 1, lines: 2 }, findings: [], testChanges: [], treeSha: 't' }),
    deliver: async () => ({ prUrl: 'https://github.com/acme/calculator/pull/1', prNumber: 1, branch: 'nightshift/x', commitSha: 'c', created: true }),
    pushWip: async () => ({ branch: 'nightshift/x-wip', commitSha: 'w' }),
    notify: async (r: Report) => void reports.push(r),
    cleanup: async () => undefined,
    moveLinearIssue: async (i: { target: IssueStateTarget }) => {
      moves.push(i.target);
      return move(i.target);
    },
  };
  return { acts: acts as unknown as Partial<Activities>, reports, moves, release: () => release() };
}

async function waitFor(pred: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not reached');
}

describe('a Linear label run: issue states and repeated requests', { timeout: 120_000 }, () => {
  test('a forbidden move turns issue states off for the run; the PR still opens, with no second move', async () => {
    const d = doubles(true, () => ({ moved: false, reason: 'forbidden' }));
    d.release();
    const out = await withRunWorkers({ connection: env.nativeConnection, client: env.client, bundle }, d.acts, (taskQueue) =>
      env.client.workflow.execute(agentTask, { taskQueue, workflowId: `linear-${randomUUID()}`, args: [req] }),
    );
    assert.equal(out.kind, 'pr_opened');
    assert.deepEqual(d.moves, ['started'], 'no move to review once the key was refused');
  });

  test('moved to started, then review on a PR; an escalation says where the issue stays; a repeated request is answered once', async () => {
    const ok = doubles(true, (t) => ({ moved: true, state: t === 'started' ? 'In Progress' : 'In Review' }));
    const prRun = await withRunWorkers({ connection: env.nativeConnection, client: env.client, bundle }, ok.acts, async (taskQueue) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue, workflowId: `linear-${randomUUID()}`, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'running_agent');
      const again = { by: 'Pat PM', via: 'linear-label' as const, id: 'Issue/update/issue-1/2026-11-30T22:00:00.000Z' };
      await h.signal(duplicateRequestSignal, again);
      await h.signal(duplicateRequestSignal, again);
      await waitFor(() => ok.reports.some((r) => r.kind === 'duplicate_request'));
      ok.release();
      return h.result();
    });
    assert.equal(prRun.kind, 'pr_opened');
    assert.deepEqual(ok.moves, ['started', 'review']);
    const answers = ok.reports.filter((r) => r.kind === 'duplicate_request');
    assert.equal(answers.length, 1, 'one answer per delivery');
    assert.match(answers[0]!.markdown, /already has a Nightshift run open \(`linear-[\w-]+`\), now running agent, attempt 1 of 1/);

    const failing = doubles(false, () => ({ moved: true, state: 'In Progress' }));
    failing.release();
    const escalated = await withRunWorkers({ connection: env.nativeConnection, client: env.client, bundle }, failing.acts, async (taskQueue) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue, workflowId: `linear-${randomUUID()}`, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_human');
      await h.signal(humanReplySignal, { text: 'cancel', author: 'Pat PM' });
      return h.result();
    });
    assert.equal(escalated.kind, 'cancelled');
    const escalation = failing.reports.find((r) => r.kind === 'escalation');
    assert.match(escalation?.markdown ?? '', /The issue stays in \*\*In Progress\*\* until this is resolved\./);
    assert.deepEqual(failing.moves, ['started'], 'no review move without a PR');
  });
});
