/**
 * The run's search attributes on the real dev server: registered through the operator API (twice:
 * the second call adds nothing), upserted by workflow code, and found by a visibility query the
 * way the Web UI filters (`NsStatus = 'awaiting_human'`).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { msToTs } from '@temporalio/common/lib/time.js';
import { Worker } from '@temporalio/worker';
import { startDevServer } from '../../worker/temporal.js';
import { registerSearchAttributes } from '../../worker/searchAttributes.js';
import { NsAttempt, NsSpendUsd, NsStatus } from '../../workflows/searchAttributes.js';
import { attributed, finishSignal, setAttributesSignal } from '../helpers/attrWorkflows.js';

let env: TestWorkflowEnvironment;
before(async () => {
  env = await startDevServer({});
});
after(async () => {
  await env?.teardown();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('registered, upserted on change, filterable', { timeout: 90_000 }, async () => {
  // The dev server registers them on its namespace at start (worker/temporal.ts): nothing to add there.
  assert.deepEqual(await registerSearchAttributes(env.connection, env.namespace ?? 'default'), [], 'the dev server has them');
  // A namespace without them gets all of them, once.
  const ns = `attrs-${Date.now()}`;
  await env.connection.workflowService.registerNamespace({ namespace: ns, workflowExecutionRetentionPeriod: msToTs('1 day') });
  const added = await until('the new namespace to accept the attributes', () => registerSearchAttributes(env.connection, ns).catch(() => undefined), 30_000);
  assert.deepEqual([...added].sort(), ['NsAttempt', 'NsOutcome', 'NsRepo', 'NsRequester', 'NsSpendUsd', 'NsStatus', 'NsTeam']);
  assert.deepEqual(await registerSearchAttributes(env.connection, ns), [], 'idempotent');

  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'attrs', workflowsPath: fileURLToPath(new URL('../helpers/attrWorkflows.js', import.meta.url)) });
  await worker.runUntil(async () => {
    const h = await env.client.workflow.start(attributed, { taskQueue: 'attrs', workflowId: 'attrs-1', args: [{ status: 'running', repo: 'calculator', team: 'CALC', requester: 'ana', attempt: 1, spendUsd: 0 }] });
    await h.signal(setAttributesSignal, { status: 'awaiting_human', attempt: 2, spendUsd: 0.42 });
    const found = await until(
      'the visibility query to list the run',
      async () => {
        for await (const w of env.client.workflow.list({ query: `NsStatus = 'awaiting_human' AND NsRepo = 'calculator' AND NsAttempt = 2` })) return w;
        return undefined;
      },
      30_000,
    );
    assert.equal(found.workflowId, 'attrs-1');
    assert.equal(found.typedSearchAttributes.get(NsStatus), 'awaiting_human');
    assert.equal(found.typedSearchAttributes.get(NsSpendUsd), 0.42);
    assert.equal(found.typedSearchAttributes.get(NsAttempt), 2);
    await h.signal(finishSignal);
    await h.result();
  });
});
