/**
 * The one webhook server (`startWebhookServer`) against the real Temporal dev server: a signed
 * `/nightshift run` starts the `agentTask` workflow `slack-<channel>-<root ts>` (on a task queue
 * with no worker: it need not finish), `status` and `cancel` reach it, an @mention redelivered
 * starts once, and the Linear route is served by the same server. Every run is terminated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { pino } from 'pino';
import { startDevServer } from '../../worker/temporal.js';
import { startWebhookServer, type WebhookServer } from '../../worker/server.js';
import { parseConfig } from '../../worker/config.js';
import { FakeSlack } from '../../devstack/slack.js';
import { SlackSigner } from '../../devstack/slackSigner.js';
import { labeledIssueDelivery } from '../../devstack/linearIssue.js';

const SECRET = 'slack-integration-secret';
const TOKEN = 'xoxb-integration';
const LINEAR_SECRET = 'lin_wh_integration_secret';
const CH = 'C0INTEG';

describe('webhook server: Slack and Linear on one Bolt receiver, real Temporal', { timeout: 120_000 }, () => {
  let temporal: TestWorkflowEnvironment;
  let fake: FakeSlack;
  let server: WebhookServer;
  let signer: SlackSigner;
  const taskQueue = `slack-it-${Date.now()}`;

  before(async () => {
    temporal = await startDevServer({});
    fake = await FakeSlack.start({ token: TOKEN, botUserId: 'UBOTNIGHT', botId: 'BBOTNIGHT' });
    const config = parseConfig({
      temporal: { taskQueue },
      gateway: { prices: {} },
      http: { port: 0 },
      linear: { teams: { LIN: 'api' } },
      repos: { api: { url: '/tmp/none.git', github: 'acme/api', testCommand: 'true', budget: { minutes: 30, tokens: 1_000_000, usd: 5 } } },
      slack: { apiUrl: fake.apiUrl, defaultRepo: 'api', botUserId: 'UBOTNIGHT', botId: 'BBOTNIGHT' },
    });
    server = await startWebhookServer({
      config,
      secrets: { slackBotToken: TOKEN, slackSigningSecret: SECRET, linearWebhookSecret: LINEAR_SECRET },
      client: temporal.client,
      logger: pino({ level: 'silent' }),
      slackWebApiRetries: 0,
    });
    signer = new SlackSigner(SECRET, `${server.url}/slack/events`, () => fake.responseUrl());
  });

  after(async () => {
    // Terminate whatever was started (no worker polls the queue), then stop everything.
    try {
      for await (const w of temporal.client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
        await temporal.client.workflow.getHandle(w.workflowId).terminate('test teardown').catch(() => undefined);
      }
    } finally {
      await server?.close().catch(() => undefined);
      await fake?.close().catch(() => undefined);
      await temporal?.teardown();
    }
  });

  async function until<T>(f: () => T | undefined | Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await f();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('/nightshift run starts agentTask slack-<channel>-<root ts>; status and cancel reach it', async () => {
    const res = await signer.slashCommand({ text: 'run fix the flaky login test --now', user: 'U1', channel: CH });
    assert.equal(res.status, 200);
    const root = await until(() => fake.messages.find((m) => m.channel === CH && m.bot_id && !m.thread_ts), 'the root message');
    const id = `slack-${CH}-${root.ts}`;
    const desc = await until(() => temporal.client.workflow.getHandle(id).describe().catch(() => undefined), 'the workflow');
    assert.equal(desc.type, 'agentTask');
    assert.equal(desc.taskQueue, taskQueue);
    assert.equal(desc.status.name, 'RUNNING');
    await until(() => (fake.responses.length >= 1 ? true : undefined), 'the confirmation');
    assert.match(String(fake.responses[0]?.body.text), new RegExp(`Started \`${id.replace(/\./g, '\\.')}\``));

    await signer.slashCommand({ text: 'status', user: 'U1', channel: CH });
    await until(() => (fake.responses.length >= 2 ? true : undefined), 'status');
    // The run's input is read back from its start event; no worker answers the query.
    assert.match(String(fake.responses[1]?.body.text), /on `api`: fix the flaky login test/);

    await signer.slashCommand({ text: `cancel ${id}`, user: 'U1', channel: CH });
    await until(() => (fake.responses.length >= 3 ? true : undefined), 'cancel');
    assert.match(String(fake.responses[2]?.body.text), /Cancelling/);
    const history = await temporal.client.workflow.getHandle(id).fetchHistory();
    assert.ok(history.events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'cancel'), 'the cancel signal is in the history');
  });

  it('an @mention delivered twice (Slack retry) starts one run', async () => {
    const ts = `${Math.floor(Date.now() / 1000)}.000777`;
    const body = signer.eventBody({ type: 'app_mention', user: 'U2', text: '<@UBOTNIGHT> bump the lodash version', ts, channel: CH, event_ts: ts });
    assert.equal((await signer.send(body, 'application/json')).status, 200);
    const id = `slack-${CH}-${ts}`;
    await until(() => temporal.client.workflow.getHandle(id).describe().catch(() => undefined), 'the mention run');
    assert.equal((await signer.send(body, 'application/json', { retryNum: 1, retryReason: 'http_timeout' })).status, 200);
    await new Promise((r) => setTimeout(r, 500));
    let count = 0;
    for await (const w of temporal.client.workflow.list({ query: `WorkflowId = '${id}'` })) if (w.workflowId === id) count++;
    assert.equal(count, 1);
    assert.equal(fake.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === ts).length, 1);
  });

  it('the Linear route is served by the same server (a labeled issue starts linear-<id>); healthz answers', async () => {
    const delivery = labeledIssueDelivery(LINEAR_SECRET);
    const res = await fetch(`${server.url}/webhooks/linear`, { method: 'POST', headers: delivery.headers, body: delivery.body });
    assert.equal(res.status, 200);
    const id = await until(async () => {
      for await (const w of temporal.client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) if (w.workflowId.startsWith('linear-')) return w.workflowId;
      return undefined;
    }, 'the Linear run');
    assert.match(id, /^linear-/);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const big = await fetch(`${server.url}/webhooks/linear`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(1024 * 1024 + 1) });
    assert.equal(big.status, 413);
  });
});
