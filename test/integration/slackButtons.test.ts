/**
 * The humans in the loop, through Slack, against the real Temporal dev server and the real
 * workflow: signed requests (slash command, buttons, modal submissions, thread messages) reach
 * our one Bolt server, which signals the run; the run's Slack activities (thread replies with
 * buttons, the live message) are the real ones, talking to FakeSlack. The agent, git and tests
 * are activity doubles (the whole run with the real agent is slackRun.test.ts), told per run by
 * the task text what to do.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebClient } from '@slack/web-api';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { createSlackActivities, postSlackReport } from '../../activities/slack/index.js';
import { FakeSlack, type FakeMessage } from '../../devstack/slack.js';
import { SlackSigner } from '../../devstack/slackSigner.js';
import { parseConfig } from '../../worker/config.js';
import { runResult } from '../../worker/runs.js';
import { startWebhookServer, type WebhookServer } from '../../worker/server.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import type { Activities, LiveStatusActivities, RunPlan } from '../../workflows/activityTypes.js';
import { ZERO_SPEND, type AttemptRecord } from '../../workflows/types.js';
import { messagesTaskQueue } from '../../workflows/linearTypes.js';
import { runSideActivities } from '../helpers/runWorkers.js';

const SECRET = 'slack-buttons-secret';
const TOKEN = 'xoxb-buttons';
const CH = 'C0BUTTONS';

const plan: RunPlan = {
  repo: 'calculator', url: '/tmp/none', github: 'acme/calculator', defaultBranch: 'main', agent: 'claude-code', model: 'claude-sonnet-4-5',
  image: 'img', testCommand: 'python3 -m unittest', budget: { wallClockMs: 600_000, tokens: 100_000, usd: 1 }, maxAttempts: 1, risk: 'low',
  riskReasons: [], riskyPaths: [], testChangesPolicy: 'escalate', slug: 'fix-add', escalationWaitMs: 3_600_000, agentEgress: [],
};

const attempt = (n: number): AttemptRecord => ({
  attempt: n, end: 'agent_exited', agent: 'claude-code', model: 'claude-sonnet-4-5', finalMessage: 'done', exitCode: 0,
  spend: { ...ZERO_SPEND, tokens: 1000, usd: 0.01, requests: 2 }, durationMs: 10, diffStat: ' calc.py | 2 +-', filesChanged: ['calc.py'], commands: [], lastEvents: ['Edit calc.py'],
});

describe('Slack buttons, modals and thread replies reach the run (real Temporal, real Bolt server, FakeSlack)', { timeout: 240_000 }, () => {
  let temporal: TestWorkflowEnvironment;
  let fake: FakeSlack;
  let server: WebhookServer;
  let signer: SlackSigner;
  let worker: Worker;
  let messagesWorker: Worker;
  let running: Promise<unknown>;
  const taskQueue = `slack-buttons-${Date.now()}`;
  /** Per run: the task text (what the doubles do) and the attempts so far. */
  const tasks = new Map<string, string>();

  before(async () => {
    temporal = await startDevServer({});
    fake = await FakeSlack.start({ token: TOKEN, botUserId: 'UBOT', botId: 'BBOT' });
    const config = parseConfig({
      temporal: { taskQueue, webUiUrl: 'http://localhost:8233' },
      gateway: { prices: {} },
      http: { port: 0 },
      repos: { calculator: { url: '/tmp/none.git', github: 'acme/calculator', testCommand: 'true', budget: { minutes: 30, tokens: 1_000_000, usd: 5 } } },
      slack: { apiUrl: fake.apiUrl, defaultRepo: 'calculator', botUserId: 'UBOT', botId: 'BBOT', roles: { calculator: { approver: ['UAPPROVER'] } } },
    });
    const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    const slack = new WebClient(TOKEN, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
    const live = createSlackActivities({ config, slack, logger });
    const acts: Activities & LiveStatusActivities = {
      async scopeTask(req, workflowId) {
        tasks.set(workflowId, req.task);
        return { ok: true, plan };
      },
      prepareWorkspace: async () => ({ path: '/tmp/ws', gitDir: '/tmp/ws.git', baseSha: 'abc' }),
      prepareEnvironment: async () => ({ image: 'img', key: 'k', source: 'default', cached: true, setup: [], seed: [], prepareMs: 1 }),
      warmAgent: async () => ({ warmed: false, reason: 'activity double' }),
      warmTests: async () => ({ warmed: false, reason: 'activity double' }),
      async runTests(input) {
        // Before: failing; attempt 1 fails when the task says "escalate"; any later attempt passes.
        const passed = input.attempt > 0 && !(input.attempt === 1 && tasks.get(input.workflowId)?.includes('escalate'));
        return { passed, exitCode: passed ? 0 : 1, outputTail: passed ? 'OK' : 'FAIL: test_add', failingTests: passed ? [] : ['test_add'], durationMs: 5, command: 'python3 -m unittest', treeSha: 'tree1' };
      },
      runAgent: async (input) => attempt(input.attempt),
      async reviewChanges(input) {
        const risky = tasks.get(input.workflowId)?.includes('risky');
        return {
          files: [{ path: risky ? '.github/workflows/ci.yml' : 'calc.py', status: 'modified', added: 1, removed: 1 }],
          totals: { files: 1, lines: 2 },
          findings: risky ? [{ kind: 'risky_path', path: '.github/workflows/ci.yml', rule: 'built-in: CI workflows' }] : [],
          testChanges: [],
          treeSha: 'tree1',
        } as never;
      },
      deliver: async () => ({ prUrl: 'http://github.test/acme/calculator/pull/7', prNumber: 7, branch: 'nightshift/fix-add', commitSha: 'def', created: true }),
      pushWip: async () => ({ branch: 'nightshift/fix-add-wip', commitSha: 'wip' }),
      async notify(report) {
        if (report.source.kind === 'slack') await postSlackReport(slack, { ...report, source: report.source });
      },
      cleanup: async () => undefined,
      updateLiveStatus: live.updateLiveStatus,
    };
    // The run's side activities (queue slot, ledger, Linear, assessment) as the shared doubles; the
    // messages task queue (notify, the live message) has its own worker, as in production.
    // Workspace affinity: the one worker's host queue is the shared queue itself (its workers poll it).
    const claimHost = async () => ({ hostId: 'test-host', taskQueue, hostGoneTimeoutMs: 5 * 60_000 });
    const all = { ...runSideActivities(temporal.client).acts, ...acts, claimHost };
    worker = await Worker.create({ connection: temporal.nativeConnection, taskQueue, workflowsPath: WORKFLOWS_PATH, activities: all });
    messagesWorker = await Worker.create({ connection: temporal.nativeConnection, taskQueue: messagesTaskQueue(taskQueue), activities: all });
    running = Promise.all([worker.run(), messagesWorker.run()]);
    server = await startWebhookServer({ config, secrets: { slackBotToken: TOKEN, slackSigningSecret: SECRET }, client: temporal.client, logger, slackWebApiRetries: 0 });
    signer = new SlackSigner(SECRET, `${server.url}/slack/events`, () => fake.responseUrl());
  });

  after(async () => {
    try {
      for await (const w of temporal.client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'` })) {
        await temporal.client.workflow.getHandle(w.workflowId).terminate('test teardown').catch(() => undefined);
      }
    } finally {
      worker?.shutdown();
      messagesWorker?.shutdown();
      await running?.catch(() => undefined);
      await server?.close().catch(() => undefined);
      await fake?.close().catch(() => undefined);
      await temporal?.teardown();
    }
  });

  async function until<T>(f: () => T | undefined | Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await f();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** `/nightshift run <task> --now` as U1; returns the workflow id and the root message. */
  async function startRun(task: string, user = 'U1'): Promise<{ id: string; root: FakeMessage }> {
    const before = new Set(fake.messages.map((m) => m.ts));
    assert.equal((await signer.slashCommand({ text: `run ${task} --now`, user, channel: CH })).status, 200);
    const root = await until(() => fake.messages.find((m) => !before.has(m.ts) && m.bot_id && !m.thread_ts), 'the root message');
    return { id: `slack-${CH}-${root.ts}`, root };
  }

  /** The bot's reply in the run's thread that carries the buttons of `blockId`. */
  const replyWith = (root: FakeMessage, blockId: string) =>
    until(() => fake.messages.find((m) => m.thread_ts === root.ts && m.blocks?.some((b) => (b as { block_id?: string }).block_id === blockId)), `a reply with ${blockId}`);

  const click = (user: string, msg: FakeMessage, actionId: string, id: string, retryNum?: number) =>
    signer.blockActions(
      { user, channel: CH, actions: [{ type: 'button', action_id: actionId, block_id: 'b', value: id, action_ts: '1' }], container: { type: 'message', channel_id: CH, message_ts: msg.ts, thread_ts: msg.thread_ts }, message: { type: 'message', ts: msg.ts, thread_ts: msg.thread_ts, text: msg.text, blocks: msg.blocks } },
      retryNum !== undefined ? { retryNum } : {},
    );

  const updatesOf = (ts: string) => fake.callsOf('chat.update').filter((c) => c.args.ts === ts);
  const signals = async (id: string, name: string) =>
    ((await temporal.client.workflow.getHandle(id).fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === name).length;

  it('an escalation answered by the modal: guidance → new attempt → PR; the escalation shows who answered; a later click says the run finished', async () => {
    const { id, root } = await startRun('fix add, escalate first');
    const esc = await replyWith(root, 'nightshift_escalation');
    assert.equal((await click('U1', esc, 'nightshift_guidance', id)).status, 200);
    const opened = await until(() => fake.callsOf('views.open').find((c) => JSON.stringify(c.args.view).includes(id)), 'the modal');
    const view = opened.args.view as Record<string, unknown>;
    const res = await signer.viewSubmission({ user: 'U1', view, values: { nightshift_text: { text: { type: 'plain_text_input', value: 'Add, do not subtract.' } } } });
    assert.equal(res.status, 200);
    const outcome = await runResult(temporal.client, id);
    assert.equal(outcome.kind, 'pr_opened');
    assert.equal(outcome.attempts.length, 2);
    await until(() => updatesOf(esc.ts).some((c) => JSON.stringify(c.args.blocks).includes('<@U1> replied with guidance')), 'the escalation marked');
    assert.ok(!fake.messages.find((m) => m.ts === esc.ts)!.blocks!.some((b) => (b as { type: string }).type === 'actions'), 'its buttons are gone');
    // The root message's final state shows the outcome and the PR; the PR link is also a thread reply.
    const last = updatesOf(root.ts).at(-1)!;
    assert.match(String(last.args.text), /Pull request opened.*pull\/7/);
    assert.ok(JSON.stringify(last.args.blocks).includes('http://localhost:8233/namespaces/default/workflows/'));
    assert.ok(fake.messages.some((m) => m.thread_ts === root.ts && m.text.includes('pull/7')));
    // A button on the finished run says so and sends nothing.
    const n = fake.responses.length;
    await click('U1', esc, 'nightshift_take_over', id);
    const answer = await until(() => fake.responses.slice(n).find((r) => String(r.body.text).includes('already finished')), 'the finished answer');
    assert.equal(answer.body.response_type, 'ephemeral');
    assert.equal(await signals(id, 'humanReply'), 1);
  });

  it('an escalation answered by a thread reply (delivered twice: Slack retry) → PR, one signal', async () => {
    const { id, root } = await startRun('fix add, escalate first');
    await replyWith(root, 'nightshift_escalation');
    const ts = `${Math.floor(Date.now() / 1000)}.000321`;
    const body = signer.eventBody({ type: 'message', channel: CH, user: 'U1', text: 'Look at the + sign in add().', ts, thread_ts: root.ts, event_ts: ts, channel_type: 'channel' }, 'EvTHREAD1');
    assert.equal((await signer.send(body, 'application/json')).status, 200);
    assert.equal((await signer.send(body, 'application/json', { retryNum: 1, retryReason: 'http_timeout' })).status, 200);
    const outcome = await runResult(temporal.client, id);
    assert.equal(outcome.kind, 'pr_opened');
    assert.equal(await signals(id, 'humanReply'), 1);
  });

  it('Take over and Cancel (the live message’s button) end the run; the root message shows it', async () => {
    const a = await startRun('fix add, escalate first');
    const escA = await replyWith(a.root, 'nightshift_escalation');
    await click('U1', escA, 'nightshift_take_over', a.id);
    assert.equal((await runResult(temporal.client, a.id)).kind, 'handed_over');

    const b = await startRun('fix add, escalate first');
    await replyWith(b.root, 'nightshift_escalation');
    const liveRoot = fake.messages.find((m) => m.ts === b.root.ts)!;
    assert.ok(liveRoot.blocks?.some((x) => (x as { block_id?: string }).block_id === 'nightshift_live'), 'the live message has its Cancel button');
    const n = fake.responses.length;
    await click('UOTHER', liveRoot, 'nightshift_cancel', b.id);
    await until(() => fake.responses.slice(n).find((r) => /\*approver\* role/.test(String(r.body.text))), 'the refusal');
    await click('U1', liveRoot, 'nightshift_cancel', b.id);
    const outcome = await runResult(temporal.client, b.id);
    assert.equal(outcome.kind, 'cancelled');
    await until(() => /Cancelled/.test(String(updatesOf(b.root.ts).at(-1)?.args.text)), 'the final state');
    assert.ok(!fake.messages.find((m) => m.ts === b.root.ts)!.blocks!.some((x) => (x as { type: string }).type === 'actions'));
  });

  it('an approval: refused for a requester, approved by an approver → PR', async () => {
    const { id, root } = await startRun('fix add, risky');
    const req = await replyWith(root, 'nightshift_approval');
    assert.match(req.text, /\.github\/workflows\/ci\.yml/);
    const n = fake.responses.length;
    await click('U1', req, 'nightshift_approve', id);
    await until(() => fake.responses.slice(n).find((r) => /\*approver\* role on `calculator`/.test(String(r.body.text))), 'the refusal');
    assert.equal(await signals(id, 'approve'), 0);
    await click('UAPPROVER', req, 'nightshift_approve', id);
    const outcome = await runResult(temporal.client, id);
    assert.equal(outcome.kind, 'pr_opened');
    await until(() => updatesOf(req.ts).some((c) => JSON.stringify(c.args.blocks).includes('<@UAPPROVER> approved the change')), 'the request marked');
  });

  it('an approval rejected (modal with a reason) escalates; cancel typed in the thread ends it', async () => {
    const { id, root } = await startRun('fix add, risky');
    const req = await replyWith(root, 'nightshift_approval');
    await click('UAPPROVER', req, 'nightshift_reject', id);
    const opened = await until(() => fake.callsOf('views.open').find((c) => JSON.stringify(c.args.view).includes(id)), 'the reject modal');
    await signer.viewSubmission({ user: 'UAPPROVER', view: opened.args.view as Record<string, unknown>, values: { nightshift_text: { text: { type: 'plain_text_input', value: 'no CI changes here' } } } });
    const esc = await replyWith(root, 'nightshift_escalation');
    assert.match(esc.text, /rejected the change/);
    const ts = `${Math.floor(Date.now() / 1000)}.000654`;
    await signer.event({ type: 'message', channel: CH, user: 'U1', text: 'cancel', ts, thread_ts: root.ts, event_ts: ts });
    assert.equal((await runResult(temporal.client, id)).kind, 'cancelled');
  });
});
