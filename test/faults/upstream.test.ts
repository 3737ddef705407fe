/**
 * Fault matrix, model upstream: while the real agent CLI works (after its first model turn was
 * answered), the scripted model answers its next request with a 503, a 429 with `retry-after`,
 * an SSE stream cut mid-message, or no answer at all. Each row: the run still ends with one
 * message at the origin, one PR, no container, the fix on the PR branch, the spend in the ledger.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Fault } from '../../devstack/faults.js';
import { fixCalculatorScript, isAgentTurn } from '../../devstack/scripts.js';
import { LocalStack, type LocalStackOptions } from '../../devstack/stack.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { assertRow, renderTable, type FaultRow } from './matrix.js';
import { CALC_FIX, observeStack, settleRun, startLinearRun, waitFor } from './stackRun.js';

/** Every row (`npm run test:faults`); else the rows of `npm test` only (see the cases' `slow`). */
const full = process.env.NIGHTSHIFT_FAULTS_FULL === '1';
let temporal: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
const rows: FaultRow[] = [];

before(async () => {
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  if (rows.length > 0) process.stdout.write(`\n# Fault matrix: model upstream\n${renderTable(rows).replace(/^/gm, '# ')}\n`);
  await temporal?.teardown();
});

/**
 * `slow`: only in `npm run test:faults` (the default suite keeps a representative row of each
 * kind of fault within its time budget). `outcome`: what the run may end in (default `pr_opened`,
 * with the fix on the PR branch). A hang silences the agent: the stuck rule `silence` stops the
 * attempt and escalates (no retry of a stuck attempt); seen too: the run goes on to a PR (the
 * attempt stopped after the fix was made validates), so either holds, with the fix on the PR
 * branch when there is one.
 */
const cases: Array<{ fault: string; inject: Fault; stack?: Partial<LocalStackOptions>; outcome?: string[]; slow?: true }> = [
  { fault: 'model 503', inject: { kind: 'status', status: 503 } },
  { fault: 'model 429 retry-after 2 s', inject: { kind: 'status', status: 429, retryAfterSec: 2 }, slow: true },
  { fault: 'model stream cut mid-message', inject: { kind: 'cut', afterBytes: 400 } },
  // A request that is never answered: the agent goes silent; the stuck rule `silence` stops the attempt.
  { fault: 'model hang', inject: { kind: 'hang' }, stack: { stuck: { silenceSeconds: 20 } }, outcome: ['awaiting_human', 'pr_opened'], slow: true },
];

describe('fault matrix: model upstream', { timeout: 1_200_000 }, () => {
  for (const c of cases) {
    test(`${c.fault} during the agent: one message, ${c.outcome ? 'escalated or one PR' : 'one PR'}, no container, work and spend kept`, { timeout: 360_000, skip: c.slow && !full && 'npm run test:faults' }, async () => {
      const stack = await LocalStack.start({ script: fixCalculatorScript(), temporal, workflowBundle: bundle, ...(c.stack ?? {}) });
      try {
        const model = stack.model!;
        const run = await startLinearRun(stack);
        // The agent's first turn (tools advertised) was answered: fault the next one.
        const agentTurns = () => model.requests.filter((r) => r.usage && r.step && !('text' in r.step && r.step.text === 'OK')).length;
        await waitFor('the agent to take its first turn', () => agentTurns() >= 1, 180_000);
        // Aimed at the agent's next turn (a request offering its tools), not a side request the CLI does not wait on.
        model.faults.inject(/^POST \/v1\/(messages|responses)$/, c.inject, 1, undefined, isAgentTurn);
        const outcome = await settleRun(stack, run.workflowId);
        assert.equal(model.faults.injected.length, 1, 'the fault struck once');
        const opened = outcome.kind === 'pr_opened';
        const row = await observeStack(stack, run, c.fault, 'agent', outcome, opened ? CALC_FIX : undefined);
        assertRow(row, { outcome: c.outcome ?? 'pr_opened', prs: opened ? 1 : 0 }, rows);
        if (opened) assert.match(row.workKept, /^PR branch /, 'a PR carries the fix');
      } finally {
        await stack.stop();
      }
    });
  }
});
