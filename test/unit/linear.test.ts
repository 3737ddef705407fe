/**
 * activities/linear.ts against FakeLinear, through the real `LinearClient` of `@linear/sdk`.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LinearErrorType } from '@linear/sdk';
import {
  createLinearClient,
  LinearApiError,
  postAgentActivity,
  postIssueComment,
  updateAgentSession,
} from '../../activities/linear.js';
import { FakeLinear } from '../../devstack/linear.js';

const API_KEY = 'lin_api_fake0000000000000000000000000000000000';
const ISSUE = { id: '539068e2-ae88-4d09-bd75-22eb4a59612f', identifier: 'LIN-1778', title: 'Add a --json flag' };

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
}

describe('activities/linear against FakeLinear', () => {
  let fake: FakeLinear;

  before(async () => {
    fake = new FakeLinear({ apiKey: API_KEY, issues: [ISSUE] });
    await fake.start();
  });

  after(async () => {
    await fake.stop();
  });

  it('postIssueComment posts the body and returns the comment id', async () => {
    const client = createLinearClient({ apiKey: API_KEY, apiUrl: fake.apiUrl });
    const body = 'Opened https://github.com/acme/widgets/pull/1\n\n**Tests:** passed';
    const { commentId } = await postIssueComment(client, ISSUE.id, body);
    const recorded = fake.comments.at(-1);
    assert.deepEqual(recorded, { id: commentId, issueId: ISSUE.id, body });
    const request = fake.requests.at(-1);
    assert.equal(request?.field, 'commentCreate');
    assert.equal(request?.headers.authorization, API_KEY);
  });

  it('a bad API key gives a typed, non-retryable authentication error', async () => {
    const client = createLinearClient({ apiKey: 'lin_api_wrong', apiUrl: fake.apiUrl });
    const before = fake.comments.length;
    const err = await rejection(postIssueComment(client, ISSUE.id, 'x'));
    assert.ok(err instanceof LinearApiError);
    assert.equal(err.code, 'LINEAR_FAILED');
    assert.equal(err.reason, LinearErrorType.AuthenticationError);
    assert.equal(err.retryable, false);
    assert.ok(err.cause instanceof Error);
    assert.equal(fake.comments.length, before);
  });

  it('an unknown issue is a non-retryable InvalidInput error', async () => {
    const client = createLinearClient({ apiKey: API_KEY, apiUrl: fake.apiUrl });
    const err = await rejection(postIssueComment(client, 'no-such-issue', 'x'));
    assert.ok(err instanceof LinearApiError);
    assert.equal(err.reason, LinearErrorType.InvalidInput);
    assert.equal(err.retryable, false);
  });

  it('an unreachable API is a retryable network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = createLinearClient({ apiKey: API_KEY, apiUrl: `http://127.0.0.1:${port}/graphql` });
    const err = await rejection(postIssueComment(client, ISSUE.id, 'x'));
    assert.ok(err instanceof LinearApiError);
    assert.equal(err.reason, 'Network');
    assert.equal(err.retryable, true);
  });

  it('postAgentActivity records the activity content', async () => {
    const client = createLinearClient({ apiKey: API_KEY, apiUrl: fake.apiUrl });
    const { activityId } = await postAgentActivity(client, 'session-1', { type: 'thought', body: 'Scoping the task' }, { ephemeral: true });
    assert.deepEqual(fake.activities.at(-1), {
      id: activityId,
      agentSessionId: 'session-1',
      content: { type: 'thought', body: 'Scoping the task' },
      ephemeral: true,
    });
    await postAgentActivity(client, 'session-1', { type: 'action', action: 'Running tests', parameter: 'npm test', result: 'passed' });
    assert.equal(fake.activities.at(-1)?.content.action, 'Running tests');
  });

  it('updateAgentSession records the external URL', async () => {
    const client = createLinearClient({ apiKey: API_KEY, apiUrl: fake.apiUrl });
    await updateAgentSession(client, 'session-1', { externalUrls: [{ label: 'Pull request', url: 'https://github.com/acme/widgets/pull/1' }] });
    assert.deepEqual(fake.sessionUpdates.at(-1), {
      id: 'session-1',
      input: { externalUrls: [{ label: 'Pull request', url: 'https://github.com/acme/widgets/pull/1' }] },
    });
  });

  it('the SDK parses the fake issue(id) answer into its Issue model', async () => {
    const client = createLinearClient({ apiKey: API_KEY, apiUrl: fake.apiUrl });
    const issue = await client.issue(ISSUE.identifier);
    assert.equal(issue.id, ISSUE.id);
    assert.equal(issue.identifier, 'LIN-1778');
    assert.equal(issue.title, ISSUE.title);
    assert.ok(issue.createdAt instanceof Date);
  });

  it('the SDK reads the viewer (the API key user)', async () => {
    const client = createLinearClient({ apiKey: API_KEY, apiUrl: fake.apiUrl });
    const viewer = await client.viewer;
    assert.equal(viewer.id, 'user-nightshift-app');
  });

  it('every document the SDK sent validated against Linear\'s schema', () => {
    assert.equal(fake.schemaValidation, 'on');
    assert.ok(fake.requests.length >= 8);
    fake.assertNoInvalidRequests();
  });
});
