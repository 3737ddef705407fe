/**
 * Linear's conversation reaching runs, over a real loopback HTTP server with deliveries signed at
 * send time (devstack/linear.ts `signedWebhook`). Payloads: the real `AgentSessionEvent` `created`
 * capture (agent-session-event-created.linear-beads-2026.json) and the real `Comment` create
 * (comment-create.linear-sdk-test.json); `prompted` is that capture with `agentActivity` added as
 * `@linear/sdk@98` types it (`AgentActivityWebhookPayload`: id, content.body, signal, user). Runs
 * are an in-memory port with Temporal's id rules (the real one: test/integration/linearIngress).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { createHttpServer, listen } from '../../bots/http.js';
import { createLinearWebhookHandler, decideLinearWebhook } from '../../bots/linear/webhook.js';
import { linearDeliveryKey } from '../../bots/linear/deliveryKey.js';
import { linearEventStamp, signedWebhook } from '../../devstack/linear.js';
import { devstackFixture } from '../../devstack/paths.js';
import { FakeLinearRuns } from '../helpers/fakeLinearRuns.js';
import { fixturePath } from '../helpers/paths.js';

const SECRET = 'lin_wh_test_secret_conversation';
const APP_USER = 'f0f0f0f0-0000-4000-8000-00000000a99a';
type Json = Record<string, unknown>;
const read = (p: string): Json => JSON.parse(readFileSync(p, 'utf8')) as Json;

const created = read(fixturePath('linear', 'agent-session-event-created.linear-beads-2026.json'));
const comment = read(fixturePath('linear', 'comment-create.linear-sdk-test.json'));
const issueUpdate = read(devstackFixture('linear', 'issue-update-label-added.constructed.json'));
const SESSION = '1814a779-582a-4ef2-b506-dc220aff09a8';
const SESSION_ISSUE = 'f2c74f13-f98b-4298-84b3-62b1ad2cc08c';
const SESSION_RUN = `linear-session-${SESSION}`;
const ISSUE = '539068e2-ae88-4d09-bd75-22eb4a59612f';
const LABEL_RUN = `linear-${ISSUE}`;

/** A `prompted` on the captured session: the user's message, or their stop. */
function prompted(body: string, opts: { stop?: boolean; activityId?: string } = {}): Json {
  return {
    ...created,
    action: 'prompted',
    ...linearEventStamp(),
    appUserId: APP_USER,
    agentActivity: {
      id: opts.activityId ?? randomUUID(),
      agentSessionId: SESSION,
      content: { type: 'prompt', body },
      ...(opts.stop ? { signal: 'stop' } : {}),
      user: { id: 'dc7f24a6-f24e-47dc-b865-e1b9e9afd69a', name: 'Test User', email: 'test@example.com', url: 'https://linear.app/u' },
    },
  };
}

/** The captured comment as a reply in a thread (parentId), by `userId`. */
function reply(body: string, opts: { userId?: string; parentId?: string | null; botActor?: string } = {}): Json {
  const data = comment.data as Json;
  return {
    ...comment,
    ...linearEventStamp(),
    data: {
      ...data,
      id: randomUUID(),
      body,
      ...(opts.parentId === null ? {} : { parentId: opts.parentId ?? '5f1c0d2e-aaaa-4bbb-8ccc-000000000001' }),
      ...(opts.userId ? { userId: opts.userId } : {}),
      ...(opts.botActor ? { botActor: opts.botActor } : {}),
    },
  };
}

const labelAdded = (): Json => ({ ...issueUpdate, ...linearEventStamp() });

describe('Linear conversation → runs', () => {
  let server: Server;
  let url: string;
  let runs: FakeLinearRuns;
  const opts = { triggerLabel: 'Nightshift', resolveRepo: (key: string | undefined) => (key === 'LIN' ? 'lineup' : 'fallback') };

  before(async () => {
    const logger = pino({ level: 'silent' });
    const handler = createLinearWebhookHandler({
      webhookSecret: SECRET,
      ...opts,
      get runs() {
        return runs;
      },
      appUserId: APP_USER,
      logger,
      startTimeoutMs: 1000,
    });
    server = createHttpServer({ 'POST /webhooks/linear': handler }, { logger });
    url = await listen(server, 0, '127.0.0.1');
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    runs = new FakeLinearRuns();
  });

  async function send(payload: Json): Promise<number> {
    const { headers, body } = signedWebhook(payload, SECRET);
    return (await fetch(`${url}/webhooks/linear`, { method: 'POST', headers, body })).status;
  }

  it('a prompted guidance reaches the session\'s run as humanReply (author, text, activity id, via)', async () => {
    assert.equal(await send({ ...created, ...linearEventStamp() }), 200);
    const p = prompted('Use the v2 API, not v1.', { activityId: 'act-1' });
    assert.equal(await send(p), 200);
    const run = runs.runs.get(SESSION_RUN)!;
    assert.equal(run.startedBy, 'start');
    assert.deepEqual(run.signals, [{ name: 'humanReply', reply: { author: 'Test User', text: 'Use the v2 API, not v1.', via: 'linear-session', id: 'act-1' } }]);
  });

  it('a prompted with signal stop cancels the run (by, "stop in Linear")', async () => {
    await send({ ...created, ...linearEventStamp() });
    assert.equal(await send(prompted('Stop', { stop: true })), 200);
    assert.deepEqual(runs.runs.get(SESSION_RUN)!.signals, [{ name: 'cancel', by: 'Test User', reason: 'stop in Linear' }]);
  });

  it('a prompted that comes before created starts the run with the session\'s request (signalWithStart); created then starts nothing', async () => {
    assert.equal(await send(prompted('Also the README.')), 200);
    const run = runs.runs.get(SESSION_RUN)!;
    assert.equal(run.startedBy, 'signalWithStart');
    assert.equal(run.req.source.kind === 'linear' && run.req.source.agentSessionId, SESSION);
    assert.equal(run.req.title, 'a quick test issue');
    assert.equal(run.signals.length, 1);
    assert.equal(await send({ ...created, ...linearEventStamp() }), 200);
    assert.equal(runs.runs.size, 1, 'created found the run started');
    assert.equal(run.signals.length, 1);
  });

  it('a redelivered prompted (same webhookId, same bytes) is acted on once, also when both arrive together', async () => {
    await send({ ...created, ...linearEventStamp() });
    const { headers, body } = signedWebhook(prompted('Once only'), SECRET);
    const post = () => fetch(`${url}/webhooks/linear`, { method: 'POST', headers, body }).then((r) => r.status);
    assert.deepEqual(await Promise.all([post(), post()]), [200, 200]);
    assert.equal(await post(), 200);
    assert.equal(runs.runs.get(SESSION_RUN)!.signals.length, 1);
  });

  it('a prompted after the session\'s run ended starts follow-up run 2 with the reply; a stop or a bare command then starts nothing', async () => {
    await send({ ...created, ...linearEventStamp() });
    runs.end(SESSION_RUN);
    assert.equal(await send(prompted('stop', { stop: true })), 200);
    assert.equal(await send(prompted('cancel')), 200);
    assert.equal(runs.runs.size, 1);
    assert.equal(await send(prompted('Now add a --csv flag too.')), 200);
    const next = runs.runs.get(`${SESSION_RUN}-2`);
    assert.ok(next, 'follow-up started');
    assert.match(next.req.task, /Follow-up from Test User in the Linear session \(run 2; the previous run, linear-session-[\w-]+, ended\):\nNow add a --csv flag too\.$/);
    assert.equal(next.req.source.kind === 'linear' && next.req.source.agentSessionId, SESSION, 'it answers in the same session');
    assert.equal(await send(prompted('And tests.')), 200);
    assert.equal(runs.runs.get(`${SESSION_RUN}-2`)!.signals.length, 1, 'the next reply reaches the open follow-up');
  });

  it('a session run started under the old id (linear-<issueId>) still gets the session\'s replies', async () => {
    const old = runs.seed(`linear-${SESSION_ISSUE}`, { source: { kind: 'linear', issueId: SESSION_ISSUE, agentSessionId: SESSION }, requester: 'x', repo: 'r', title: 't', task: 't' });
    assert.equal(await send(prompted('guidance for the old run')), 200);
    assert.equal(old.signals.length, 1);
    assert.equal(runs.runs.has(SESSION_RUN), false, 'no second run');
  });

  it('a human\'s reply in a comment thread reaches the issue\'s open label run; a top-level comment does not', async () => {
    await send(labelAdded());
    const r = reply('Try the fixture in tests/data.');
    assert.equal(await send(r), 200);
    assert.equal(await send(reply('top level', { parentId: null })), 200);
    const data = r.data as Json;
    assert.deepEqual(runs.runs.get(LABEL_RUN)!.signals, [
      { name: 'humanReply', reply: { author: 'aacdca22-6266-4c0a-ab3c-8fa70a26765c', text: 'Try the fixture in tests/data.', id: data.id, via: 'linear-comment', inReplyTo: data.parentId } },
    ]);
  });

  it('the reply goes to the issue\'s latest run (linear-<issueId>-2)', async () => {
    await send(labelAdded());
    runs.end(LABEL_RUN);
    await send(labelAdded());
    await send(reply('for run 2'));
    assert.equal(runs.runs.get(LABEL_RUN)!.signals.length, 0);
    assert.equal(runs.runs.get(`${LABEL_RUN}-2`)!.signals.length, 1);
  });

  it('our own comments never reach a run: the configured app user, an app user learned from session events, a botActor', async () => {
    await send(labelAdded());
    assert.equal(await send(reply('Escalated: what I tried…', { userId: APP_USER })), 200);
    assert.equal(await send(reply('bot says', { botActor: '{"name":"Nightshift"}' })), 200);
    const learned = '0d0d0d0d-1111-4222-8333-444444444444';
    await send({ ...prompted('hi'), appUserId: learned });
    assert.equal(await send(reply('from the other app identity', { userId: learned })), 200);
    assert.equal(runs.runs.get(LABEL_RUN)!.signals.length, 0);
  });

  it('a thread reply on an issue with no open run starts nothing', async () => {
    assert.equal(await send(reply('anyone?')), 200);
    assert.equal(runs.runs.size, 0);
  });

  it('the label added again after the run ended starts linear-<issueId>-2 whose task says "run 2"', async () => {
    await send(labelAdded());
    runs.end(LABEL_RUN);
    assert.equal(await send(labelAdded()), 200);
    const second = runs.runs.get(`${LABEL_RUN}-2`);
    assert.ok(second);
    assert.match(second.req.task, /\(Run 2 on this issue: the label was added again after run 1, linear-[\w-]+, ended\.\)$/);
    runs.end(`${LABEL_RUN}-2`);
    await send(labelAdded());
    assert.ok(runs.runs.get(`${LABEL_RUN}-3`)!.req.task.includes('Run 3 on this issue'));
  });

  it('the label added while a run is open starts nothing and tells the open run (duplicateRequest)', async () => {
    await send(labelAdded());
    runs.end(LABEL_RUN);
    await send(labelAdded());
    const again = labelAdded();
    assert.equal(await send(again), 200);
    assert.equal(runs.runs.size, 2);
    assert.deepEqual(runs.runs.get(`${LABEL_RUN}-2`)!.signals, [{ name: 'duplicateRequest', request: { by: 'Paula Manager', via: 'linear-label', id: linearDeliveryKey(again) } }]);
  });

  it('a redelivery of the label delivery that started run 1, after it ended and after a restart, starts nothing (its event key in the run\'s memo)', async () => {
    const first = labelAdded();
    await send(first);
    runs.end(LABEL_RUN);
    // A second handler = a restarted receiver with an empty in-memory set.
    const handler = createLinearWebhookHandler({ webhookSecret: SECRET, ...opts, runs, logger: pino({ level: 'silent' }) });
    const s2 = createHttpServer({ 'POST /webhooks/linear': handler }, { logger: pino({ level: 'silent' }) });
    const url2 = await listen(s2, 0, '127.0.0.1');
    try {
      const { headers, body } = signedWebhook(first, SECRET);
      assert.equal((await fetch(`${url2}/webhooks/linear`, { method: 'POST', headers, body })).status, 200);
      assert.equal(runs.runs.size, 1);
    } finally {
      s2.closeAllConnections();
      await new Promise<void>((resolve) => s2.close(() => resolve()));
    }
  });

  it('a failure to reach Temporal answers 500, and the redelivery is then acted on', async () => {
    await send({ ...created, ...linearEventStamp() });
    const p = prompted('retry me');
    runs.behaviour = 'throw';
    assert.equal(await send(p), 500);
    runs.behaviour = 'ok';
    assert.equal(await send(p), 200);
    assert.equal(runs.runs.get(SESSION_RUN)!.signals.length, 1);
  });
});

describe('decideLinearWebhook on the real captures', () => {
  const opts = { triggerLabel: 'nightshift', resolveRepo: () => 'repo', appUserIds: new Set([APP_USER]) };

  it('created (real capture) → start linear-session-<sessionId> with the comment as the request', () => {
    const d = decideLinearWebhook(created, opts);
    assert.equal(d.kind, 'start');
    assert.ok(d.kind === 'start');
    assert.equal(d.workflowId, SESSION_RUN);
    assert.match(d.request.task, /Request from Test User:\n@claude can you help me with this\?$/);
  });

  it('the real Comment create (top-level, by a human) → ignored; as a thread reply → a comment decision', () => {
    assert.equal(decideLinearWebhook(comment, opts).kind, 'ignore');
    const d = decideLinearWebhook({ ...comment, data: { ...(comment.data as Json), parentId: 'p1' } }, opts);
    assert.ok(d.kind === 'comment');
    assert.equal(d.baseId, LABEL_RUN);
    assert.equal(d.reply.inReplyTo, 'p1');
  });

  it('prompted with an empty body (and no stop) is ignored', () => {
    assert.equal(decideLinearWebhook(prompted('   '), opts).kind, 'ignore');
  });
});

describe('the event key (not webhookId) identifies a Linear event', () => {
  it('two events from the same webhook (same webhookId) differ; a redelivery of one (new webhookTimestamp) does not', () => {
    const a = labelAdded();
    const b = labelAdded();
    assert.equal(a.webhookId, b.webhookId, 'Linear sends the subscription id on every event');
    assert.notEqual(linearDeliveryKey(a), linearDeliveryKey(b));
    assert.equal(linearDeliveryKey({ ...a, webhookTimestamp: 1 }), linearDeliveryKey({ ...a, webhookTimestamp: 2 }));
  });
});
