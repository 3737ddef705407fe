/**
 * The `notify` activity: every origin gets its message. Linear (issue comment, or agent-session
 * activity) through the real @linear/sdk against the Linear stand-in; Slack through the real
 * WebClient against a local `chat.postMessage` endpoint; CLI runs log it. A missing credential is
 * a typed, non-retryable failure, never a silent success.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import Docker from 'dockerode';
import { WebClient } from '@slack/web-api';
import { ApplicationFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { createOctokit } from '../../activities/github.js';
import { createLinearClient } from '../../activities/linear.js';
import { SandboxManager } from '../../activities/sandbox.js';
import type { Report } from '../../workflows/activityTypes.js';
import { parseConfig } from '../../worker/config.js';
import { createRootLogger } from '../../worker/logger.js';
import type { GatewayPort } from '../../activities/runAgent.js';
import { FakeLinear } from '../../devstack/linear.js';

const logger = createRootLogger('silent');
const config = parseConfig({ gateway: { prices: {} }, repos: { r: { url: 'x', github: 'a/b', testCommand: 't', budget: { minutes: 1, tokens: 1, usd: 1 } } } });
const noGateway = {} as GatewayPort;
let linear: FakeLinear;
let slackServer: Server;
let slackUrl: string;
const slackPosts: URLSearchParams[] = [];

before(async () => {
  linear = new FakeLinear({ apiKey: 'lin_api_notify', issues: [{ id: 'issue-1', identifier: 'ENG-1', title: 'A task' }] });
  await linear.start();
  // Slack Web API: https://api.slack.com/methods/chat.postMessage (form-encoded, answers {ok, channel, ts}).
  slackServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const ok = req.url === '/api/chat.postMessage' && req.headers.authorization === 'Bearer xoxb-notify';
      if (ok) slackPosts.push(new URLSearchParams(body));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { ok: true, channel: 'C1', ts: '1700000000.000200' } : { ok: false, error: 'invalid_auth' }));
    });
  });
  await new Promise<void>((r) => slackServer.listen(0, '127.0.0.1', r));
  slackUrl = `http://127.0.0.1:${(slackServer.address() as AddressInfo).port}/api/`;
});
after(async () => {
  await linear.stop();
  slackServer.close();
});

function activities(over: Partial<ActivityDeps> = {}) {
  return createActivities({
    config,
    secrets: {},
    sandbox: new SandboxManager(new Docker(), config.sandbox, logger),
    gateway: noGateway,
    gatewayUrl: 'http://unused',
    octokit: createOctokit({ token: '' }),
    logger,
    ...over,
  });
}

const report = (source: Report['source'], kind: Report['kind'] = 'pr_opened'): Report => ({
  workflowId: 'wf-1',
  source,
  kind,
  markdown: '### Pull request opened: A task\n**Pull request:** [#1](https://example.test/pr/1)',
  mrkdwn: '*Pull request opened:* <https://example.test/pr/1|#1>',
});

test('Linear issue: a comment with the Markdown report', async () => {
  const acts = activities({ linear: createLinearClient({ apiKey: 'lin_api_notify', apiUrl: linear.apiUrl }) });
  await new MockActivityEnvironment().run(acts.notify, report({ kind: 'linear', issueId: 'issue-1' }));
  const c = linear.comments.at(-1)!;
  assert.equal(c.issueId, 'issue-1');
  assert.match(c.body, /^### Pull request opened: A task/);
});

test('Linear agent session: an activity of the matching type (escalation → elicitation)', async () => {
  const acts = activities({ linear: createLinearClient({ apiKey: 'lin_api_notify', apiUrl: linear.apiUrl }) });
  await new MockActivityEnvironment().run(acts.notify, report({ kind: 'linear', issueId: 'issue-1', agentSessionId: 'session-1' }, 'escalation'));
  const a = linear.activities.at(-1)!;
  assert.equal(a.agentSessionId, 'session-1');
  assert.equal((a.content as { type: string }).type, 'elicitation');
});

test('Slack thread: chat.postMessage in the thread with the mrkdwn report', async () => {
  const seen: Report[] = [];
  const acts = activities({ slack: new WebClient('xoxb-notify', { slackApiUrl: slackUrl, retryConfig: { retries: 0 } }), onReport: (r) => seen.push(r) });
  await new MockActivityEnvironment().run(acts.notify, report({ kind: 'slack', channel: 'C1', threadTs: '1700000000.000100' }));
  const p = slackPosts.at(-1)!;
  assert.equal(p.get('channel'), 'C1');
  assert.equal(p.get('thread_ts'), '1700000000.000100');
  assert.equal(p.get('text'), '*Pull request opened:* <https://example.test/pr/1|#1>');
  assert.equal(seen.length, 1);
});

test('a rejected Slack token is a retryable SLACK_FAILED, not a silent success', async () => {
  const acts = activities({ slack: new WebClient('xoxb-wrong', { slackApiUrl: slackUrl, retryConfig: { retries: 0 } }) });
  await assert.rejects(new MockActivityEnvironment().run(acts.notify, report({ kind: 'slack', channel: 'C1', threadTs: '1.2' })), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'SLACK_FAILED');
    assert.equal(err.nonRetryable, false);
    return true;
  });
});

test('no credential for the origin: NOTIFY_UNCONFIGURED, not retryable', async () => {
  const acts = activities();
  for (const source of [{ kind: 'linear' as const, issueId: 'issue-1' }, { kind: 'slack' as const, channel: 'C1', threadTs: '1.2' }]) {
    await assert.rejects(new MockActivityEnvironment().run(acts.notify, report(source)), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'NOTIFY_UNCONFIGURED');
      assert.equal(err.nonRetryable, true);
      return true;
    });
  }
});

test('CLI runs: the report is logged and handed to onReport (the status query holds it)', async () => {
  const seen: Report[] = [];
  const acts = activities({ onReport: (r) => seen.push(r) });
  await new MockActivityEnvironment().run(acts.notify, report({ kind: 'cli' }));
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.kind, 'pr_opened');
});

test('Linear rate-limited: notify fails retryable with nextRetryDelay = Retry-After, so Temporal waits it out', async () => {
  const acts = activities({ linear: createLinearClient({ apiKey: 'lin_api_notify', apiUrl: linear.apiUrl }) });
  linear.rateLimitNext(1, 1);
  const before = linear.activities.length;
  await assert.rejects(new MockActivityEnvironment().run(acts.notify, report({ kind: 'linear', issueId: 'issue-1', agentSessionId: 'session-1' }, 'escalation')), (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure);
    assert.equal(err.type, 'LINEAR_FAILED');
    assert.equal(err.nonRetryable, false);
    assert.equal(err.nextRetryDelay, 1000);
    assert.equal((err.details?.[0] as { retryAfterMs?: number }).retryAfterMs, 1000);
    return true;
  });
  assert.equal(linear.activities.length, before);
});

test('every request sent to Linear validated against its schema', () => {
  assert.equal(linear.schemaValidation, 'on');
  linear.assertNoInvalidRequests();
});
