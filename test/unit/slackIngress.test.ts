/**
 * Slack ingress over real loopback HTTP: Bolt's HTTPReceiver (our one server) with the Slack app,
 * requests signed at send time from the real payloads (devstack/fixtures/slack), the Web API
 * answered by FakeSlack. Temporal is replaced by a recording RunsPort here (the integration test
 * uses the real dev server).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { isValidSlackRequest } from '@slack/bolt';
import { pino } from 'pino';
import { createReceiver, listen } from '../../bots/http.js';
import { buildSlackApp } from '../../bots/slack/app.js';
import type { RunsPort } from '../../bots/slack/runs.js';
import { PICK_REPO_ACTION } from '../../bots/slack/views/repoPicker.js';
import { parseConfig, type Config } from '../../worker/config.js';
import { devstackFixture } from '../../devstack/paths.js';
import { FakeSlack } from '../../devstack/slack.js';
import { SlackSigner } from '../../devstack/slackSigner.js';
import { RecordingRuns } from '../helpers/recordingRuns.js';

const SECRET = 'slack-signing-secret-for-tests-0123';
const TOKEN = 'xoxb-test-token';
const BOT = 'UBOTNIGHT';
const CH = 'C0DEFAULT';
const CH_NOREPO = 'C0NOREPO';

const repo = (github: string) => ({ url: '/tmp/x.git', github, testCommand: 'true', budget: { minutes: 30, tokens: 1_000_000, usd: 5 }, maxBudget: { minutes: 120, tokens: 5_000_000, usd: 20 } });

function config(apiUrl: string): Config {
  return parseConfig({
    gateway: { prices: {} },
    repos: { api: { ...repo('acme/api'), window: { startHourUtc: 1, endHourUtc: 5 } }, web: repo('acme/web'), locked: repo('acme/locked') },
    slack: {
      apiUrl,
      channels: { [CH]: { repo: 'api' } },
      botUserId: BOT,
      botId: 'BBOTNIGHT',
      roles: { api: { approver: ['UAPPROVER', 'SAPPROVERS'] }, locked: { requester: ['UALLOWED'] } },
    },
  });
}

describe('Slack ingress (Bolt receiver, signed requests, FakeSlack)', () => {
  let fake: FakeSlack;
  let server: Server;
  let signer: SlackSigner;
  let runs: RunsPort & RecordingRuns;

  before(async () => {
    fake = await FakeSlack.start({ token: TOKEN, botUserId: BOT, botId: 'BBOTNIGHT', usergroups: { SAPPROVERS: ['UGROUPMEMBER'] } });
    runs = new RecordingRuns();
    const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    const { receiver, server: s } = createReceiver({}, { logger, slackSigningSecret: SECRET });
    server = s;
    buildSlackApp({ config: config(fake.apiUrl), secrets: { slackBotToken: TOKEN }, logger, runs, receiver, webApiRetries: 0 });
    const url = await listen(server, 0);
    signer = new SlackSigner(SECRET, `${url}/slack/events`, () => fake.responseUrl());
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await fake.close();
  });
  beforeEach(() => {
    runs.started = [];
    runs.cancelled = [];
    runs.startDelayMs = 0;
    fake.calls.length = 0;
    fake.responses.length = 0;
  });

  /** Waits until `pred` holds (handlers work after the ack). */
  async function until(pred: () => boolean, what: string, ms = 5_000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: started ${runs.started.length}, calls ${JSON.stringify(fake.calls.map((c) => [c.method, c.outcome]))}, responses ${JSON.stringify(fake.responses)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const lastResponseText = (): string => String(fake.responses.at(-1)?.body.text ?? '');

  it("Slack's worked example signature verifies with Bolt's verifier; one changed byte does not", () => {
    const body = readFileSync(devstackFixture('slack', 'slash-command.slack-docs-signing-example.body.txt'), 'utf8');
    const opts = {
      signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
      body,
      headers: { 'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503', 'x-slack-request-timestamp': 1531420618 },
      nowMilliseconds: 1531420618 * 1000 + 10_000,
    };
    assert.equal(isValidSlackRequest(opts), true);
    assert.equal(isValidSlackRequest({ ...opts, body: body.replace('roadrunner', 'roadrunnes') }), false);
  });

  it('real payloads pass verification: url_verification echoes the challenge, the real slash-command body is acked', async () => {
    const challenge = readFileSync(devstackFixture('slack', 'url-verification.slack-docs.json'), 'utf8');
    const res = await signer.send(challenge, 'application/json');
    assert.equal(res.status, 200);
    assert.match(res.text, /3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P/);
    // bolt-python's slash command, verbatim but for the command name (ours is /nightshift): text "Hi" is an unknown subcommand.
    const raw = readFileSync(devstackFixture('slack', 'slash-command.bolt-python.body.txt'), 'utf8').replace('%2Fhello-world', '%2Fnightshift');
    const cmd = await signer.send(raw, 'application/x-www-form-urlencoded');
    assert.equal(cmd.status, 200);
    assert.match(cmd.text, /Unknown subcommand `Hi`/);
  });

  it('a bad or stale signature is 401 and starts nothing', async () => {
    const forged = await signer.slashCommand({ text: 'run fix the flaky test', user: 'U1', channel: CH }, { secret: 'not-the-secret' });
    assert.equal(forged.status, 401);
    const stale = await signer.slashCommand({ text: 'run fix the flaky test', user: 'U1', channel: CH }, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    assert.equal(stale.status, 401);
    const mention = await signer.event({ type: 'app_mention', user: 'U1', text: `<@${BOT}> fix it`, ts: '1712345678.000100', channel: CH, event_ts: '1712345678.000100' }, { secret: 'x' });
    assert.equal(mention.status, 401);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(runs.started.length, 0);
    assert.equal(fake.calls.length, 0);
  });

  it('run: posts the root message, starts slack-<channel>-<root ts> with the channel repo and overrides', async () => {
    const res = await signer.slashCommand({ text: 'run Fix the flaky login test --agent codex --now', user: 'U1', channel: CH });
    assert.equal(res.status, 200);
    await until(() => runs.started.length === 1 && fake.responses.length === 1, 'the start');
    const [post] = fake.callsOf('chat.postMessage');
    const ts = fake.messages.find((m) => m.channel === CH && m.bot_id)?.ts;
    assert.equal(post?.args.channel, CH);
    assert.equal(runs.started[0]?.workflowId, `slack-${CH}-${ts}`);
    assert.deepEqual(runs.started[0]?.req, {
      source: { kind: 'slack', channel: CH, threadTs: ts },
      requester: 'U1',
      repo: 'api',
      title: 'Fix the flaky login test',
      task: 'Fix the flaky login test',
      overrides: { agent: 'codex', now: true },
    });
    assert.equal(fake.responses[0]?.body.response_type, 'ephemeral');
  });

  it('run: the ack comes within 3 s while Temporal is slow', async () => {
    runs.startDelayMs = 4_000;
    const t0 = Date.now();
    const res = await signer.slashCommand({ text: 'run web tidy the README', user: 'U1', channel: CH });
    assert.equal(res.status, 200);
    assert.ok(Date.now() - t0 < 3_000, `acked after ${Date.now() - t0} ms`);
    await until(() => runs.started.length === 1, 'the slow start', 8_000);
    assert.equal(runs.started[0]?.req.repo, 'web');
  });

  it('bad input is answered in the ack with the problem and the correct form; nothing starts', async () => {
    for (const [text, expected] of [
      ['run', /The task is missing\. Use `\/nightshift run \[repo\]/],
      ['run fix it --usd lots', /`--usd` must be a positive number/],
      ['run fix it --frobnicate', /Unknown option `--frobnicate`/],
      ['cancel', /`cancel` needs exactly one run id/],
      ['deploy prod', /Unknown subcommand `deploy`/],
      ['run acme/nosuch fix it', /Unknown repository `acme\/nosuch`/],
    ] as const) {
      const res = await signer.slashCommand({ text, user: 'U1', channel: CH });
      assert.equal(res.status, 200, text);
      const body = JSON.parse(res.text) as { response_type: string; text: string };
      assert.equal(body.response_type, 'ephemeral');
      assert.match(body.text, expected);
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(runs.started.length, 0);
    assert.equal(fake.callsOf('chat.postMessage').length, 0);
  });

  it('no repo anywhere: a repo picker; picking starts the run', async () => {
    await signer.slashCommand({ text: 'run add a health check', user: 'U2', channel: CH_NOREPO });
    await until(() => fake.responses.length === 1, 'the picker');
    const blocks = fake.responses[0]?.body.blocks as { type: string; block_id?: string; elements?: { action_id: string }[] }[];
    const actions = blocks.find((b) => b.type === 'actions');
    assert.equal(actions?.elements?.[0]?.action_id, PICK_REPO_ACTION);
    assert.equal(runs.started.length, 0);
    const pick = await signer.blockActions({
      user: 'U2',
      channel: CH_NOREPO,
      actions: [{ type: 'static_select', action_id: PICK_REPO_ACTION, block_id: actions?.block_id, selected_option: { text: { type: 'plain_text', text: 'web' }, value: 'web' }, action_ts: '1.2' }],
    });
    assert.equal(pick.status, 200);
    await until(() => runs.started.length === 1, 'the picked run');
    assert.equal(runs.started[0]?.req.repo, 'web');
    assert.equal(runs.started[0]?.req.source.kind, 'slack');
  });

  it('roles: a budget above the repo budget needs an approver (named or via a user group); a restricted repo refuses others', async () => {
    await signer.slashCommand({ text: 'run api fix it --usd 12', user: 'U1', channel: CH });
    await until(() => fake.responses.length === 1, 'the refusal');
    assert.match(lastResponseText(), /need the \*approver\* role on `api`/);
    await signer.slashCommand({ text: 'run locked fix it', user: 'U1', channel: CH });
    await until(() => fake.responses.length === 2, 'the second refusal');
    assert.match(lastResponseText(), /need the \*requester\* role on `locked`/);
    assert.equal(runs.started.length, 0);
    await signer.slashCommand({ text: 'run api fix it --usd 12 --minutes 60', user: 'UGROUPMEMBER', channel: CH });
    await until(() => runs.started.length === 1, 'the approver run');
    assert.deepEqual(runs.started[0]?.req.overrides, { budget: { usd: 12, wallClockMs: 3_600_000 } });
    assert.equal(fake.callsOf('usergroups.users.list')[0]?.args.usergroup, 'SAPPROVERS');
  });

  it('status (last run), queue and help answer ephemerally; cancel by another requester is refused, by the requester sent', async () => {
    await signer.slashCommand({ text: 'run web fix it', user: 'U3', channel: CH });
    await until(() => runs.started.length === 1 && fake.responses.length === 1, 'the run');
    const id = runs.started[0]?.workflowId ?? '';
    await signer.slashCommand({ text: 'status', user: 'U3', channel: CH });
    await until(() => fake.responses.length === 2, 'status');
    assert.match(lastResponseText(), new RegExp(`${id.replace(/\./g, '\\.')}.*on \`web\``));
    assert.match(lastResponseText(), /waiting for window/);
    await signer.slashCommand({ text: 'queue', user: 'U3', channel: CH });
    await until(() => fake.responses.length === 3, 'queue');
    assert.match(lastResponseText(), /\*Waiting\* \(1\)/);
    assert.match(lastResponseText(), /`api`: 01:00–05:00 UTC/);
    const help = await signer.slashCommand({ text: 'help', user: 'U3', channel: CH });
    assert.equal(help.status, 200);
    await until(() => fake.responses.length === 4, 'help');
    assert.match(lastResponseText(), /\/nightshift run \[repo\]/);
    await signer.slashCommand({ text: `cancel ${id}`, user: 'U4', channel: CH });
    await until(() => fake.responses.length === 5, 'refused cancel');
    assert.match(lastResponseText(), /need the \*approver\* role on `web`/);
    assert.equal(runs.cancelled.length, 0);
    await signer.slashCommand({ text: `cancel ${id}`, user: 'U3', channel: CH });
    await until(() => runs.cancelled.length === 1, 'cancel');
    assert.deepEqual(runs.cancelled[0], { workflowId: id, by: 'U3' });
  });

  it('@mention in a thread: earlier messages become context, the run reports in that thread; a retry and a bot message start nothing', async () => {
    const root = fake.addMessage({ channel: CH, user: 'U5', text: 'Login fails with a 500 since Tuesday' });
    fake.addMessage({ channel: CH, user: 'U6', text: 'Stack trace points at session.ts', thread_ts: root.ts });
    const mentionTs = `${Number(root.ts.split('.')[0]) + 10}.000900`;
    const event = { type: 'app_mention', user: 'U5', text: `<@${BOT}> please fix this`, ts: mentionTs, thread_ts: root.ts, channel: CH, event_ts: mentionTs };
    const body = signer.eventBody(event, 'EvMENTION1');
    assert.equal((await signer.send(body, 'application/json')).status, 200);
    await until(() => runs.started.length === 1 && fake.callsOf('chat.postMessage').length === 1, 'the mention run');
    const started = runs.started[0];
    assert.equal(started?.workflowId, `slack-${CH}-${mentionTs}`);
    const first = fake.callsOf('chat.postMessage')[0];
    assert.ok(first && fake.messages.some((m) => m.thread_ts === root.ts && m.bot_id), 'the first reply is posted before the run starts');
    const firstTs = fake.messages.find((m) => m.thread_ts === root.ts && m.bot_id)?.ts;
    assert.deepEqual(started?.req.source, { kind: 'slack', channel: CH, threadTs: root.ts, statusTs: firstTs });
    assert.match(started?.req.task ?? '', /^please fix this\n\nEarlier messages in the Slack thread \(context\):\n<@U5>: Login fails with a 500 since Tuesday\n<@U6>: Stack trace points at session\.ts$/);
    assert.equal(fake.callsOf('chat.postMessage')[0]?.args.thread_ts, root.ts);
    // Slack redelivers the same event (X-Slack-Retry-Num): acked, nothing twice.
    assert.equal((await signer.send(body, 'application/json', { retryNum: 1 })).status, 200);
    // A bot's mention: nothing.
    await signer.event({ ...event, ts: '1999999999.000001', bot_id: 'BOTHER', user: 'UOTHERBOT' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(runs.started.length, 1);
    assert.equal(fake.callsOf('chat.postMessage').length, 1);
  });
});
