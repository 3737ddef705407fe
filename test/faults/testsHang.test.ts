/**
 * Fault matrix, a test run that hangs (the repository's test command never ends): the test run
 * before any change is stopped at its 15-minute limit, recognised as an environment problem (no
 * test ever started), and the run ends with one message at the origin, no PR, no container, and
 * its spend (none: no model turn) in the ledger. Slow (about 16 minutes): only with
 * NIGHTSHIFT_FAULTS_FULL=1 (`npm run test:faults`, which runs this file beside the others).
 */
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { fixCalculatorScript } from '../../devstack/scripts.js';
import { LocalStack } from '../../devstack/stack.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { assertRow, renderTable, type FaultRow } from './matrix.js';
import { observeStack, settleRun, startLinearRun } from './stackRun.js';

const full = process.env.NIGHTSHIFT_FAULTS_FULL === '1';
let temporal: TestWorkflowEnvironment | undefined;
let bundle: WorkflowBundleWithSourceMap;
const rows: FaultRow[] = [];

before(async () => {
  if (!full) return;
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  if (rows.length > 0) process.stdout.write(`\n# Fault matrix: a test run that hangs\n${renderTable(rows).replace(/^/gm, '# ')}\n`);
  await temporal?.teardown();
});

describe('fault matrix: a test run that hangs', { timeout: 1_800_000 }, () => {
  test('the tests before hang: the run ends at the 15-minute limit with one message, no PR, no container', { timeout: 1_500_000, skip: !full && 'slow (16 min): npm run test:faults' }, async () => {
    const stack = await LocalStack.start({ script: fixCalculatorScript(), temporal, workflowBundle: bundle, testCommand: 'sleep 3600' });
    try {
      const started = await startLinearRun(stack);
      const settled = await settleRun(stack, started.workflowId, 1_200_000);
      assertRow(await observeStack(stack, started, 'tests hang (sleep 3600)', 'tests before', settled), { outcome: 'environment_failed', prs: 0 }, rows);
    } finally {
      await stack.stop();
    }
  });
});
