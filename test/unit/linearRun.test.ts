/**
 * The Linear run's pure decisions: the session's plan for each phase and outcome, the progress
 * thoughts (working phases only), the issue state chosen per target and team settings, who may
 * start runs, and the session's links.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { phaseThought, sessionPlan, stepOf } from '../../workflows/linearSession.js';
import { chooseState, type TeamState } from '../../activities/linear/issueState.js';
import { decideAccess } from '../../activities/linearRun/access.js';
import { sessionActivitySignal, sessionActivityType } from '../../activities/linearRun/outcome.js';
import { DEFAULT_TEMPORAL_UI, sessionLinks } from '../../activities/linearRun/session.js';
import { parseConfig } from '../../worker/config.js';

const statuses = (p: { status: string }[]): string => p.map((s) => s.status).join(' ');

describe('session plan', () => {
  it('marks steps before the phase completed, the phase in progress, the rest pending', () => {
    assert.equal(statuses(sessionPlan({ phase: 'scoping', attempt: 0, maxAttempts: 3, reached: -1 })), 'inProgress pending pending pending pending');
    assert.equal(statuses(sessionPlan({ phase: 'preparing', attempt: 0, maxAttempts: 3, reached: 1 })), 'completed inProgress pending pending pending');
    const running = sessionPlan({ phase: 'running_agent', attempt: 2, maxAttempts: 3, reached: 3 });
    assert.equal(statuses(running), 'completed completed inProgress pending pending');
    assert.equal(running[2]!.content, 'Agent attempt 2 of 3');
    const validating = sessionPlan({ phase: 'validating', attempt: 2, maxAttempts: 3, reached: 3 });
    assert.equal(statuses(validating), 'completed completed completed inProgress pending');
    assert.match(validating[3]!.content, /attempt 2/);
    assert.equal(statuses(sessionPlan({ phase: 'delivering', attempt: 1, maxAttempts: 3, reached: 4 })), 'completed completed completed completed inProgress');
    assert.match(sessionPlan({ phase: 'awaiting_approval', attempt: 1, maxAttempts: 3, reached: 4 })[4]!.content, /approval/);
  });

  it('an attempt after guidance, past the tranche, is numbered without a total', () => {
    assert.equal(sessionPlan({ phase: 'running_agent', attempt: 4, maxAttempts: 3, reached: 3 })[2]!.content, 'Agent attempt 4 (after your guidance)');
  });

  it('waiting for a human keeps the furthest step reached in progress', () => {
    assert.equal(statuses(sessionPlan({ phase: 'awaiting_human', attempt: 3, maxAttempts: 3, reached: 3 })), 'completed completed completed inProgress pending');
    assert.equal(statuses(sessionPlan({ phase: 'escalating', attempt: 0, maxAttempts: 3, reached: 1 })), 'completed inProgress pending pending pending');
  });

  it('a PR completes every step; any other outcome cancels what was not finished', () => {
    assert.equal(statuses(sessionPlan({ phase: 'done', attempt: 1, maxAttempts: 3, reached: 4, outcome: 'pr_opened' })), 'completed completed completed completed completed');
    assert.equal(statuses(sessionPlan({ phase: 'done', attempt: 2, maxAttempts: 3, reached: 2, outcome: 'cancelled' })), 'completed completed canceled canceled canceled');
    assert.equal(statuses(sessionPlan({ phase: 'done', attempt: 0, maxAttempts: 0, reached: 0, outcome: 'rejected' })), 'canceled canceled canceled canceled canceled');
  });

  it('phases map to steps; waiting and done are not steps', () => {
    assert.deepEqual(['scoping', 'preparing', 'running_agent', 'validating', 'delivering'].map(stepOf), [0, 1, 2, 3, 4]);
    assert.equal(stepOf('awaiting_human'), undefined);
    assert.equal(stepOf('done'), undefined);
  });
});

describe('phase thoughts', () => {
  it('working phases have one; waiting for a human, scoping and done have none', () => {
    assert.match(phaseThought('running_agent', 2, 3) ?? '', /Attempt 2 of 3/);
    // After guidance with one attempt a tranche: never "Attempt 2 of 1".
    assert.match(phaseThought('running_agent', 2, 1) ?? '', /^Attempt 2 \(after your guidance\)/);
    assert.doesNotMatch(phaseThought('running_agent', 4, 3) ?? '', / of 3/);
    assert.match(phaseThought('validating', 1, 3) ?? '', /Validating attempt 1/);
    assert.ok(phaseThought('preparing', 0, 3));
    assert.ok(phaseThought('delivering', 1, 3));
    for (const p of ['scoping', 'escalating', 'awaiting_human', 'awaiting_approval', 'done']) assert.equal(phaseThought(p, 1, 3), undefined, p);
  });
});

const STATES: TeamState[] = [
  { id: 's-backlog', name: 'Backlog', type: 'backlog', position: 0 },
  { id: 's-todo', name: 'Todo', type: 'unstarted', position: 1 },
  { id: 's-review', name: 'In Review', type: 'started', position: 3 },
  { id: 's-progress', name: 'In Progress', type: 'started', position: 2 },
  { id: 's-qa', name: 'QA', type: 'started', position: 4 },
  { id: 's-done', name: 'Done', type: 'completed', position: 5 },
];
const todo = { id: 's-todo', name: 'Todo', type: 'unstarted' };
const progress = { id: 's-progress', name: 'In Progress', type: 'started' };

describe('issue state choice', () => {
  it('start: the first started state by position, unless already started', () => {
    assert.deepEqual(chooseState({ current: todo, states: STATES, target: 'started' }), { kind: 'move', state: STATES[3] });
    assert.deepEqual(chooseState({ current: { id: 's-review', name: 'In Review', type: 'started' }, states: STATES, target: 'started' }), { kind: 'already', state: 'In Review' });
    assert.deepEqual(chooseState({ current: todo, states: STATES.filter((s) => s.type !== 'started'), target: 'started' }), { kind: 'no_state' });
  });

  it('review: the configured name, else a started state named like review', () => {
    assert.equal((chooseState({ current: progress, states: STATES, target: 'review' }) as { state: TeamState }).state.id, 's-review');
    assert.equal((chooseState({ current: progress, states: STATES, target: 'review', reviewState: 'qa' }) as { state: TeamState }).state.id, 's-qa');
    assert.deepEqual(chooseState({ current: progress, states: STATES, target: 'review', reviewState: 'Ready for review' }), { kind: 'no_state' });
    assert.deepEqual(chooseState({ current: progress, states: STATES.filter((s) => s.id !== 's-review'), target: 'review' }), { kind: 'no_state' });
    assert.deepEqual(chooseState({ current: { id: 's-review', name: 'In Review', type: 'started' }, states: STATES, target: 'review' }), { kind: 'already', state: 'In Review' });
  });

  it('a completed or canceled issue is left where it is', () => {
    assert.deepEqual(chooseState({ current: { id: 's-done', name: 'Done', type: 'completed' }, states: STATES, target: 'started' }), { kind: 'already', state: 'Done' });
  });
});

describe('access', () => {
  const member = { active: true, guest: false, app: false, teams: ['ENG'] };
  it('by default any active workspace member, not guests or apps', () => {
    assert.deepEqual(decideAccess(member, [], 'Ada'), { allowed: true });
    assert.equal(decideAccess({ ...member, guest: true }, [], 'Ada').allowed, false);
    assert.equal(decideAccess({ ...member, app: true }, [], 'Ada').allowed, false);
    assert.equal(decideAccess({ ...member, active: false }, [], 'Ada').allowed, false);
    const unknown = decideAccess(undefined, [], 'Eve');
    assert.ok(!unknown.allowed && /Eve is not a member/.test(unknown.reason));
  });
  it('with allowed teams, only their members (team keys compared case-insensitively), guests included', () => {
    assert.deepEqual(decideAccess(member, ['eng', 'OPS'], 'Ada'), { allowed: true });
    assert.deepEqual(decideAccess({ ...member, guest: true }, ['ENG'], 'Ada'), { allowed: true });
    const refused = decideAccess({ ...member, teams: ['SALES'] }, ['ENG', 'OPS'], 'Bob');
    assert.ok(!refused.allowed && /ENG, OPS/.test(refused.reason) && /Bob/.test(refused.reason));
  });
});

describe('session links', () => {
  const base = { gateway: { prices: {} }, repos: { api: { url: '/tmp/x.git', github: 'acme/api', testCommand: 'true', budget: { minutes: 30, tokens: 1_000_000, usd: 5 } } } };
  it('links the run in the Temporal Web UI (default localhost:8233) and the PR', () => {
    const links = sessionLinks(parseConfig(base), 'linear-session-a b', 'https://github.com/acme/x/pull/1');
    assert.deepEqual(links, [
      { label: 'Nightshift run (Temporal)', url: `${DEFAULT_TEMPORAL_UI}/namespaces/default/workflows/linear-session-a%20b` },
      { label: 'Pull request', url: 'https://github.com/acme/x/pull/1' },
    ]);
    const custom = sessionLinks(parseConfig({ ...base, temporal: { webUiUrl: 'https://temporal.example/', namespace: 'ns' } }), 'wf');
    assert.deepEqual(custom, [{ label: 'Nightshift run (Temporal)', url: 'https://temporal.example/namespaces/ns/workflows/wf' }]);
  });
});

describe('session activity signal', () => {
  it('a question with choices is an elicitation with a select signal; anything else has none', () => {
    assert.deepEqual(sessionActivitySignal({ kind: 'question', options: ['calculator', 'web'] }), {
      signal: 'select',
      signalMetadata: { options: [{ value: 'calculator' }, { value: 'web' }] },
    });
    assert.equal(sessionActivitySignal({ kind: 'question' }), undefined);
    assert.equal(sessionActivitySignal({ kind: 'question', options: [] }), undefined);
    assert.equal(sessionActivitySignal({ kind: 'pr_opened', options: ['x'] }), undefined);
  });
});

describe('session activity type per report kind', () => {
  it('waiting and acknowledgements are thoughts (the session stays active), questions elicitations, failures errors, outcomes responses', () => {
    const of = (k: string) => sessionActivityType(k);
    assert.deepEqual(['accepted', 'reply_noted', 'duplicate_request', 'deferred'].map(of), ['thought', 'thought', 'thought', 'thought']);
    assert.deepEqual(['escalation', 'approval_needed', 'question'].map(of), ['elicitation', 'elicitation', 'elicitation']);
    assert.deepEqual(['failed', 'environment_failed'].map(of), ['error', 'error']);
    assert.deepEqual(['pr_opened', 'cancelled', 'rejected', 'timed_out', 'handed_over'].map(of), ['response', 'response', 'response', 'response', 'response']);
  });
});
