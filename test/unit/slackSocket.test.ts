/**
 * Slack over Socket Mode (`slack.mode: socket`): the app asks the configured Web API URL for its
 * socket (`apps.connections.open`, with the app-level token), connects, and answers the same
 * commands and mentions as over HTTP, each envelope acknowledged within Slack's 3 s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { App } from '@slack/bolt';
import { pino } from 'pino';
import { buildSlackApp } from '../../bots/slack/app.js';
import { FakeSlack } from '../../devstack/slack.js';
import { FakeSlackSocket } from '../../devstack/slackSocket.js';
import { parseConfig } from '../../worker/config.js';
import { RecordingRuns } from '../helpers/recordingRuns.js';

const TOKEN = 'xoxb-socket-test';
const APP_TOKEN = 'xapp-1-socket-test';
const BOT = 'UBOTNIGHT';
const CH = 'C0SOCKET';

describe('Slack Socket Mode', { timeout: 60_000 }, () => {
  let fake: FakeSlack;
  let socket: FakeSlackSocket;
  let app: App;
  const runs = new RecordingRuns();

  before(async () => {
    socket = await FakeSlackSocket.start();
    fake = await FakeSlack.start({ token: TOKEN, botUserId: BOT, botId: 'BBOTNIGHT', socket: { appToken: APP_TOKEN, url: socket.url } });
    const config = parseConfig({
      gateway: { prices: {} },
      repos: { api: { url: '/tmp/x.git', github: 'acme/api', testCommand: 'true', budget: { minutes: 30, tokens: 1_000_000, usd: 5 } } },
      slack: { mode: 'socket', apiUrl: fake.apiUrl, channels: { [CH]: { repo: 'api' } }, botUserId: BOT, botId: 'BBOTNIGHT' },
    });
    app = buildSlackApp({ config, secrets: { slackBotToken: TOKEN, slackAppToken: APP_TOKEN }, logger: pino({ level: 'silent' }), runs, webApiRetries: 0 }).app;
    await app.start();
    await socket.connected();
  });
  after(async () => {
    await app?.stop();
    await socket?.close();
    await fake?.close();
  });

  it('asks the configured API for its socket with the app token, not the bot token', () => {
    const opens = fake.callsOf('apps.connections.open');
    assert.equal(opens.length, 1);
  });

  it('/nightshift run over the socket: acked within 3 s, root message posted, run started with its ts', async () => {
    const ack = await socket.send('slash_commands', {
      token: 'verification-token-unused',
      team_id: 'T0FAKE',
      channel_id: CH,
      channel_name: 'nightshift',
      user_id: 'U0ENGINEER',
      user_name: 'eng',
      command: '/nightshift',
      text: 'run Fix add() so that test_add passes',
      response_url: fake.responseUrl(),
      trigger_id: '1.2.3',
    });
    assert.ok(ack.ms < 3000, `acked in ${ack.ms} ms`);
    const end = Date.now() + 5000;
    while (runs.started.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(runs.started.length, 1);
    const root = fake.callsOf('chat.postMessage').at(-1);
    assert.ok(root, 'a root message was posted');
    const { workflowId, req } = runs.started[0]!;
    assert.match(workflowId, new RegExp(`^slack-${CH}-\\d+\\.\\d+$`));
    assert.equal(req.repo, 'api');
    assert.equal(req.source.kind, 'slack');
  });

  it('an @mention arrives as an events_api envelope and starts a run', async () => {
    const before = runs.started.length;
    const ack = await socket.send('events_api', {
      token: 'unused',
      team_id: 'T0FAKE',
      api_app_id: 'A0NIGHTSHIFT',
      type: 'event_callback',
      event_id: 'Ev0SOCKET1',
      event_time: Math.floor(Date.now() / 1000),
      event: { type: 'app_mention', user: 'U0ENGINEER', text: `<@${BOT}> Fix mul() for negative numbers`, ts: '1790000000.000100', channel: CH, event_ts: '1790000000.000100' },
    }, { retry_attempt: 0, retry_reason: '' });
    assert.ok(ack.ms < 3000);
    const end = Date.now() + 5000;
    while (runs.started.length === before && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.equal(runs.started.length, before + 1);
    assert.match(runs.started.at(-1)!.req.task, /Fix mul\(\) for negative numbers/);

    // Slack's retry of the same event (retry_attempt 1) is acknowledged and starts nothing.
    const retried = await socket.send('events_api', {
      type: 'event_callback',
      event_id: 'Ev0SOCKET1',
      event: { type: 'app_mention', user: 'U0ENGINEER', text: `<@${BOT}> Fix mul() for negative numbers`, ts: '1790000000.000100', channel: CH, event_ts: '1790000000.000100' },
    }, { retry_attempt: 1, retry_reason: 'timeout' });
    assert.ok(retried.ms < 3000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(runs.started.length, before + 1);
  });
});
