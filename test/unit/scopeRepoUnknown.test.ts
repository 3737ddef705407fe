/**
 * Scope without a known repository (activities/scope.ts): with `scope.clarify` on and several
 * repositories configured, the refusal says which ones to ask about (`repoUnknown`); with it off,
 * or one repository, a plain refusal as before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scope } from '../../activities/scope.js';
import type { TaskRequest } from '../../workflows/types.js';
import { parseConfig } from '../../worker/config.js';

const repo = (name: string) => ({ url: `https://github.com/acme/${name}.git`, github: `acme/${name}`, testCommand: 'npm test', budget: { minutes: 30, tokens: 100_000, usd: 5 } });
const configOf = (repos: string[], clarify: Record<string, unknown>) =>
  parseConfig({
    gateway: { prices: { 'claude-sonnet-4-5': { input: 3, output: 15 }, 'claude-haiku-4-5': { input: 1, output: 5 } } },
    escalationWaitHours: 12,
    scope: { clarify },
    repos: Object.fromEntries(repos.map((r) => [r, repo(r)])),
  });
const req = (over: Partial<TaskRequest> = {}): TaskRequest => ({
  source: { kind: 'linear', issueId: 'i1', agentSessionId: 's1' },
  requester: 'pm',
  repo: '',
  title: 'Fix the date picker',
  task: 'The date picker shows UTC dates; show local dates. Done when the picker tests pass.',
  ...over,
});

test('clarify on, several repositories: no repository (or an unknown one) → repoUnknown with every repository and the answer wait', () => {
  const config = configOf(['web', 'billing', 'api'], { model: 'claude-haiku-4-5' });
  for (const r of [req(), req({ repo: 'nope' })]) {
    const s = scope(config, r, 'w');
    assert.equal(s.ok, false);
    assert.ok(!s.ok);
    assert.deepEqual(s.repoUnknown, { repos: ['web', 'billing', 'api'], answerWaitMs: 12 * 3_600_000 });
  }
  assert.equal(scope(config, req({ repo: 'billing' }), 'w').ok, true, 'a known repository scopes as before');
});

test('clarify off, or one repository: a plain refusal naming the repositories (no question)', () => {
  const cases = [
    configOf(['web', 'billing'], {}),
    configOf(['web', 'billing'], { enabled: false, model: 'claude-haiku-4-5' }),
    configOf(['web'], { model: 'claude-haiku-4-5' }),
  ];
  for (const config of cases) {
    const s = scope(config, req(), 'w');
    assert.ok(!s.ok);
    assert.equal(s.repoUnknown, undefined);
    assert.match(s.reason, /no repository is named for this task\. Known repositories: web/);
  }
});
