/**
 * A retried `notify` (its first try posted, then the answer was lost: a timeout, a worker crash)
 * posts nothing twice: the workflow gives each report an id, which Linear gets as the comment /
 * agent activity id and Slack as message metadata; a retry looks it up first. Against the Linear
 * and Slack stand-ins, through the real @linear/sdk and WebClient.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import Docker from 'dockerode';
import { WebClient } from '@slack/web-api';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities/index.js';
import { createOctokit } from '../../activities/github.js';
import { createLinearClient } from '../../activities/linear.js';
import type { GatewayPort } from '../../activities/runAgent.js';
import { SandboxManager } from '../../activities/sandbox.js';
import { FakeLinear } from '../../devstack/linear.js';
import { FakeSlack } from '../../devstack/slack.js';
import type { Report } from '../../workflows/activityTypes.js';
import { parseConfig } from '../../worker/config.js';
import { createRootLogger } from '../../worker/logger.js';

const logger = createRootLogger('silent');
const config = parseConfig({ gateway: { prices: {} }, repos: { r: { url: 'x', github: 'a/b', testCommand: 't', budget: { minutes: 1, tokens: 1, usd: 1 } } } });
let linear: FakeLinear;
let slack: FakeSlack;
let acts: ReturnType<typeof createActivities>;

before(async () => {
  linear = new FakeLinear({ apiKey: 'lin_api_idem', issues: [{ id: 'issue-1', identifier: 'ENG-1', title: 'A task' }] });
  await linear.start();
  slack = await FakeSlack.start({ token: 'xoxb-idem' });
  acts = createActivities({
    config,
    secrets: {},
    sandbox: new SandboxManager(new Docker(), config.sandbox, logger),
    gateway: {} as GatewayPort,
    gatewayUrl: 'http://unused',
    octokit: createOctokit({ token: '' }),
    linear: createLinearClient({ apiKey: 'lin_api_idem', apiUrl: linear.apiUrl }),
    slack: new WebClient('xoxb-idem', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }),
    logger,
  });
});
after(async () => {
  await linear.stop();
  await slack.close();
});

const report = (source: Report['source'], reportId: string): Report => ({
  workflowId: 'wf-idem',
  source,
  kind: 'escalation',
  markdown: '### Needs a human',
  mrkdwn: '*Needs a human*',
  reportId,
});
const first = () => new MockActivityEnvironment({ attempt: 1 });
const retry = () => new MockActivityEnvironment({ attempt: 2 });

test('Linear comment: the retry finds the comment by its id and posts nothing; another report posts', async () => {
  const id = randomUUID();
  await first().run(acts.notify, report({ kind: 'linear', issueId: 'issue-1' }, id));
  await retry().run(acts.notify, report({ kind: 'linear', issueId: 'issue-1' }, id));
  assert.deepEqual(linear.comments.filter((c) => c.id === id).length, 1);
  assert.equal(linear.comments.length, 1);
  // A retry whose first try never reached Linear does post (with the same id).
  const lost = randomUUID();
  await retry().run(acts.notify, report({ kind: 'linear', issueId: 'issue-1' }, lost));
  assert.equal(linear.comments.length, 2);
  assert.equal(linear.comments.at(-1)!.id, lost);
});

test('Linear agent session: the same for agent activities', async () => {
  const id = randomUUID();
  const src: Report['source'] = { kind: 'linear', issueId: 'issue-1', agentSessionId: 'session-9' };
  await first().run(acts.notify, report(src, id));
  await retry().run(acts.notify, report(src, id));
  assert.equal(linear.activities.filter((a) => a.id === id).length, 1);
});

test('Slack thread: the report carries its id as metadata; the retry finds it in the thread and posts nothing', async () => {
  const root = slack.addMessage({ channel: 'C1', text: 'Nightshift run', user: 'UBOTNIGHT', bot_id: 'BBOTNIGHT' });
  const id = randomUUID();
  const src: Report['source'] = { kind: 'slack', channel: 'C1', threadTs: root.ts };
  await first().run(acts.notify, report(src, id));
  await retry().run(acts.notify, report(src, id));
  const replies = slack.messages.filter((m) => m.thread_ts === root.ts);
  assert.equal(replies.length, 1);
  assert.deepEqual(replies[0]!.metadata, { event_type: 'nightshift_report', event_payload: { report_id: id, workflow_id: 'wf-idem' } });
  await retry().run(acts.notify, report(src, randomUUID()));
  assert.equal(slack.messages.filter((m) => m.thread_ts === root.ts).length, 2);
});

test('every request sent to Linear validated against its schema', () => {
  assert.equal(linear.schemaValidation, 'on');
  linear.assertNoInvalidRequests();
});
