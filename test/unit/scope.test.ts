import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scope, slugify } from '../../activities/scope.js';
import { buildPrompt, classifyReply, msUntilWindow } from '../../workflows/prompt.js';
import type { TaskRequest } from '../../workflows/types.js';
import { parseConfig } from '../../worker/config.js';

const config = parseConfig({
  gateway: { prices: { 'claude-sonnet-4-5': { input: 3, output: 15 }, 'gpt-5.5': { input: 1.25, output: 10 } } },
  repos: {
    web: {
      url: 'https://github.com/acme/web.git',
      github: 'acme/web',
      testCommand: 'npm test',
      budget: { minutes: 30, tokens: 100_000, usd: 5 },
      maxBudget: { minutes: 60, tokens: 500_000, usd: 10 },
      riskyPaths: ['migrations/'],
    },
  },
});
const req = (over: Partial<TaskRequest> = {}): TaskRequest => ({
  source: { kind: 'linear', issueId: 'i1', issueIdentifier: 'ENG-12' },
  requester: 'pm',
  repo: 'web',
  title: 'Fix the date picker',
  task: 'The date picker shows UTC dates; show local dates. Done when the picker tests pass.',
  ...over,
});

test('a bounded task on a known repository gets a plan from policy', () => {
  const r = scope(config, req(), 'linear-i1');
  assert.ok(r.ok);
  assert.equal(r.plan.agent, 'claude-code');
  assert.equal(r.plan.model, 'claude-sonnet-4-5');
  assert.equal(r.plan.image, 'nightshift/claude-code:latest');
  assert.deepEqual(r.plan.budget, { wallClockMs: 30 * 60_000, tokens: 100_000, usd: 5 });
  assert.equal(r.plan.risk, 'low');
  assert.match(r.plan.slug, /^eng-12-fix-the-date-picker-[0-9a-z]+$/);
  assert.equal(scope(config, req(), 'linear-i1').ok && (scope(config, req(), 'linear-i1') as { plan: { slug: string } }).plan.slug, r.plan.slug, 'slug is stable');
});

test('no repository, an unknown one, too short or too long a task: rejected with the reason', () => {
  const reasons = [req({ repo: '' }), req({ repo: 'nope' }), req({ title: 'fix', task: 'it' }), req({ task: 'x'.repeat(9000) })].map((r) => {
    const s = scope(config, r, 'w');
    assert.equal(s.ok, false);
    return (s as { reason: string }).reason;
  });
  assert.match(reasons[0]!, /no repository/);
  assert.match(reasons[1]!, /unknown repository "nope". Known repositories: web/);
  assert.match(reasons[2]!, /too short/);
  assert.match(reasons[3]!, /9000 characters/);
});

test('a budget override within policy is applied; above it is refused with the maximum named', () => {
  const ok = scope(config, req({ overrides: { budget: { usd: 8 } } }), 'w');
  assert.ok(ok.ok);
  assert.equal(ok.plan.budget.usd, 8);
  const over = scope(config, req({ overrides: { budget: { usd: 50, tokens: 600_000 } } }), 'w');
  assert.equal(over.ok, false);
  assert.match((over as { reason: string }).reason, /dollars \$50 > maximum \$10/);
  assert.match((over as { reason: string }).reason, /tokens 600000 > maximum 500000/);
});

test('the task text cannot raise a budget: only structured overrides count', () => {
  const r = scope(config, req({ task: 'Fix the picker. Budget: $500, 10 hours, unlimited tokens.' }), 'w');
  assert.ok(r.ok);
  assert.equal(r.plan.budget.usd, 5);
});

test('risky paths make a task high-risk; an unpriced model override is refused', () => {
  const r = scope(config, req({ task: 'Add a column in migrations/0042_users.sql and fix the tests.' }), 'w');
  assert.ok(r.ok);
  assert.equal(r.plan.risk, 'high');
  assert.deepEqual(r.plan.riskReasons, ['migrations/']);
  const m = scope(config, req({ overrides: { model: 'gpt-9' } }), 'w');
  assert.equal(m.ok, false);
  const codex = scope(config, req({ overrides: { agent: 'codex' } }), 'w');
  assert.ok(codex.ok);
  assert.equal(codex.plan.model, 'gpt-5.5');
});

test('slugify', () => {
  assert.equal(slugify('Fix: the Date-Picker (UTC!)'), 'fix-the-date-picker-utc');
  assert.equal(slugify('!!!'), 'task');
  assert.ok(slugify('a'.repeat(100)).length <= 40);
});

test('run window: open now → 0; closed → ms until it opens; windows across midnight', () => {
  const day = Date.UTC(2026, 10, 20);
  const h = 3_600_000;
  assert.equal(msUntilWindow(day + 23 * h, { startHourUtc: 22, endHourUtc: 6 }), 0);
  assert.equal(msUntilWindow(day + 3 * h, { startHourUtc: 22, endHourUtc: 6 }), 0);
  assert.equal(msUntilWindow(day + 12 * h, { startHourUtc: 22, endHourUtc: 6 }), 10 * h);
  assert.equal(msUntilWindow(day + 12 * h, { startHourUtc: 9, endHourUtc: 17 }), 0);
  assert.equal(msUntilWindow(day + 18 * h, { startHourUtc: 9, endHourUtc: 17 }), 15 * h);
});

test('replies: cancel and take over are commands, anything else is guidance', () => {
  assert.equal(classifyReply('Cancel.'), 'cancel');
  assert.equal(classifyReply(' take over '), 'take_over');
  assert.equal(classifyReply('cancel the migration part and retry'), 'guidance');
  assert.equal(classifyReply('Try fixing add() in calc.py'), 'guidance');
});

test('the prompt names the test command and, on later attempts, the failing tests and guidance', () => {
  const first = buildPrompt({ title: 'Fix add', task: 'add() is wrong', testCommand: 'pytest', attempt: 1, previous: [], guidance: [] });
  assert.match(first, /`pytest`/);
  assert.doesNotMatch(first, /attempt 2/);
  const validation = { passed: false, exitCode: 1, outputTail: 'E assert -1 == 5', failingTests: ['test_add'], durationMs: 1, command: 'pytest' };
  const prev = [{ attempt: 1, end: 'agent_exited' as const, agent: 'claude-code' as const, model: 'm', finalMessage: '', exitCode: 0, spend: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, tokens: 0, usd: 0, requests: 0, refusals: 0 }, durationMs: 1, diffStat: '', filesChanged: ['calc.py'], commands: [], lastEvents: [], validation }];
  const second = buildPrompt({ title: 'Fix add', task: 'add() is wrong', testCommand: 'pytest', attempt: 2, previous: prev, guidance: ['look at the sign'] });
  assert.match(second, /This is attempt 2/);
  assert.match(second, /Failing tests: test_add/);
  assert.match(second, /E assert -1 == 5/);
  assert.match(second, /- look at the sign/);
});
