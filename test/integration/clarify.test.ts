/**
 * The clarifying assessment through the REAL model gateway and the scripted model server
 * (devstack/scripts.ts `withAssessment`): a run whose assessment asks which repository, answered,
 * then proceeds; the gateway meters both assessments and their spend is in the run's spend (the
 * test's own arithmetic from the scripted usage and the price table). Also: the budget the gateway
 * enforces, and no model reachable → skipped with a note. Sandbox-bound activities are doubles.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { assessTask, ASSESS_MARKER, type ClarifyActivities, type ClarifyDeps } from '../../activities/clarify.js';
import { ASSESS_USAGE, askRepoThenProceed, withAssessment } from '../../devstack/scripts.js';
import { scriptFromSteps, ScriptedModelServer } from '../../devstack/scriptedModel.js';
import type { Activities, Report, RunPlan } from '../../workflows/activityTypes.js';
import { agentTask, humanReplySignal, statusQuery } from '../../workflows/index.js';
import { ZERO_SPEND, type TaskRequest } from '../../workflows/types.js';
import type { Config } from '../../worker/config.js';
import type { ModelGateway } from '../../worker/gateway/index.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { startGateway, TEST_PRICES, testLogger } from '../helpers/gatewayHarness.js';
import { withRunWorkers } from '../helpers/runWorkers.js';

const CHEAP = 'claude-haiku-4-5';
const prices = { ...TEST_PRICES, [CHEAP]: { input: 1, output: 5 } };
let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let model: ScriptedModelServer;
let gateway: ModelGateway;

before(async () => {
  model = new ScriptedModelServer({ script: withAssessment(scriptFromSteps([]), askRepoThenProceed(['calculator', 'billing'])) });
  await model.start();
  gateway = await startGateway(model.url, { prices });
  env = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await env?.teardown();
  await gateway?.stop();
  await model?.stop();
});

const config = (over: Partial<Config['scope']['clarify']> = {}): ClarifyDeps['config'] =>
  ({ repos: { calculator: {}, billing: {} }, scope: { clarify: { model: CHEAP, ...over } }, gateway: { prices } }) as unknown as ClarifyDeps['config'];
const deps = (over: Partial<ClarifyDeps> = {}): ClarifyDeps => ({ config: config(), gateway, gatewayUrl: gateway.url, logger: testLogger(), ...over });

const planOf = (repo: string): RunPlan => ({
  repo, url: '/tmp/none', github: `acme/${repo}`, defaultBranch: 'main', agent: 'claude-code', model: 'claude-sonnet-4-5',
  image: 'nightshift/claude-code:latest', testCommand: 'python3 -m unittest', budget: { wallClockMs: 600_000, tokens: 100_000, usd: 1 }, maxAttempts: 1,
  risk: 'low', riskReasons: [], riskyPaths: [], testChangesPolicy: 'escalate', slug: `fix-${repo}`, escalationWaitMs: 3_600_000, agentEgress: [],
});
const ATTEMPT_SPEND = { ...ZERO_SPEND, tokens: 1000, usd: 0.01, requests: 2 };

describe('clarifying assessment through the gateway', { timeout: 120_000 }, () => {
  test('a run asks which repository, is answered, proceeds: both assessments are metered into the run\'s spend', async () => {
    const reports: Report[] = [];
    const scopedRepos: string[] = [];
    const acts: Partial<Activities> & ClarifyActivities = {
      assessTask: (input) => assessTask(deps(), input),
      scopeTask: async (r) => (scopedRepos.push(r.repo), { ok: true, plan: planOf(r.repo) }),
      prepareWorkspace: async () => ({ path: '/tmp/ws', gitDir: '/tmp/ws.git', baseSha: 'abc' }),
      prepareEnvironment: async () => ({ image: 'env', key: 'k', source: 'default', cached: true, setup: [], seed: [], prepareMs: 1 }),
      runTests: async (i) => ({ passed: i.label !== 'before', exitCode: i.label === 'before' ? 1 : 0, outputTail: '', failingTests: [], durationMs: 1, command: 'x' }),
      runAgent: async (i) => ({ attempt: i.attempt, end: 'agent_exited', agent: 'claude-code', model: 'claude-sonnet-4-5', finalMessage: 'done', exitCode: 0, spend: ATTEMPT_SPEND, durationMs: 10, diffStat: ' a | 1 +', filesChanged: ['a'], commands: [], lastEvents: [] }),
      reviewChanges: async () => ({ files: [], totals: { files: 1, lines: 1 }, findings: [], testChanges: [], treeSha: 't' }),
      deliver: async () => ({ prUrl: 'https://github.com/acme/billing/pull/1', prNumber: 1, branch: 'nightshift/x', commitSha: 'c', created: true }),
      pushWip: async () => undefined,
      notify: async (r) => void reports.push(r),
      cleanup: async () => undefined,
    };
    const req: TaskRequest = { source: { kind: 'cli' }, requester: 'pm', repo: 'calculator', title: 'Fix rounding', task: 'Totals are off by a cent sometimes.' };
    const before = model.modelRequests().length;
    const out = await withRunWorkers({ connection: env.nativeConnection, client: env.client, bundle }, acts, async (taskQueue) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue, workflowId: `cli-${randomUUID()}`, args: [req] });
      try {
        const end = Date.now() + 30_000;
        while ((await h.query(statusQuery)).phase !== 'awaiting_answer') {
          if (Date.now() > end) throw new Error('no question asked');
          await new Promise((r) => setTimeout(r, 100));
        }
        await h.signal(humanReplySignal, { text: 'billing', author: 'pm' });
        return await h.result();
      } catch (err) {
        await h.terminate('test failed').catch(() => undefined);
        throw err;
      }
    });
    const assessments = model.modelRequests().slice(before);
    assert.equal(assessments.length, 2, 'two assessments reached the model, through the gateway');
    for (const r of assessments) {
      assert.equal(r.model, CHEAP);
      assert.match(JSON.stringify((r.body as { system?: unknown }).system), new RegExp(ASSESS_MARKER.replace(/[[\]]/g, '\\$&')));
      assert.equal(r.headers['x-api-key'], undefined, 'the run token stays at the gateway (no upstream key configured here)');
    }
    assert.equal(out.kind, 'pr_opened');
    assert.deepEqual(scopedRepos, ['calculator', 'billing']);
    assert.deepEqual(reports.map((r) => r.kind), ['question', 'pr_opened']);
    assert.deepEqual(reports[0]!.options, ['calculator', 'billing']);
    // The test's own arithmetic: $1 / $5 per million input / output tokens.
    const oneUsd = (ASSESS_USAGE.input * 1 + ASSESS_USAGE.output * 5) / 1e6;
    assert.equal(out.clarify?.spend?.requests, 2);
    assert.equal(out.clarify?.spend?.tokens, 2 * (ASSESS_USAGE.input + ASSESS_USAGE.output));
    assert.ok(Math.abs(out.clarify!.spend!.usd - 2 * oneUsd) < 1e-12, `assessments cost ${out.clarify!.spend!.usd}, expected ${2 * oneUsd}`);
    assert.ok(Math.abs(out.spend.usd - (2 * oneUsd + ATTEMPT_SPEND.usd)) < 1e-12, 'the run\'s spend holds the assessments\' and the attempt\'s');
    assert.equal(out.spend.tokens, 2 * (ASSESS_USAGE.input + ASSESS_USAGE.output) + ATTEMPT_SPEND.tokens);
    assert.match(reports[1]!.markdown, /Scope check:\*\* proceed \(1 question asked\): the repository is chosen/);
  });

  test('the gateway enforces the run\'s remaining budget on the assessment: refused, skipped, the run is not blocked', async () => {
    const before = model.modelRequests().length;
    const a = await assessTask(deps(), { workflowId: 'wf-budget', sequence: 1, title: 't', task: 'Totals are off.', repo: 'calculator', limits: { tokens: 10, usd: 0.000001 } });
    assert.equal(a.decision, 'skipped');
    assert.match(a.rationale, /the model answered HTTP \d+/);
    assert.equal(model.modelRequests().length, before, 'nothing reached the model');
    assert.equal(a.spend.usd, 0);
  });

  test('no model reachable → skipped with the reason; off by configuration → disabled', async () => {
    const a = await assessTask(deps({ gatewayUrl: 'http://127.0.0.1:9' }), { workflowId: 'wf-down', sequence: 1, title: 't', task: 'x', repo: 'calculator', limits: { tokens: 1e6, usd: 1 } });
    assert.equal(a.decision, 'skipped');
    assert.match(a.rationale, /no model reachable/);
    const off = await assessTask(deps({ config: config({ enabled: false }) }), { workflowId: 'wf-off', sequence: 1, title: 't', task: 'x', repo: 'calculator', limits: { tokens: 1e6, usd: 1 } });
    assert.equal(off.disabled, true);
  });
});
