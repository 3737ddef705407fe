/**
 * The Linear ingress against the real Temporal dev server (the real port, temporalLinearRuns):
 * signed deliveries (devstack/linear.ts `signedWebhook`) to the real handler, whose runs are a
 * stand-in `agentTask` (test/helpers/linearIngressWorkflow.ts) that records the signals it gets.
 * - a `prompted` that arrives before `created` started the run starts it (signalWithStart) and is
 *   its first signal; `created` then starts nothing; `stop` cancels it;
 * - the label: run 1; added again while open → `duplicateRequest`; after it ended → `-2`;
 *   a thread reply reaches `-2`;
 * - every delivery is answered within Linear's 5 s.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { createHttpServer, listen } from '../../bots/http.js';
import { createLinearWebhookHandler, temporalLinearRuns } from '../../bots/linear/webhook.js';
import { linearEventStamp, signedWebhook } from '../../devstack/linear.js';
import { devstackFixture } from '../../devstack/paths.js';
import { startDevServer } from '../../worker/temporal.js';
import { finishSignal, logQuery, type StandInResult } from '../helpers/linearIngressWorkflow.js';
import { fixturePath } from '../helpers/paths.js';

const SECRET = 'lin_wh_integration_secret';
type Json = Record<string, unknown>;
const read = (p: string): Json => JSON.parse(readFileSync(p, 'utf8')) as Json;
const created = read(fixturePath('linear', 'agent-session-event-created.linear-beads-2026.json'));
const comment = read(fixturePath('linear', 'comment-create.linear-sdk-test.json'));
const issueUpdate = read(devstackFixture('linear', 'issue-update-label-added.constructed.json'));
const ISSUE = '539068e2-ae88-4d09-bd75-22eb4a59612f';

let temporal: TestWorkflowEnvironment | undefined;
let worker: Worker | undefined;
let running: Promise<void> | undefined;
let server: Server | undefined;
let url = '';
const taskQueue = `linear-ingress-${randomUUID()}`;

before(async () => {
  temporal = await startDevServer({});
  worker = await Worker.create({
    connection: temporal.nativeConnection,
    taskQueue,
    workflowsPath: new URL('../helpers/linearIngressWorkflow.js', import.meta.url).pathname,
  });
  running = worker.run();
  const logger = pino({ level: 'silent' });
  const handler = createLinearWebhookHandler({
    webhookSecret: SECRET,
    triggerLabel: 'nightshift',
    resolveRepo: () => 'repo',
    runs: temporalLinearRuns(temporal.client, taskQueue),
    logger,
  });
  server = createHttpServer({ 'POST /webhooks/linear': handler }, { logger });
  url = await listen(server, 0, '127.0.0.1');
});

after(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  worker?.shutdown();
  await running?.catch(() => undefined);
  await temporal?.teardown();
});

/** Sends a signed delivery; asserts Linear's 5 s deadline. */
async function send(payload: Json): Promise<number> {
  const { headers, body } = signedWebhook({ ...linearEventStamp(), ...payload }, SECRET);
  const t0 = Date.now();
  const res = await fetch(`${url}/webhooks/linear`, { method: 'POST', headers, body });
  assert.ok(Date.now() - t0 < 5000, `answered in ${Date.now() - t0} ms`);
  return res.status;
}

async function log(workflowId: string): Promise<string[]> {
  return temporal!.client.workflow.getHandle(workflowId).query(logQuery);
}

describe('Linear ingress on the Temporal dev server', { timeout: 120_000 }, () => {
  test('a prompted before created starts the session run by signalWithStart; created starts nothing; stop cancels', async () => {
    const session = randomUUID();
    const agentSession = { ...(created.agentSession as Json), id: session };
    const id = `linear-session-${session}`;
    const prompted = {
      ...created,
      action: 'prompted',
      agentSession,
      agentActivity: { id: randomUUID(), agentSessionId: session, content: { type: 'prompt', body: 'use the v2 API' }, user: { id: 'u1', name: 'Test User' } },
    };
    assert.equal(await send(prompted), 200);
    assert.equal(await send({ ...created, agentSession }), 200);
    const handle = temporal!.client.workflow.getHandle(id);
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    assert.deepEqual(await log(id), ['humanReply linear-session Test User: use the v2 API'], 'the reply is the run\'s first signal');
    assert.equal(await temporalLinearRuns(temporal!.client, taskQueue).sessionOf(id), session, 'the session read back from the run\'s input');
    const history = await handle.fetchHistory();
    const starts = (history.events ?? []).filter((e) => e.workflowExecutionStartedEventAttributes);
    assert.equal(starts.length, 1);
    assert.equal((history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length, 1, 'created added nothing');

    const stop = { ...prompted, agentActivity: { ...prompted.agentActivity, id: randomUUID(), content: { type: 'prompt', body: 'Stop' }, signal: 'stop' } };
    assert.equal(await send(stop), 200);
    const result = (await handle.result()) as StandInResult;
    assert.deepEqual(result.log.at(-1), 'cancel Test User: stop in Linear');
  });

  test('label: run 1; again while open → duplicateRequest; after it ended → -2 ("run 2"); a thread reply reaches -2', async () => {
    const base = `linear-${ISSUE}`;
    assert.equal(await send(issueUpdate), 200);
    assert.equal((await temporal!.client.workflow.getHandle(base).describe()).status.name, 'RUNNING');
    assert.equal(await send(issueUpdate), 200, 'same webhookId: a redelivery');
    assert.equal(await send({ ...issueUpdate, ...linearEventStamp() }), 200);
    assert.deepEqual(await log(base), ['duplicateRequest Paula Manager'], 'the redelivery told nothing; the second request did');

    await temporal!.client.workflow.getHandle(base).signal(finishSignal);
    await temporal!.client.workflow.getHandle(base).result();
    assert.equal(await send({ ...issueUpdate, ...linearEventStamp() }), 200);
    const second = temporal!.client.workflow.getHandle(`${base}-2`);
    assert.equal((await second.describe()).status.name, 'RUNNING');
    assert.equal(await send(issueUpdate), 200, 'the first delivery redelivered after run 1 ended: still nothing');
    await assert.rejects(temporal!.client.workflow.getHandle(`${base}-3`).describe(), 'no run 3');
    const port = temporalLinearRuns(temporal!.client, taskQueue);
    assert.equal(await port.signal(base, { name: 'humanReply', reply: { author: 'a', text: 'late' } }), 'not_running', 'a closed run is not signalled');
    assert.equal(await port.describe(`${base}-3`), undefined);
    assert.equal(await port.sessionOf(`${base}-9`), undefined);

    const reply = { ...comment, ...linearEventStamp(), data: { ...(comment.data as Json), id: randomUUID(), parentId: randomUUID(), body: 'try tests/data' } };
    assert.equal(await send(reply), 200);
    assert.deepEqual(await log(`${base}-2`), ['humanReply linear-comment aacdca22-6266-4c0a-ab3c-8fa70a26765c: try tests/data']);
    await second.signal(finishSignal);
    const result = (await second.result()) as StandInResult;
    assert.match(result.task, /Run 2 on this issue/);
  });
});
