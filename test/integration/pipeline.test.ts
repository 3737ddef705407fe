/**
 * The whole path, with real components: a signed Linear webhook → the real Temporal dev server →
 * the worker → a real Docker sandbox running the real Claude Code CLI → the real gateway → the
 * scripted model → Nightshift's own test run in a fresh container → branch pushed to a real git
 * remote → PR on the GitHub stand-in → comment on the Linear stand-in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { run } from '../../activities/exec.js';
import { RUN_LABEL } from '../../activities/sandbox.js';
import { runResult } from '../../worker/runs.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { fixCalculatorScript } from '../../devstack/scripts.js';
import { LocalStack, STACK_PRICES, WEBHOOK_SECRET } from '../../devstack/stack.js';
import { labeledIssueDelivery } from '../../devstack/linearIssue.js';

let temporal: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await temporal?.teardown();
});

/** USD of a usage at the stack's price for `model` (USD per million tokens). */
function priced(model: keyof typeof STACK_PRICES, u: { input: number; output: number; cacheRead: number; cacheWrite: number }): number {
  const p: { input: number; output: number; cacheRead?: number; cacheWrite?: number } = STACK_PRICES[model];
  return (u.input * p.input + u.output * p.output + u.cacheRead * (p.cacheRead ?? p.input) + u.cacheWrite * (p.cacheWrite ?? p.input)) / 1e6;
}

const agents = [
  { agent: 'claude-code', model: 'claude-sonnet-4-5' },
  { agent: 'codex', model: 'gpt-5.5' },
] as const;

describe('pipeline: Linear label → PR', { timeout: 600_000 }, () => {
  for (const { agent, model } of agents) {
    test(`${agent}: a labeled issue becomes a validated PR and a comment, with spend metered and no container left`, async () => {
      const stack = await LocalStack.start({ script: fixCalculatorScript(), temporal, workflowBundle: bundle, agent });
      try {
        const delivery = labeledIssueDelivery(WEBHOOK_SECRET);
        const res = await stack.sendLinearDelivery(delivery);
        assert.equal(res.status, 200);
        const workflowId = `linear-${delivery.issueId}`;

        const outcome = await runResult(stack.client, workflowId);
        assert.equal(outcome.kind, 'pr_opened', `outcome: ${JSON.stringify({ kind: outcome.kind, reason: outcome.reason })}`);

        // Tests before: failing; after: passing, run by Nightshift in a container.
        assert.equal(outcome.testsBefore?.passed, false);
        assert.ok(outcome.testsBefore?.failingTests.some((t) => t.includes('test_add')), JSON.stringify(outcome.testsBefore?.failingTests));
        const last = outcome.attempts.at(-1)!;
        assert.equal(last.validation?.passed, true);
        assert.match(last.validation?.outputTail ?? '', /Ran 4 tests/);
        assert.deepEqual(last.filesChanged, ['calc.py']);

        // The PR exists once, on the Nightshift branch, with the fix and the trailer.
        const pulls = stack.github.pulls('acme/calculator');
        assert.equal(pulls.length, 1);
        const pr = pulls[0]!;
        assert.match(outcome.prUrl ?? '', new RegExp(`/acme/calculator/pull/${pr.number}$`));
        assert.match(pr.head, /^nightshift\/calc-7-add-returns-the-wrong-result-/);
        assert.equal(pr.base, 'main');
        assert.match(pr.body ?? '', /Tests/i);
        const fixed = await stack.fileOnBranch(pr.head, 'calc.py');
        assert.match(fixed, /return a \+ b/);
        const message = (await run('git', ['-C', stack.bareRepo, 'log', '-1', '--format=%B%n%an <%ae>', pr.head])).stdout;
        assert.match(message, new RegExp(`Nightshift-Run: ${workflowId}`));
        assert.match(message, /nightshift\[bot\]/);
        assert.match(await stack.fileOnBranch('main', 'calc.py'), /return a - b/, 'the default branch is untouched');

        // Spend: exactly the scripted usage, priced by the table.
        const reported = stack.model!.requests.filter((r) => r.usage);
        assert.ok(reported.length >= 5, `model turns: ${reported.length}`);
        assert.equal(last.agent, agent);
        const expected = reported.reduce((s, r) => s + priced(model, r.usage!), 0);
        assert.ok(reported.every((r) => r.model === model), 'the configured model was used');
        const tokens = reported.reduce((s, r) => s + r.usage!.input + r.usage!.output + r.usage!.cacheRead + r.usage!.cacheWrite, 0);
        assert.ok(Math.abs(outcome.spend.usd - expected) < 1e-9, `spend ${outcome.spend.usd} vs scripted ${expected}`);
        assert.equal(outcome.spend.tokens, tokens);

        // The origin heard about it: a Linear comment with the PR link.
        const comments = stack.linear.comments.filter((c) => c.issueId === delivery.issueId);
        assert.equal(comments.length, 1);
        assert.ok(comments[0]!.body.includes(outcome.prUrl!));

        // No container left behind.
        const left = await new Docker().listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${workflowId}`] } });
        assert.deepEqual(left, []);

        // A redelivery of the same issue starts nothing.
        const again = labeledIssueDelivery(WEBHOOK_SECRET, { id: delivery.issueId });
        const res2 = await stack.sendLinearDelivery(again);
        assert.equal(res2.status, 200);
        assert.equal(stack.github.pulls('acme/calculator').length, 1);
      } finally {
        await stack.stop();
      }
    });
  }
});
