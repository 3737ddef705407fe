/**
 * The time-skipping test environment works here: Temporal's Java test server from Maven Central
 * (scripts/setup.sh) behind the SDK's TestWorkflowEnvironment.createTimeSkipping. A workflow that
 * sleeps 8 hours completes in seconds of wall time, and its own clock says 8 hours passed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createTimeSkippingEnv, timeSkippingUnavailable } from '../helpers/timeSkipping.js';
import { sleeper } from '../helpers/timeWorkflows.js';

const skip = timeSkippingUnavailable();
let env: TestWorkflowEnvironment | undefined;

before(async () => {
  if (!skip) env = await createTimeSkippingEnv();
});
after(async () => {
  await env?.teardown();
});

test('an 8-hour sleep completes in seconds of wall time', { timeout: 120_000, skip }, async () => {
  const e = env!;
  const worker = await Worker.create({
    connection: e.nativeConnection,
    taskQueue: 'time-skipping',
    workflowsPath: fileURLToPath(new URL('../helpers/timeWorkflows.js', import.meta.url)),
  });
  const eightHours = 8 * 3_600_000;
  const wall0 = Date.now();
  const elapsed = await worker.runUntil(e.client.workflow.execute(sleeper, { taskQueue: 'time-skipping', workflowId: 'sleeper-8h', args: [eightHours] }));
  const wallMs = Date.now() - wall0;
  assert.ok(elapsed >= eightHours, `the workflow's clock advanced 8 h (${elapsed} ms)`);
  assert.ok(wallMs < 30_000, `in seconds of wall time (${wallMs} ms)`);
  assert.ok(e.supportsTimeSkipping);
});
