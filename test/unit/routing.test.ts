/**
 * Model routing (issue 12, item 2): each rule shape, first match, defaults, the per-repository
 * policy over the default one, the override cap (tier and model), the retry escalation, and the
 * configuration that feeds it (validated by the real schema).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { route } from '../../activities/classify.js';
import { parseConfig, type Config } from '../../worker/config.js';
import { effectivePolicy } from '../../worker/routingConfig.js';
import { chooseTier, describeRouting, escalatedTier, modelForAttempt, ruleMatches, type RoutingPolicy, type TaskClassification } from '../../workflows/routing.js';

const task = (type: TaskClassification['type'], size: TaskClassification['size'] = 'small', risk: TaskClassification['risk'] = 'low'): TaskClassification => ({ type, size, risk, rationale: '', source: 'model' });

const policy: RoutingPolicy = {
  rules: [
    { when: { type: ['docs', 'tests'] }, tier: 'small' },
    { when: { risk: 'high' }, tier: 'large' },
    { when: { type: 'feature', size: ['medium', 'large'] }, tier: 'large' },
  ],
  defaultTier: 'medium',
};

describe('routing policy', () => {
  test('a list of values matches any of them; a single value only itself', () => {
    assert.deepEqual(chooseTier(policy, task('docs')), { tier: 'small', rule: 'routing[0]: type in [docs, tests]' });
    assert.deepEqual(chooseTier(policy, task('tests')), { tier: 'small', rule: 'routing[0]: type in [docs, tests]' });
    assert.deepEqual(chooseTier(policy, task('bug_fix', 'small', 'high')), { tier: 'large', rule: 'routing[1]: risk high' });
  });

  test('several keys must all match', () => {
    assert.equal(chooseTier(policy, task('feature', 'large')).rule, 'routing[2]: type feature, size in [medium, large]');
    assert.deepEqual(chooseTier(policy, task('feature', 'small')), { tier: 'medium', rule: 'default' });
  });

  test('an empty `when` matches every task', () => {
    assert.equal(ruleMatches({ when: {}, tier: 'small' }, task('refactor', 'large', 'high')), true);
    assert.deepEqual(chooseTier({ rules: [{ when: {}, tier: 'small' }], defaultTier: 'large' }, task('feature')), { tier: 'small', rule: 'routing[0]: any task' });
  });

  test('the first matching rule wins: high-risk docs stay on the small tier under this order', () => {
    assert.deepEqual(chooseTier(policy, task('docs', 'small', 'high')), { tier: 'small', rule: 'routing[0]: type in [docs, tests]' });
    const riskFirst = { ...policy, rules: [policy.rules[1]!, policy.rules[0]!] };
    assert.deepEqual(chooseTier(riskFirst, task('docs', 'small', 'high')), { tier: 'large', rule: 'routing[0]: risk high' });
  });

  test('no rule matches: the default tier', () => {
    assert.deepEqual(chooseTier(policy, task('refactor', 'medium', 'medium')), { tier: 'medium', rule: 'default' });
    assert.deepEqual(chooseTier({ rules: [], defaultTier: 'small' }, task('feature')), { tier: 'small', rule: 'default' });
  });

  test('an override tier is capped by maxTier', () => {
    const capped = { ...policy, maxTier: 'medium' as const };
    assert.deepEqual(chooseTier(capped, task('docs'), 'large'), { tier: 'medium', rule: 'override (tier large requested, capped at maxTier medium)' });
    assert.deepEqual(chooseTier(capped, task('docs'), 'small'), { tier: 'small', rule: 'override (tier small requested)' });
    assert.deepEqual(chooseTier(policy, task('docs'), 'large'), { tier: 'large', rule: 'override (tier large requested)' });
  });

  test('retry escalation: one tier up, to a named tier, never down, or none', () => {
    assert.equal(escalatedTier('small', true), 'medium');
    assert.equal(escalatedTier('medium', true), 'large');
    assert.equal(escalatedTier('large', true), 'large');
    assert.equal(escalatedTier('small', 'large'), 'large');
    assert.equal(escalatedTier('large', 'small'), 'large');
    assert.equal(escalatedTier('small', false), 'small');
    assert.equal(escalatedTier('small', undefined), 'small');
    const d = { classification: task('docs'), tier: 'small' as const, rule: 'r', model: 'm-small', retry: { tier: 'large' as const, model: 'm-large' } };
    assert.deepEqual(modelForAttempt(d, 1), { model: 'm-small', tier: 'small' });
    assert.deepEqual(modelForAttempt(d, 2), { model: 'm-large', tier: 'large' });
    assert.deepEqual(modelForAttempt({ ...d, retry: undefined }, 3), { model: 'm-small', tier: 'small' });
  });

  test('a repository policy overrides the default one key by key', () => {
    const p = effectivePolicy({ rules: policy.rules, maxTier: 'medium', escalateModelOnRetry: true }, { defaultTier: 'small', escalateModelOnRetry: false });
    assert.deepEqual(p, { rules: policy.rules, defaultTier: 'small', maxTier: 'medium', escalateModelOnRetry: false });
    assert.deepEqual(effectivePolicy(undefined, undefined), { rules: [], defaultTier: 'medium' });
  });
});

const baseRaw = {
  gateway: { prices: { 'claude-sonnet-4-5': { input: 3, output: 15 } } },
  repos: { web: { url: 'https://example.com/web.git', github: 'acme/web', testCommand: 'npm test', budget: { minutes: 30, tokens: 100_000, usd: 5 } } },
};
const cfg = (extra: Record<string, unknown>, repoExtra: Record<string, unknown> = {}): Config =>
  parseConfig({ ...baseRaw, ...extra, repos: { web: { ...baseRaw.repos.web, ...repoExtra } } });

describe('routing configuration and route()', () => {
  test('the list form, tiers per agent (alias `claude`) and defaults for the rest', () => {
    const c = cfg({ routing: [{ when: { type: ['docs', 'tests'] }, tier: 'small' }, { when: { risk: 'high' }, tier: 'large' }], models: { tiers: { claude: { small: 'claude-haiku-4-5' } } } });
    assert.equal(c.models.tiers['claude-code'].small, 'claude-haiku-4-5');
    assert.equal(c.models.tiers['claude-code'].large, 'claude-opus-4-5');
    assert.equal(c.models.tiers.codex.medium, 'gpt-5.5');
    const r = route(c, 'web', 'claude-code', task('docs'));
    assert.ok(r.ok);
    assert.equal(r.routing.model, 'claude-haiku-4-5');
    assert.equal(r.routing.rule, 'routing[0]: type in [docs, tests]');
    const codex = route(c, 'web', 'codex', task('bug_fix', 'small', 'high'));
    assert.ok(codex.ok);
    assert.deepEqual([codex.routing.tier, codex.routing.model], ['large', 'gpt-5.5-pro']);
  });

  test('bad routing keys are named', () => {
    assert.throws(() => cfg({ routing: [{ when: { type: 'poetry' }, tier: 'small' }] }), /routing\.rules\.0\.when\.type/);
    assert.throws(() => cfg({ routing: { maxTier: 'huge' } }), /routing\.maxTier/);
    assert.throws(() => cfg({}, { routing: { escalateModelOnRetry: 'xl' } }), /repos\.web\.routing\.escalateModelOnRetry/);
  });

  test('a request model above maxTier is capped to the maxTier model; a model of no tier counts as large', () => {
    const c = cfg({ routing: { maxTier: 'medium' } });
    const opus = route(c, 'web', 'claude-code', task('feature'), { model: 'claude-opus-4-5' });
    assert.ok(opus.ok);
    assert.deepEqual([opus.routing.model, opus.routing.tier], ['claude-sonnet-4-5', 'medium']);
    assert.match(opus.routing.rule, /model claude-opus-4-5 requested, capped at maxTier medium/);
    const other = route(c, 'web', 'claude-code', task('feature'), { model: 'claude-opus-4-1' });
    assert.ok(other.ok);
    assert.equal(other.routing.model, 'claude-sonnet-4-5');
    const small = route(c, 'web', 'claude-code', task('feature'), { model: 'claude-haiku-4-5' });
    assert.ok(small.ok);
    assert.deepEqual([small.routing.model, small.routing.tier], ['claude-haiku-4-5', 'small']);
    const tier = route(c, 'web', 'claude-code', task('feature'), { tier: 'large' });
    assert.ok(tier.ok);
    assert.equal(tier.routing.model, 'claude-sonnet-4-5');
    // Without maxTier the request decides.
    const free = route(cfg({}), 'web', 'claude-code', task('docs'), { model: 'claude-opus-4-1' });
    assert.ok(free.ok);
    assert.equal(free.routing.model, 'claude-opus-4-1');
  });

  test('escalateModelOnRetry gives attempts after a failed one the stronger model (a repository may say it)', () => {
    const c = cfg({ routing: { rules: [{ when: { type: 'docs' }, tier: 'small' }] } }, { routing: { escalateModelOnRetry: 'large' } });
    const r = route(c, 'web', 'claude-code', task('docs'));
    assert.ok(r.ok);
    assert.deepEqual(r.routing.retry, { tier: 'large', model: 'claude-opus-4-5' });
    const up = route(cfg({ routing: { escalateModelOnRetry: true } }), 'web', 'claude-code', task('docs'));
    assert.ok(up.ok);
    assert.deepEqual(up.routing.retry, { tier: 'large', model: 'claude-opus-4-5' });
    const none = route(cfg({}), 'web', 'claude-code', task('docs'));
    assert.ok(none.ok);
    assert.equal(none.routing.retry, undefined);
  });

  test("a repository's pinned model is its default tier's model", () => {
    const c = cfg({ routing: [{ when: { type: 'docs' }, tier: 'small' }] }, { models: { 'claude-code': 'claude-sonnet-4-5-20250929' } });
    const r = route(c, 'web', 'claude-code', task('feature'));
    assert.ok(r.ok);
    assert.deepEqual([r.routing.model, r.routing.rule], ['claude-sonnet-4-5-20250929', 'default']);
  });

  test('a routed model priced neither in gateway.prices nor in the table refuses with the reason', () => {
    const c = cfg({ models: { tiers: { 'claude-code': { small: 'claude-imaginary-1' } } }, routing: [{ when: { type: 'docs' }, tier: 'small' }] });
    const r = route(c, 'web', 'claude-code', task('docs'));
    assert.equal(r.ok, false);
    assert.match((r as { refusal: string }).refusal, /model "claude-imaginary-1" \(tier small\) has no price in gateway\.prices nor in the price table/);
    // A config price makes it routable.
    const priced = cfg({ gateway: { prices: { 'claude-imaginary-1': { input: 1, output: 2 } } }, models: { tiers: { 'claude-code': { small: 'claude-imaginary-1' } } }, routing: [{ when: { type: 'docs' }, tier: 'small' }] });
    assert.equal(route(priced, 'web', 'claude-code', task('docs')).ok, true);
  });

  test('the report line names classification, model, tier and rule', () => {
    const d = { classification: { ...task('bug_fix'), source: 'model' as const }, tier: 'small' as const, rule: 'routing[0]: type in [docs, tests]', model: 'claude-haiku-4-5', retry: { tier: 'medium' as const, model: 'claude-sonnet-4-5' } };
    assert.equal(describeRouting(d), 'Task: bug_fix, small, low risk — model claude-haiku-4-5 (tier small, rule routing[0]: type in [docs, tests]); classified by model');
    assert.match(describeRouting(d, 2), /after a failed attempt claude-sonnet-4-5 \(tier medium, escalateModelOnRetry\)/);
  });
});
