/**
 * Task classification at scope (issue 12, item 1): parsing the model's answer, what the
 * configuration forces (labels → type, risky paths → high risk), the fallback without a model
 * (says so), and the model call through the REAL gateway to the scripted model server: metered,
 * priced from the table, within the run's budget.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { classifyTask, combineClassification, configForced, parseClassification, CLASSIFY_MARKER, type ClassifyDeps, type ClassifyTaskInput } from '../../activities/classify.js';
import { ASSESS_USAGE, isClassification, withClassification, type ClassifyAnswer } from '../../devstack/scripts.js';
import { scriptFromSteps, ScriptedModelServer } from '../../devstack/scriptedModel.js';
import { parseConfig } from '../../worker/config.js';
import { priceTokens, tablePrice, type ModelGateway } from '../../worker/gateway/index.js';
import { startGateway, testLogger } from '../helpers/gatewayHarness.js';

const CHEAP = 'claude-haiku-4-5';

const configOf = (extra: Record<string, unknown> = {}) =>
  parseConfig({
    repos: { web: { url: 'https://example.com/web.git', github: 'acme/web', testCommand: 'npm test', budget: { minutes: 30, tokens: 100_000, usd: 5 }, riskyPaths: ['migrations/', 'src/auth/**'] } },
    routing: [{ when: { type: ['docs', 'tests'] }, tier: 'small' }, { when: { risk: 'high' }, tier: 'large' }],
    classification: { labels: { documentation: 'docs', deps: 'dependency_update' } },
    ...extra,
  });

const input = (over: Partial<ClassifyTaskInput> = {}): ClassifyTaskInput => ({
  workflowId: `w-${Math.random().toString(36).slice(2)}`, title: 'Fix the rounding of totals', task: 'Totals are off by a cent; test_total shows it.', repo: 'web', agent: 'claude-code', limits: { tokens: 100_000, usd: 1 }, ...over,
});

describe('classification parsing and configuration', () => {
  test('the model answer is read only when every field is a known value', () => {
    assert.deepEqual(parseClassification('Sure: {"type":"bug_fix","size":"small","risk":"low","rationale":"one function"}'), { type: 'bug_fix', size: 'small', risk: 'low', rationale: 'one function' });
    assert.equal(parseClassification('{"type":"bugfix","size":"small","risk":"low"}'), undefined);
    assert.equal(parseClassification('{"type":"docs","size":"tiny","risk":"low"}'), undefined);
    assert.equal(parseClassification('{"type":"docs","size":"small"}'), undefined);
    assert.equal(parseClassification('no json here'), undefined);
    assert.equal(parseClassification('{"type": "docs", oops}'), undefined);
  });

  test('labels force the type and named risky paths force high risk', () => {
    const c = configOf();
    assert.deepEqual(configForced(c, c.repos.web!.riskyPaths, { title: 'x', task: 'Change src/auth/login.ts', labels: ['bug', 'documentation'] }), { type: 'docs', label: 'documentation', risky: ['src/auth/**'] });
    assert.deepEqual(configForced(c, c.repos.web!.riskyPaths, { title: 'x', task: 'nothing risky' }), { risky: [] });
  });

  test('config wins over the model for the fields it decides, and the rationale says so', () => {
    const c = combineClassification({ type: 'bug_fix', size: 'small', risk: 'low', rationale: 'a typo' }, { type: 'docs', label: 'documentation', risky: ['migrations/'] }, '');
    assert.deepEqual(c, { type: 'docs', size: 'small', risk: 'high', source: 'model', rationale: 'a typo; config: type docs from label "documentation"; config: risk high: the task names risky path migrations/' });
  });
});

describe('classifyTask without a model', () => {
  const deps = (config = configOf()): ClassifyDeps => ({ config, gateway: undefined as never, gatewayUrl: 'http://127.0.0.1:9', logger: testLogger() });

  test('defaults decide and the rationale says no model is configured; no spend', async () => {
    const r = await classifyTask(deps(), input());
    assert.ok(r.ok);
    assert.deepEqual(r.routing.classification, { type: 'feature', size: 'medium', risk: 'low', source: 'default', rationale: 'no classification model is configured (classification.model): defaults decide' });
    assert.deepEqual([r.routing.tier, r.routing.model, r.routing.rule], ['medium', 'claude-sonnet-4-5', 'default']);
    assert.equal(r.spend.usd, 0);
  });

  test('a label and a risky path decide through configuration (source config)', async () => {
    const r = await classifyTask(deps(), input({ labels: ['documentation'], task: 'Document the migrations/ folder layout.' }));
    assert.ok(r.ok);
    assert.equal(r.routing.classification.source, 'config');
    assert.equal(r.routing.classification.type, 'docs');
    assert.equal(r.routing.classification.risk, 'high');
    // docs first: rule 0 wins over the high-risk rule.
    assert.deepEqual([r.routing.tier, r.routing.model, r.routing.rule], ['small', 'claude-haiku-4-5', 'routing[0]: type in [docs, tests]']);
  });

  test('classification.enabled false skips the configured model and says so', async () => {
    const r = await classifyTask(deps(configOf({ classification: { enabled: false, model: CHEAP } })), input());
    assert.ok(r.ok);
    assert.match(r.routing.classification.rationale, /classification by a model is off \(classification\.enabled\)/);
  });
});

describe('classifyTask through the gateway', { timeout: 60_000 }, () => {
  let model: ScriptedModelServer;
  let gateway: ModelGateway;
  let answer: (task: string) => ClassifyAnswer = () => ({ type: 'tests', size: 'small', risk: 'low', rationale: 'adds a test' });
  before(async () => {
    // Agent requests would fail the script (no steps): only classifications are expected.
    model = new ScriptedModelServer({ script: withClassification(scriptFromSteps([]), (t) => answer(t)) });
    await model.start();
    // No price overrides: the cheap model is priced from the bundled table.
    gateway = await startGateway(model.url, { prices: {} });
  });
  after(async () => {
    await gateway?.stop();
    await model?.stop();
  });
  const deps = (): ClassifyDeps => ({ config: configOf({ classification: { model: CHEAP, labels: {} } }), gateway, gatewayUrl: gateway.url, logger: testLogger() });

  test('the model classifies; the call is metered at the table price and counted', async () => {
    const before = model.modelRequests().length;
    const r = await classifyTask(deps(), input({ title: 'Add a test for totals' }));
    assert.ok(r.ok);
    assert.deepEqual(r.routing.classification, { type: 'tests', size: 'small', risk: 'low', rationale: 'adds a test', source: 'model' });
    assert.deepEqual([r.routing.tier, r.routing.model], ['small', 'claude-haiku-4-5']);
    const expected = priceTokens(ASSESS_USAGE, tablePrice(CHEAP, 'anthropic')!);
    assert.ok(expected > 0 && Math.abs(r.spend.usd - expected) < 1e-12, `spend ${r.spend.usd} vs ${expected}`);
    assert.equal(r.spend.requests, 1);
    const sent = model.modelRequests().slice(before);
    assert.equal(sent.length, 1);
    assert.ok(isClassification(sent[0]!.body));
    const body = sent[0]!.body as { model: string; system: string; messages: Array<{ content: string }> };
    assert.equal(body.model, CHEAP);
    assert.ok(body.system.includes(CLASSIFY_MARKER));
    assert.match(body.messages[0]!.content, /Title: Add a test for totals/);
  });

  test('an unreadable answer falls back to defaults, says why, and its spend still counts', async () => {
    answer = () => ({ type: 'poem', size: 'small', risk: 'low', rationale: '' });
    const r = await classifyTask(deps(), input());
    assert.ok(r.ok);
    assert.equal(r.routing.classification.source, 'default');
    assert.match(r.routing.classification.rationale, /did not answer with the fields asked for/);
    assert.ok(r.spend.usd > 0);
  });

  test("past the run's budget the gateway refuses the call: defaults decide, nothing is spent", async () => {
    answer = () => ({ type: 'docs', size: 'small', risk: 'low', rationale: 'x' });
    const r = await classifyTask(deps(), input({ limits: { tokens: 10, usd: 0.000001 } }));
    assert.ok(r.ok);
    assert.equal(r.routing.classification.source, 'default');
    assert.match(r.routing.classification.rationale, /classification skipped: the model answered HTTP 4\d\d/);
    assert.equal(r.spend.usd, 0);
  });
});
