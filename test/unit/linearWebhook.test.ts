/**
 * The Linear webhook receiver, driven over a real loopback HTTP server with signed deliveries
 * (real `Comment` fixture from the SDK's tests; constructed `Issue` / `AgentSessionEvent` ones).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { createHttpServer, listen } from '../../bots/http.js';
import { createLinearWebhookHandler, decideLinearWebhook } from '../../bots/linear/webhook.js';
import { linearEventStamp, signedWebhook } from '../../devstack/linear.js';
import { devstackFixture } from '../../devstack/paths.js';
import { FakeLinearRuns } from '../helpers/fakeLinearRuns.js';
import { fixturePath } from '../helpers/paths.js';

const SECRET = 'lin_wh_test_secret_0123456789';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(fixturePath('linear', name), 'utf8')) as Record<string, unknown>;
}

const issueUpdate = JSON.parse(readFileSync(devstackFixture('linear', 'issue-update-label-added.constructed.json'), 'utf8')) as Record<string, unknown>;
const agentSession = fixture('agent-session-created.constructed.json');
const comment = fixture('comment-create.linear-sdk-test.json');
const ISSUE_ID = '539068e2-ae88-4d09-bd75-22eb4a59612f';
const LABEL_ID = 'a8b4e2f1-6c3d-4e5f-9a0b-1c2d3e4f5a6b';

describe('Linear webhook receiver', () => {
  let server: Server;
  let url: string;
  let logLines: Record<string, unknown>[];
  let runs: FakeLinearRuns;
  /** The runs started, in order. */
  const calls = () => [...runs.runs.values()];

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
        cb();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    const handler = createLinearWebhookHandler({
      webhookSecret: SECRET,
      triggerLabel: 'Nightshift',
      resolveRepo: (key) => (key === 'LIN' ? 'lineup' : undefined),
      // A getter, so that each test gets a fresh fake.
      get runs() {
        return runs;
      },
      logger,
      startTimeoutMs: 200,
      maxBodyBytes: 64 * 1024,
    });
    server = createHttpServer({ 'POST /webhooks/linear': handler }, { logger, maxBodyBytes: 64 * 1024 });
    url = await listen(server, 0, '127.0.0.1');
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    logLines = [];
    runs = new FakeLinearRuns();
  });

  async function post(body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
    const res = await fetch(`${url}/webhooks/linear`, { method: 'POST', headers, body });
    return { status: res.status, text: await res.text() };
  }

  /** Signs and sends a delivery; each gets its own `webhookId` (one handler serves every test, and it acts on an id once). */
  async function deliver(payload: object, secret = SECRET): Promise<{ status: number; text: string }> {
    const { headers, body } = signedWebhook({ ...payload, ...linearEventStamp() }, secret);
    return post(body, headers);
  }

  it('rejects a delivery signed with another secret: 400, nothing started', async () => {
    const res = await deliver(issueUpdate, 'some-other-secret');
    assert.equal(res.status, 400);
    assert.equal(calls().length, 0);
    assert.ok(logLines.some((l) => l.msg === 'Linear webhook rejected by verification' && l.status === 400));
  });

  it('rejects an uppercase-hex signature of the right bytes', async () => {
    const { headers, body } = signedWebhook(issueUpdate, SECRET);
    const sig = headers['linear-signature'] as string;
    assert.match(sig, /^[0-9a-f]{64}$/);
    const res = await post(body, { ...headers, 'linear-signature': sig.toUpperCase() });
    assert.equal(res.status, 400);
    assert.equal(calls().length, 0);
  });

  it('rejects a missing signature with 400', async () => {
    const { headers, body } = signedWebhook(issueUpdate, SECRET);
    const { 'linear-signature': _omit, ...rest } = headers;
    const res = await post(body, rest);
    assert.equal(res.status, 400);
    assert.equal(calls().length, 0);
  });

  it('rejects a correctly signed delivery whose webhookTimestamp is more than 60 s old (400)', async () => {
    const { headers, body } = signedWebhook(issueUpdate, SECRET, { webhookTimestamp: Date.now() - 61_000 });
    const res = await post(body, headers);
    assert.equal(res.status, 400);
    assert.equal(calls().length, 0);
  });

  it('rejects the recorded fixture as is (its timestamp is from 2020)', async () => {
    const body = JSON.stringify(comment);
    const sig = createHmac('sha256', SECRET).update(body).digest('hex');
    const res = await post(body, { 'content-type': 'application/json', 'linear-signature': sig });
    assert.equal(res.status, 400);
  });

  it('answers 400 to malformed JSON, even correctly signed', async () => {
    const body = '{"type":"Issue","action":';
    const sig = createHmac('sha256', SECRET).update(body).digest('hex');
    const res = await post(body, { 'content-type': 'application/json', 'linear-signature': sig });
    assert.equal(res.status, 400);
    assert.equal(calls().length, 0);
  });

  it('answers 200 to an event it does not act on (the real Comment create fixture), starting nothing', async () => {
    const res = await deliver(comment);
    assert.equal(res.status, 200);
    assert.equal(calls().length, 0);
    assert.ok(logLines.some((l) => l.msg === 'Linear webhook: nothing to start' && l.type === 'Comment'));
  });

  it('starts a run when an update adds the trigger label', async () => {
    const res = await deliver(issueUpdate);
    assert.equal(res.status, 200);
    assert.equal(calls().length, 1);
    const call = calls()[0]!;
    assert.equal(call.workflowId, `linear-${ISSUE_ID}`);
    assert.deepEqual(call.req, {
      source: {
        kind: 'linear',
        issueId: ISSUE_ID,
        issueIdentifier: 'LIN-1778',
        issueUrl: 'https://linear.app/example/issue/LIN-1778/add-a-json-flag-to-the-export-command',
        requesterId: 'aacdca22-6266-4c0a-ab3c-8fa70a26765c',
      },
      requester: 'Paula Manager',
      repo: 'lineup',
      priority: 3,
      // The issue's other labels (classification.labels may map one to a task type).
      labels: ['Bug'],
      title: 'Add a --json flag to the export command',
      task:
        'Add a --json flag to the export command\n\n' +
        'The export command prints a table. Add `--json` so that scripts can read it.\n\n' +
        'Done when `export --json` prints valid JSON and the tests cover it.',
    });
    assert.ok(logLines.some((l) => l.msg === 'run started' && l.workflowId === `linear-${ISSUE_ID}`));
  });

  it('starts nothing when the label was already there before the update', async () => {
    const payload = structuredClone(issueUpdate) as { updatedFrom: { labelIds: string[] } };
    payload.updatedFrom.labelIds = ['3f1d6c52-8e0b-4a7e-b1f4-9d2c5e6a7b80', LABEL_ID];
    const res = await deliver(payload);
    assert.equal(res.status, 200);
    assert.equal(calls().length, 0);
  });

  it('starts nothing for an update that did not change labels', async () => {
    const payload = structuredClone(issueUpdate) as { updatedFrom: Record<string, unknown> };
    payload.updatedFrom = { updatedAt: '2025-06-02T20:01:44.512Z', title: 'old title' };
    const res = await deliver(payload);
    assert.equal(res.status, 200);
    assert.equal(calls().length, 0);
  });

  it('starts nothing when the issue does not carry the trigger label', async () => {
    const payload = structuredClone(issueUpdate) as { data: { labels: unknown[] } };
    payload.data.labels = payload.data.labels.slice(0, 1);
    const res = await deliver(payload);
    assert.equal(res.status, 200);
    assert.equal(calls().length, 0);
  });

  it('starts a run for an issue created with the label', async () => {
    const payload = structuredClone(issueUpdate) as Record<string, unknown>;
    payload.action = 'create';
    delete payload.updatedFrom;
    const res = await deliver(payload);
    assert.equal(res.status, 200);
    assert.deepEqual(
      calls().map((c) => c.workflowId),
      [`linear-${ISSUE_ID}`],
    );
  });

  it('acts on the same delivery once (second: a redelivery, still 200)', async () => {
    const { headers, body } = signedWebhook(issueUpdate, SECRET);
    const first = await post(body, headers);
    const second = await post(body, headers);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.deepEqual(
      calls().map((c) => c.workflowId),
      [`linear-${ISSUE_ID}`],
    );
    assert.deepEqual(runs.calls, [`start linear-${ISSUE_ID}`], 'the redelivery made no Temporal call');
    assert.ok(logLines.some((l) => l.msg === 'Linear webhook: redelivery of a delivery already acted on'));
  });

  it('answers 500 when starting the run fails, and logs the cause', async () => {
    runs.behaviour = 'throw';
    const res = await deliver(issueUpdate);
    assert.equal(res.status, 500);
    const line = logLines.find((l) => l.msg === 'starting the run failed; answering 500 so that Linear redelivers');
    assert.ok(line, 'error logged');
    // pino's error serializer appends the cause chain to the message.
    const err = line.err as { message: string };
    assert.match(err.message, /^temporal unavailable: ECONNREFUSED 127\.0\.0\.1:7233$/);
  });

  it('answers 500 when starting the run takes longer than startTimeoutMs', async () => {
    runs.behaviour = 'hang';
    const res = await deliver(issueUpdate);
    assert.equal(res.status, 500);
  });

  it('starts a run with the agent session id for an AgentSessionEvent created', async () => {
    const res = await deliver(agentSession);
    assert.equal(res.status, 200);
    assert.equal(calls().length, 1);
    const { workflowId, req } = calls()[0]!;
    assert.equal(workflowId, 'linear-session-7a1f3c5e-2b4d-4f6a-8c0e-9d1b3a5c7e90', 'a session run is found from its session id');
    assert.deepEqual(req.source, {
      kind: 'linear',
      issueId: ISSUE_ID,
      issueIdentifier: 'LIN-1778',
      issueUrl: 'https://linear.app/example/issue/LIN-1778/add-a-json-flag-to-the-export-command',
      agentSessionId: '7a1f3c5e-2b4d-4f6a-8c0e-9d1b3a5c7e90',
      requesterId: 'aacdca22-6266-4c0a-ab3c-8fa70a26765c',
    });
    assert.equal(req.requester, 'Paula Manager');
    assert.equal(req.repo, 'lineup');
    assert.match(req.task, /Request from Paula Manager:\n@nightshift please also update the README$/);
  });

  it('ignores an AgentSessionEvent prompted that carries no agentActivity', async () => {
    const res = await deliver({ ...agentSession, action: 'prompted' });
    assert.equal(res.status, 200);
    assert.equal(calls().length, 0);
  });

  it('starts a run with repo "" when the team has no repository, so the run can say why', async () => {
    const payload = structuredClone(issueUpdate) as { data: { team: { key: string } } };
    payload.data.team.key = 'OPS';
    const res = await deliver(payload);
    assert.equal(res.status, 200);
    assert.equal(calls()[0]?.req.repo, '');
  });

  it('answers 200 and logs an error when an Issue payload lacks a field it needs', async () => {
    const payload = structuredClone(issueUpdate) as { data: Record<string, unknown> };
    delete payload.data.identifier;
    const res = await deliver(payload);
    assert.equal(res.status, 200);
    assert.equal(calls().length, 0);
    assert.ok(logLines.some((l) => l.level === 50 && /fields Nightshift needs/.test(String(l.msg))));
  });

  it('never logs the webhook secret or the signature', async () => {
    const { headers, body } = signedWebhook(issueUpdate, SECRET);
    await post(body, headers);
    await deliver(issueUpdate, 'wrong');
    const all = JSON.stringify(logLines);
    assert.ok(!all.includes(SECRET));
    assert.ok(!all.includes(headers['linear-signature'] as string));
  });

  it('routes: 405 for GET on the webhook path, 404 elsewhere, 200 on /healthz, 413 over the size limit', async () => {
    assert.equal((await fetch(`${url}/webhooks/linear`)).status, 405);
    assert.equal((await fetch(`${url}/nope`, { method: 'POST', body: '{}' })).status, 404);
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'ok');
    const big = signedWebhook({ ...issueUpdate, padding: 'x'.repeat(70 * 1024) }, SECRET);
    assert.equal((await post(big.body, big.headers)).status, 413);
    assert.equal(calls().length, 0);
  });
});

describe('Linear decisions carry who asked and the priority', () => {
  const opts = { triggerLabel: 'nightshift', resolveRepo: () => 'acme/calculator' };
  it('a label run: the actor is the requester id (for the access check), the issue priority is the queue priority', () => {
    const d = decideLinearWebhook(issueUpdate, opts);
    assert.equal(d.kind, 'label');
    if (d.kind !== 'label') return;
    const actor = issueUpdate.actor as { id: string };
    assert.equal(d.request.source.kind === 'linear' ? d.request.source.requesterId : undefined, actor.id);
    assert.equal(d.request.priority, (issueUpdate.data as { priority: number }).priority);
  });
  it('a label run on an issue with no priority (0) gets none (the queue then uses normal)', () => {
    const noPriority = { ...issueUpdate, data: { ...(issueUpdate.data as object), priority: 0 } };
    const d = decideLinearWebhook(noPriority, opts);
    assert.equal(d.kind === 'label' ? d.request.priority : 'not a label run', undefined);
  });
  it('a session run: the session creator is the requester id', () => {
    const real = fixture('agent-session-event-created.linear-beads-2026.json') as unknown as { agentSession: { creator: { id: string } } };
    const d = decideLinearWebhook(real, opts);
    assert.equal(d.kind, 'start');
    if (d.kind !== 'start') return;
    assert.equal(d.request.source.kind === 'linear' ? d.request.source.requesterId : undefined, real.agentSession.creator.id);
  });
});
