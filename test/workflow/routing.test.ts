/**
 * Model routing in the agentTask workflow (patch `model-routing`), on the time-skipping test
 * environment: the REAL `classifyTask` activity (no classification model configured: a label and
 * the configured policy decide) routes a docs task to the small tier; attempt 1 fails validation,
 * so attempt 2 runs on the escalated tier (`escalateModelOnRetry: true`); the PR body, the final
 * report and the ledger carry the classification, tier and rule. Sandbox-bound activities are
 * doubles.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { classifyTask, type ClassifyActivities, type ClassifyTaskInput } from '../../activities/classify.js';
import type { Activities, DeliverInput, Report, RunPlan } from '../../workflows/activityTypes.js';
import { agentTask } from '../../workflows/index.js';
import { ZERO_SPEND, type TaskRequest } from '../../workflows/types.js';
import { parseConfig } from '../../worker/config.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { testLogger } from '../helpers/gatewayHarness.js';
import { withRunWorkers } from '../helpers/runWorkers.js';
import { createTimeSkippingEnv, timeSkippingUnavailable } from '../helpers/timeSkipping.js';

const skip = timeSkippingUnavailable();
let env: TestWorkflowEnvironment | undefined;
let bundle: WorkflowBundleWithSourceMap;
before(async () => {
  if (skip) return;
  env = await createTimeSkippingEnv();
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await env?.teardown();
});

const config = parseConfig({
  repos: { docs: { url: 'https://example.com/docs.git', github: 'acme/docs', testCommand: 'npm test', budget: { minutes: 30, tokens: 100_000, usd: 5 } } },
  routing: { rules: [{ when: { type: ['docs', 'tests'] }, tier: 'small' }, { when: { risk: 'high' }, tier: 'large' }], escalateModelOnRetry: true },
  classification: { labels: { documentation: 'docs' } },
});

const plan: RunPlan = {
  repo: 'docs', url: '/tmp/none', github: 'acme/docs', defaultBranch: 'main', agent: 'claude-code', model: 'claude-sonnet-4-5',
  image: 'nightshift/claude-code:latest', testCommand: 'npm test', budget: { wallClockMs: 1_800_000, tokens: 100_000, usd: 5 }, maxAttempts: 3,
  risk: 'low', riskReasons: [], riskyPaths: [], testChangesPolicy: 'escalate', slug: 'docs-x', escalationWaitMs: 3_600_000, agentEgress: [], classify: true,
};

describe('model routing in the workflow', { timeout: 180_000 }, () => {
  test('attempt 2 uses the escalated tier after a failed attempt 1; the PR body, report and ledger carry the choice', { skip }, async () => {
    const e = env!;
    const models: string[] = [];
    const classified: ClassifyTaskInput[] = [];
    const reports: Report[] = [];
    const delivered: DeliverInput[] = [];
    const acts: Partial<Activities> & ClassifyActivities = {
      scopeTask: async () => ({ ok: true, plan }),
      classifyTask: async (i) => {
        classified.push(i);
        return classifyTask({ config, gateway: undefined as never, gatewayUrl: 'http://127.0.0.1:9', logger: testLogger() }, i);
      },
      prepareWorkspace: async () => ({ path: '/tmp/ws', gitDir: '/tmp/ws.git', baseSha: 'abc' }),
      prepareEnvironment: async () => ({ image: 'env', key: 'k', source: 'default', cached: true, setup: [], seed: [], prepareMs: 1 }),
      // Tests fail before, and after attempt 1; they pass after attempt 2.
      runTests: async (i) => {
        const passed = i.label === 'attempt 2';
        return { passed, exitCode: passed ? 0 : 1, outputTail: '', failingTests: passed ? [] : ['test_docs'], durationMs: 1, command: 'npm test' };
      },
      runAgent: async (i) => {
        models.push(i.plan.model);
        return {
          attempt: i.attempt, end: 'agent_exited', agent: 'claude-code', model: i.plan.model, finalMessage: 'done', exitCode: 0,
          spend: { ...ZERO_SPEND, tokens: 1000, usd: 0.01, requests: 2 }, durationMs: 10, diffStat: ' README.md | 2 +-', filesChanged: ['README.md'], commands: [], lastEvents: [],
        };
      },
      reviewChanges: async () => ({ files: [], totals: { files: 1, lines: 2 }, findings: [], testChanges: [], treeSha: 't' }),
      deliver: async (i) => {
        delivered.push(i);
        return { prUrl: 'https://github.com/acme/docs/pull/3', prNumber: 3, branch: 'nightshift/docs-x', commitSha: 'c', created: true };
      },
      pushWip: async () => undefined,
      notify: async (r) => void reports.push(r),
      cleanup: async () => undefined,
    };
    const req: TaskRequest = { source: { kind: 'cli' }, requester: 'me', repo: 'docs', title: 'Document the config keys', task: 'The README lacks the queue keys; the docs test checks them.', labels: ['documentation'], overrides: { now: true } };
    const { outcome, runs } = await withRunWorkers({ connection: e.nativeConnection, client: e.client, bundle }, acts, async (taskQueue, log) => {
      const outcome = await e.client.workflow.execute(agentTask, { taskQueue, workflowId: `routing-${Date.now()}`, args: [req] });
      return { outcome, runs: log.runs };
    });
    assert.equal(outcome.kind, 'pr_opened');
    assert.equal(classified.length, 1);
    assert.deepEqual(classified[0]!.labels, ['documentation']);
    assert.deepEqual(models, ['claude-haiku-4-5', 'claude-sonnet-4-5']);
    const line = 'Task: docs, medium, low risk — model claude-haiku-4-5 (tier small, rule routing[0]: type in [docs, tests]); after a failed attempt claude-sonnet-4-5 (tier medium, escalateModelOnRetry); classified by config';
    assert.equal(delivered.length, 1);
    assert.ok(delivered[0]!.body.includes(line), delivered[0]!.body);
    const final = reports.find((r) => r.kind === 'pr_opened');
    assert.ok(final?.markdown.includes(line), final?.markdown);
    const last = runs.at(-1)!;
    assert.deepEqual(
      { taskType: last.taskType, taskSize: last.taskSize, taskRisk: last.taskRisk, modelTier: last.modelTier, model: last.model },
      { taskType: 'docs', taskSize: 'medium', taskRisk: 'low', modelTier: 'medium', model: 'claude-sonnet-4-5' },
    );
    assert.equal(last.routingRule, 'routing[0]: type in [docs, tests]; escalateModelOnRetry → medium');
  });
});
