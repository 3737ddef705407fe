/**
 * Fault matrix, delivery and notify: GitHub answers 5xx on the push and on the PR creation, the
 * PR creation's answer is lost (its retry meets GitHub's 422 "already exists"), GitHub's
 * secondary rate limit (403 + retry-after); Linear answers the final comment with a 5xx, a 429,
 * or loses its answer after the comment was made. Each row: one message at the origin, one PR,
 * no container, the fix on the PR branch, the spend in the ledger.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { fixCalculatorScript } from '../../devstack/scripts.js';
import { LocalStack } from '../../devstack/stack.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { assertRow, renderTable, type FaultRow } from './matrix.js';
import { CALC_FIX, observeStack, settleRun, startLinearRun } from './stackRun.js';

const full = process.env.NIGHTSHIFT_FAULTS_FULL === '1';
let temporal: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
const rows: FaultRow[] = [];

before(async () => {
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  if (rows.length > 0) process.stdout.write(`\n# Fault matrix: delivery and notify\n${renderTable(rows).replace(/^/gm, '# ')}\n`);
  await temporal?.teardown();
});

/**
 * Makes the bare remote refuse the next `n` pushes of a `nightshift/` branch, as a Git host in
 * trouble does (the client sees the push fail; nothing is written): a `pre-receive` hook that
 * counts down in a file beside it.
 */
async function failPushes(bareRepo: string, n: number): Promise<void> {
  const counter = join(bareRepo, 'hooks', 'fail-pushes');
  await writeFile(counter, String(n));
  const hook = join(bareRepo, 'hooks', 'pre-receive');
  await writeFile(
    hook,
    `#!/bin/sh
left=$(cat '${counter}')
if [ "$left" -gt 0 ]; then
  echo $((left - 1)) > '${counter}'
  echo "error: RPC failed; HTTP 500 curl 22 The requested URL returned error: 500" >&2
  exit 1
fi
exit 0
`,
  );
  await chmod(hook, 0o755);
}

/** `slow`: only in `npm run test:faults`; `npm test` keeps one row of each kind within its time budget. */
const cases: Array<{ fault: string; phase: string; arm: (stack: LocalStack) => Promise<void> | void; slow?: true }> = [
  { fault: 'GitHub 5xx on push (x2)', phase: 'delivery', arm: (s) => failPushes(s.bareRepo, 2) },
  { fault: 'GitHub 502 on PR creation (x2)', phase: 'delivery', arm: (s) => s.github.faults.inject('POST pulls', { kind: 'status', status: 502 }, 2), slow: true },
  // The PR is created but its answer never arrives: the retry meets 422 "A pull request already exists".
  { fault: 'GitHub 422 PR exists (answer lost)', phase: 'delivery', arm: (s) => s.github.faults.inject('POST pulls', { kind: 'cut', afterBytes: 0 }) },
  {
    fault: 'GitHub secondary rate limit (403 retry-after 2)',
    phase: 'delivery',
    arm: (s) => s.github.faults.inject('POST pulls', { kind: 'status', status: 403, retryAfterSec: 2 }),
    slow: true,
  },
  { fault: 'Linear 500 on the final comment (x2)', phase: 'notify', arm: (s) => s.linear.faults.inject('commentCreate', { kind: 'status', status: 500 }, 2), slow: true },
  { fault: 'Linear 429 retry-after 2 on the final comment', phase: 'notify', arm: (s) => s.linear.faults.inject('commentCreate', { kind: 'status', status: 429, retryAfterSec: 2 }) },
  // The comment is made but its answer never arrives: the retry must not post it twice.
  { fault: 'Linear comment answer lost', phase: 'notify', arm: (s) => s.linear.faults.inject('commentCreate', { kind: 'cut', afterBytes: 0 }) },
];

describe('fault matrix: delivery and notify', { timeout: 2_400_000 }, () => {
  for (const c of cases) {
    test(`${c.fault}: one message, one PR, no container, work and spend kept`, { timeout: 360_000, skip: c.slow && !full && 'npm run test:faults' }, async () => {
      const stack = await LocalStack.start({ script: fixCalculatorScript(), temporal, workflowBundle: bundle });
      try {
        await c.arm(stack);
        const run = await startLinearRun(stack);
        const outcome = await settleRun(stack, run.workflowId);
        // The fault did strike (a push refused, or a stand-in answered with it).
        const struck = (await readFile(join(stack.bareRepo, 'hooks', 'fail-pushes'), 'utf8').catch(() => '')) === '0\n' || stack.github.faults.injected.length + stack.linear.faults.injected.length > 0;
        assert.ok(struck, `${c.fault}: the fault never struck`);
        const row = await observeStack(stack, run, c.fault, c.phase, outcome, CALC_FIX);
        assertRow(row, { outcome: 'pr_opened', prs: 1 }, rows);
      } finally {
        await stack.stop();
      }
    });
  }
});
