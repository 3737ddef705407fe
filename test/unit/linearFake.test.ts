/**
 * The Linear stand-in checks every request against Linear's published schema, through the real
 * `@linear/sdk` client: invalid documents and bad variables are caught and recorded; every
 * operation our client layer sends validates; rate-limit answers reach us as a retryable typed
 * error with the wait Linear asked for; permission errors on a state move are a result.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LinearErrorType } from '@linear/sdk';
import {
  createLinearClient,
  deterministicId,
  getUserAccess,
  isTeamMember,
  LinearApiError,
  linearEntityExists,
  moveIssueToState,
  postAgentActivity,
  postIssueComment,
  updateAgentSession,
} from '../../activities/linear.js';
import { defaultStates, FakeLinear } from '../../devstack/linear.js';

const API_KEY = 'lin_api_fakeschema000000000000000000000000000';
const TEAM = { id: 'team-eng', key: 'ENG', states: defaultStates('eng'), memberIds: ['user-pm'] };
const ISSUE = { id: '0c6f7e0e-2f4b-4a53-9b0e-5d7c2a1e9f10', identifier: 'ENG-42', title: 'Fix add()', teamId: 'team-eng', stateId: 'eng-todo' };

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
}

describe('FakeLinear validates against schema.graphql', () => {
  let fake: FakeLinear;
  // Its own budget sizing does not matter here; a unique key keeps it apart from other files' clients.
  const client = () => createLinearClient({ apiKey: API_KEY, apiUrl: fake.apiUrl });

  before(async () => {
    fake = new FakeLinear({ apiKey: API_KEY, issues: [ISSUE], teams: [TEAM], users: [{ id: 'user-pm', name: 'Pat PM' }, { id: 'user-outsider' }, { id: 'user-guest', guest: true }, { id: 'user-bot', app: true }] });
    await fake.start();
  });
  after(async () => {
    await fake.stop();
  });

  it('validation is on when the schema file is there', () => {
    assert.equal(fake.schemaValidation, 'on');
  });

  it('every operation the client layer sends validates, and is answered from the fake state', async () => {
    const c = client();
    const commentId = deterministicId('wf-1', 'comment', 1);
    await postIssueComment(c, ISSUE.id, 'Escalated: what I tried…', commentId);
    await postIssueComment(c, ISSUE.id, 'A reply in the thread', undefined, { parentId: commentId });
    assert.equal(fake.comments.at(-1)?.parentId, commentId);
    assert.equal(await linearEntityExists(c, 'comment', commentId), true);
    const activityId = deterministicId('wf-1', 'question', 1);
    await postAgentActivity(c, 'session-1', { type: 'elicitation', body: 'Which repository?' }, {
      id: activityId,
      signal: { signal: 'select', signalMetadata: { options: [{ value: 'acme/api' }, { value: 'acme/web' }] } },
    });
    assert.deepEqual(fake.activities.at(-1), {
      id: activityId,
      agentSessionId: 'session-1',
      content: { type: 'elicitation', body: 'Which repository?' },
      signal: 'select',
      signalMetadata: { options: [{ value: 'acme/api' }, { value: 'acme/web' }] },
    });
    assert.equal(await linearEntityExists(c, 'agentActivity', activityId), true);
    const plan = [
      { content: 'Scope', status: 'completed' as const },
      { content: 'Attempt 1', status: 'inProgress' as const },
      { content: 'Delivery', status: 'pending' as const },
    ];
    await updateAgentSession(c, 'session-1', { plan, externalUrls: [{ label: 'Run', url: 'http://localhost:8233/namespaces/default/workflows/wf-1' }] });
    await updateAgentSession(c, 'session-1', { addedExternalUrls: [{ label: 'Pull request', url: 'https://github.com/acme/api/pull/7' }] });
    assert.deepEqual(fake.sessionUpdates.at(-2)?.input.plan, plan);
    assert.deepEqual(fake.sessionUpdates.at(-1)?.input, { addedExternalUrls: [{ label: 'Pull request', url: 'https://github.com/acme/api/pull/7' }] });

    assert.deepEqual(await moveIssueToState(c, ISSUE.id, { kind: 'started' }), { moved: true, stateId: 'eng-in-progress', stateName: 'In Progress' });
    assert.equal(fake.issue(ISSUE.id)?.stateId, 'eng-in-progress');
    assert.deepEqual(await moveIssueToState(c, ISSUE.identifier, { kind: 'started' }), { moved: false, reason: 'already', stateName: 'In Progress' });
    assert.deepEqual(await moveIssueToState(c, ISSUE.id, { kind: 'named', name: 'in review' }), { moved: true, stateId: 'eng-in-review', stateName: 'In Review' });
    assert.deepEqual(await moveIssueToState(c, ISSUE.id, { kind: 'named', name: 'QA' }), { moved: false, reason: 'no_state', stateName: 'In Review' });

    assert.equal(await isTeamMember(c, 'user-pm', ['team-eng']), true);
    assert.equal(await isTeamMember(c, 'user-pm', ['ENG']), true);
    assert.equal(await isTeamMember(c, 'user-outsider', ['team-eng']), false);
    assert.equal(await isTeamMember(c, 'user-outsider', []), true);
    assert.equal(await isTeamMember(c, 'user-nobody', []), false);
    // Guests and app users are read from Linear (the access decision refuses them).
    assert.deepEqual([(await getUserAccess(c, 'user-guest'))?.guest, (await getUserAccess(c, 'user-guest'))?.app], [true, false]);
    assert.deepEqual([(await getUserAccess(c, 'user-bot'))?.guest, (await getUserAccess(c, 'user-bot'))?.app], [false, true]);
    assert.deepEqual([(await getUserAccess(c, 'user-pm'))?.guest, (await getUserAccess(c, 'user-pm'))?.app], [false, false]);

    const fields = fake.mutations.map((m) => m.field);
    for (const f of ['commentCreate', 'agentActivityCreate', 'agentSessionUpdate', 'issueUpdate']) assert.ok(fields.includes(f), `${f} recorded`);
    fake.assertNoInvalidRequests();
  });

  it('a permission error on the state move is a result, not a throw', async () => {
    const local = new FakeLinear({ apiKey: API_KEY, issues: [{ ...ISSUE }], teams: [TEAM] });
    await local.start();
    try {
      local.forbid('issueUpdate');
      const c = createLinearClient({ apiKey: API_KEY, apiUrl: local.apiUrl });
      assert.deepEqual(await moveIssueToState(c, ISSUE.id, { kind: 'started' }), { moved: false, reason: 'forbidden' });
      assert.equal(local.issue(ISSUE.id)?.stateId, 'eng-todo');
      local.assertNoInvalidRequests();
    } finally {
      await local.stop();
    }
  });

  it('a document outside the schema is refused, recorded, and fails assertNoInvalidRequests', async () => {
    const c = client();
    const before = fake.invalidRequests.length;
    const err = await rejection(c.client.rawRequest('query { issue(id: "x") { id notAField } }', {}));
    assert.equal((err as { type?: string }).type, LinearErrorType.GraphqlError);
    assert.match((err as Error).message, /Cannot query field "notAField" on type "Issue"/);
    assert.equal(fake.invalidRequests.length, before + 1);
    assert.equal(fake.invalidRequests.at(-1)?.stage, 'validate');
    assert.throws(() => fake.assertNoInvalidRequests(), /1 invalid request/);
    fake.invalidRequests.length = 0;
  });

  it('bad variables are refused by coercion: a missing required field, a wrong type, an unknown enum value', async () => {
    const c = client();
    const doc = 'mutation M($input: AgentActivityCreateInput!) { agentActivityCreate(input: $input) { success } }';
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ agentSessionId: 's' }, /Field "content" of required type "JSONObject!" was not provided/],
      [{ agentSessionId: 's', content: { type: 'thought', body: 'x' }, ephemeral: 'yes' }, /Boolean cannot represent a non boolean value/],
      [{ agentSessionId: 's', content: { type: 'thought', body: 'x' }, signal: 'pause' }, /Value "pause" does not exist in "AgentActivitySignal" enum/],
      [{ agentSessionId: 's', content: { type: 'thought', body: 'x' }, summary: 'not a field' }, /Field "summary" is not defined by type "AgentActivityCreateInput"/],
    ];
    for (const [input, message] of cases) {
      const err = await rejection(c.client.rawRequest(doc, { input }));
      assert.match((err as Error).message, message);
      assert.equal(fake.invalidRequests.at(-1)?.stage, 'variables');
    }
    assert.equal(fake.invalidRequests.length, cases.length);
    assert.equal(fake.activities.filter((a) => a.agentSessionId === 's').length, 0);
    fake.invalidRequests.length = 0;
  });

  for (const status of [400, 429] as const) {
    it(`a rate-limited answer (HTTP ${status}) is parsed by the SDK into a retryable LinearApiError with retryAfterMs`, async () => {
      const c = client();
      fake.rateLimitNext(1, 42, { status });
      const err = await rejection(postAgentActivity(c, 'session-1', { type: 'thought', body: 'hi' }));
      assert.ok(err instanceof LinearApiError);
      assert.equal(err.reason, LinearErrorType.Ratelimited);
      assert.equal(err.retryable, true);
      assert.equal(err.retryAfterMs, 42_000);
      assert.equal(err.options.details?.retryAfterMs, 42_000);
      const failure = err.toFailure();
      assert.equal(failure.nonRetryable, false);
      assert.equal(failure.nextRetryDelay, 42_000);
      assert.equal(fake.requests.at(-1)?.rateLimited, true);
    });
  }

  it('without the schema file the fake says so, validates nothing, and keeps answering', async () => {
    const warnings: string[] = [];
    const blind = new FakeLinear({ apiKey: API_KEY, issues: [ISSUE], teams: [TEAM], schemaPath: '/nonexistent/schema.graphql', onWarning: (m) => warnings.push(m) });
    await blind.start();
    try {
      assert.equal(blind.schemaValidation, 'off');
      assert.match(warnings.join('\n'), /validates NOTHING/);
      const c = createLinearClient({ apiKey: API_KEY, apiUrl: blind.apiUrl });
      await postIssueComment(c, ISSUE.id, 'still answered');
      assert.equal(blind.comments.length, 1);
      // Not validated: a field outside the schema is simply absent from the answer.
      const r = await c.client.rawRequest<{ issue: { id: string; notAField: null } }, Record<string, never>>(`query { issue(id: "${ISSUE.id}") { id notAField } }`, {});
      assert.deepEqual(r.data, { issue: { id: ISSUE.id, notAField: null } });
      assert.equal(blind.invalidRequests.length, 0);
    } finally {
      await blind.stop();
    }
  });
});
