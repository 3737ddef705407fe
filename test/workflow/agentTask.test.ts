/**
 * The `agentTask` workflow's logic against the real Temporal dev server, with activities replaced
 * by in-memory doubles (the activities themselves are covered by the integration tests).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import type { Activities, ChangeReview, DeliverInput, Report, RunPlan } from '../../workflows/activityTypes.js';
import { agentTask, approveSignal, attemptProgressSignal, cancelSignal, humanReplySignal, statusQuery } from '../../workflows/index.js';
import { ZERO_SPEND, type AttemptRecord, type RunOutcome, type TaskRequest, type ValidationResult } from '../../workflows/types.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { withRunWorkers, type RunSideLog } from '../helpers/runWorkers.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  env = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await env?.teardown();
});

const plan: RunPlan = {
  repo: 'calculator',
  url: '/tmp/none',
  github: 'acme/calculator',
  defaultBranch: 'main',
  agent: 'claude-code',
  model: 'claude-sonnet-4-5',
  image: 'nightshift/claude-code:latest',
  testCommand: 'python3 -m unittest',
  budget: { wallClockMs: 600_000, tokens: 100_000, usd: 1 },
  maxAttempts: 3,
  risk: 'low',
  riskReasons: [],
  riskyPaths: [],
  testChangesPolicy: 'escalate',
  slug: 'fix-add-abc123',
  escalationWaitMs: 60 * 60_000,
  agentEgress: [],
};

const req: TaskRequest = { source: { kind: 'cli' }, requester: 'dev', repo: 'calculator', title: 'Fix add()', task: 'Fix add() so test_add passes.' };

function validation(passed: boolean): ValidationResult {
  return { passed, exitCode: passed ? 0 : 1, outputTail: passed ? 'OK' : 'FAIL: test_add (test_calc.CalcTest)', failingTests: passed ? [] : ['test_calc.CalcTest.test_add'], durationMs: 10, command: 'python3 -m unittest' };
}

function attempt(n: number, over: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    attempt: n,
    end: 'agent_exited',
    agent: 'claude-code',
    model: 'claude-sonnet-4-5',
    finalMessage: `attempt ${n} done`,
    exitCode: 0,
    spend: { ...ZERO_SPEND, tokens: 1000, inputTokens: 900, outputTokens: 100, usd: 0.01, requests: 2 },
    durationMs: 1000,
    diffStat: ' calc.py | 2 +-',
    filesChanged: ['calc.py'],
    commands: [{ command: 'python3 -m unittest', exitCode: 1, isError: true }],
    lastEvents: ['Bash python3 -m unittest → exit 1'],
    ...over,
  };
}

/** Activity doubles: `validations` says, per call after `before`, whether the tests pass. */
function fakeActivities(opts: {
  validations: boolean[];
  agent?: (n: number, prompt: string) => AttemptRecord | Promise<AttemptRecord>;
  scopeReject?: string;
  deliverFails?: number;
  /** What the diff gate finds (default: nothing). */
  review?: Partial<ChangeReview>;
  /** The environment's setup fails (ENV_SETUP_FAILED) instead of preparing. */
  setupFails?: boolean;
  /** The base commit's test run (default: failing tests). */
  before?: ValidationResult;
  /** Milliseconds `deliver` takes (heartbeating, like the real one). */
  deliverMs?: number;
  /** Milliseconds `reviewChanges` takes (heartbeating). */
  reviewMs?: number;
}) {
  const deliveries: DeliverInput[] = [];
  const wips: string[] = [];
  const reports: Report[] = [];
  const prompts: string[] = [];
  const calls: string[] = [];
  /** Images the agent and the tests ran in. */
  const images: string[] = [];
  let v = 0;
  let deliverFailures = opts.deliverFails ?? 0;
  const acts: Activities = {
    async scopeTask() {
      calls.push('scope');
      return opts.scopeReject ? { ok: false, reason: opts.scopeReject } : { ok: true, plan };
    },
    async prepareWorkspace() {
      calls.push('prepare');
      return { path: '/tmp/ws', gitDir: '/tmp/ws.git', baseSha: 'abc' };
    },
    async warmAgent() {
      return { warmed: false, reason: 'activity double' };
    },
    async warmTests() {
      return { warmed: false, reason: 'activity double' };
    },
    async prepareEnvironment(input) {
      if (opts.setupFails) {
        throw ApplicationFailure.create({
          type: 'ENV_SETUP_FAILED',
          message: 'setup command `npm ci` failed (exit code 1)',
          nonRetryable: true,
          details: [{ command: 'npm ci', step: 1, exitCode: 1, outputTail: 'npm ERR! code E404\nnpm ERR! 404 Not Found - left-pad' }],
        });
      }
      return { image: `env-of-${input.plan.image}`, key: 'k1', source: 'config', cached: false, setup: ['npm ci'], seed: ['node_modules'], prepareMs: 5 };
    },
    async runTests(input) {
      calls.push(`tests:${input.label}`);
      images.push(input.plan.image);
      if (input.label === 'before') return opts.before ?? validation(false);
      return validation(opts.validations[v++] ?? false);
    },
    async runAgent(input) {
      calls.push(`agent:${input.attempt}`);
      images.push(input.plan.image);
      prompts.push(input.prompt);
      return (await opts.agent?.(input.attempt, input.prompt)) ?? attempt(input.attempt);
    },
    async reviewChanges() {
      for (let t = 0; t < (opts.reviewMs ?? 0); t += 100) {
        Context.current().heartbeat();
        await new Promise((r) => setTimeout(r, 100));
      }
      return { files: [{ path: 'calc.py', status: 'modified', added: 1, removed: 1 }], totals: { files: 1, lines: 2 }, findings: [], testChanges: [], treeSha: 'tree1', ...opts.review };
    },
    async deliver(input) {
      calls.push('deliver');
      deliveries.push(input);
      for (let t = 0; t < (opts.deliverMs ?? 0); t += 100) {
        Context.current().heartbeat();
        await new Promise((r) => setTimeout(r, 100));
      }
      if (deliverFailures-- > 0) throw ApplicationFailure.create({ type: 'GITHUB_FAILED', message: 'GitHub answered 502', nonRetryable: true });
      return { prUrl: 'https://github.com/acme/calculator/pull/1', prNumber: 1, branch: 'nightshift/fix-add-abc123', commitSha: 'def', created: true };
    },
    async pushWip(input) {
      calls.push('wip');
      wips.push(input.reviewedTree);
      return { branch: 'nightshift/fix-add-abc123-wip', commitSha: 'wip' };
    },
    async notify(r) {
      reports.push(r);
    },
    async cleanup(input) {
      calls.push(input.keepWorkspace ? 'cleanup (workspace kept)' : 'cleanup');
    },
  };
  return { acts, reports, prompts, calls, deliveries, wips, images };
}

/** Runs `fn` while the run's workers poll (test/helpers/runWorkers.ts: the run's and the messages task queue). */
async function withWorker<T>(acts: Activities, fn: (taskQueue: string, side: RunSideLog) => Promise<T>): Promise<T> {
  return withRunWorkers({ connection: env.nativeConnection, client: env.client, bundle }, acts, fn);
}

async function waitFor(pred: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not reached');
}

describe('agentTask workflow', { timeout: 120_000 }, () => {
  test('passes on the first attempt: validates, delivers, reports the PR, cleans up', async () => {
    const f = fakeActivities({ validations: [true] });
    let side!: RunSideLog;
    const out = await withWorker(f.acts, (tq, log) => {
      side = log;
      return env.client.workflow.execute(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
    });
    assert.equal(out.kind, 'pr_opened');
    assert.equal(out.prUrl, 'https://github.com/acme/calculator/pull/1');
    assert.equal(side.slots.length, 1, 'one sandbox slot asked for');
    assert.equal(side.runs.at(-1)?.status, 'done', 'the ledger row ends done');
    assert.deepEqual(f.calls, ['scope', 'prepare', 'tests:before', 'agent:1', 'tests:attempt 1', 'deliver', 'cleanup']);
    assert.equal(f.reports.length, 1);
    assert.equal(f.reports[0]!.kind, 'pr_opened');
    assert.ok(f.reports[0]!.markdown.includes('https://github.com/acme/calculator/pull/1'));
    assert.equal(out.spend.tokens, 1000);
  });

  test('the agent and every test run use the prepared environment image', async () => {
    const f = fakeActivities({ validations: [true] });
    const out = await withWorker(f.acts, (tq) => env.client.workflow.execute(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] }));
    assert.equal(out.kind, 'pr_opened');
    assert.deepEqual(f.images, ['env-of-nightshift/claude-code:latest', 'env-of-nightshift/claude-code:latest', 'env-of-nightshift/claude-code:latest']);
  });

  test('a setup command that fails ends the run before any agent, with a report naming the command and what to declare', async () => {
    const f = fakeActivities({ validations: [], setupFails: true });
    const out = await withWorker(f.acts, (tq) => env.client.workflow.execute(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] }));
    assert.equal(out.kind, 'environment_failed');
    assert.deepEqual(f.calls, ['scope', 'prepare', 'cleanup'], 'no test run, no agent');
    assert.deepEqual(f.reports.map((r) => r.kind), ['environment_failed']);
    assert.match(f.reports[0]!.markdown, /`npm ci`/);
    assert.match(f.reports[0]!.markdown, /404 Not Found - left-pad/);
    assert.match(f.reports[0]!.markdown, /repos\.calculator\.environment\.setup/);
    assert.match(f.reports[0]!.markdown, /No agent ran and no tokens were spent/);
    assert.equal(out.spend.tokens, 0);
  });

  test('preflight: tests that cannot run (command not found) end the run before any agent; failing tests do not', async () => {
    const broken: ValidationResult = {
      ...validation(false),
      exitCode: 127,
      outputTail: 'sh: 1: npm: not found',
      failingTests: [],
      command: 'npm test',
      preflight: { verdict: 'environment_broken', rule: 'exit-127', reason: '`npm`: command not found (exit 127)', hint: 'setup: [npm ci]' },
    };
    const f = fakeActivities({ validations: [], before: broken });
    const out = await withWorker(f.acts, (tq) => env.client.workflow.execute(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] }));
    assert.equal(out.kind, 'environment_failed');
    assert.deepEqual(f.calls, ['scope', 'prepare', 'tests:before', 'cleanup']);
    assert.match(f.reports[0]!.markdown, /npm`: command not found/);
    assert.match(f.reports[0]!.markdown, /sh: 1: npm: not found/);
    assert.match(f.reports[0]!.markdown, /setup: \[npm ci\]/);
    assert.equal(out.testsBefore?.exitCode, 127);

    const failing: ValidationResult = { ...validation(false), preflight: { verdict: 'tests_failing', rule: 'tests-failed', reason: '1 test fails' } };
    const g = fakeActivities({ validations: [true], before: failing });
    const ok = await withWorker(g.acts, (tq) => env.client.workflow.execute(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] }));
    assert.equal(ok.kind, 'pr_opened');
  });

  const risky: Partial<ChangeReview> = {
    files: [{ path: '.github/workflows/ci.yml', status: 'modified', added: 2, removed: 1 }],
    findings: [{ kind: 'risky_path', path: '.github/workflows/ci.yml', rule: 'GitHub Actions definition (runs with the repository secrets on push)' }],
    treeSha: 'tree-risky',
  };

  test('a risky diff waits for approval at the origin; nothing is pushed before; approve pushes exactly the reviewed tree', async () => {
    const f = fakeActivities({ validations: [true], review: risky });
    const out = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      // An approval sent before anything is pending approves nothing.
      await h.signal(approveSignal, { decision: 'approve', by: 'early-bird' });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_approval');
      assert.equal(f.deliveries.length, 0, 'nothing delivered while waiting');
      assert.deepEqual(f.reports.map((r) => r.kind), ['approval_needed']);
      assert.match(f.reports[0]!.markdown, /\.github\/workflows\/ci\.yml/);
      assert.match(f.reports[0]!.markdown, /nightshift approve/);
      await h.signal(approveSignal, { decision: 'approve', by: 'alice' });
      return h.result();
    });
    assert.equal(out.kind, 'pr_opened');
    assert.equal(f.deliveries.length, 1);
    assert.equal(f.deliveries[0]!.reviewedTree, 'tree-risky');
    assert.match(f.deliveries[0]!.body, /approved by alice/, 'the PR body carries the gate verdict and who approved');
    assert.doesNotMatch(f.deliveries[0]!.body, /early-bird/);
  });

  test('a rejected risky diff is not pushed: the run escalates with the reason and keeps the workspace', async () => {
    const f = fakeActivities({ validations: [true], review: risky });
    const out = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_approval');
      await h.signal(approveSignal, { decision: 'reject', by: 'bob', reason: 'no CI changes please' });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_human');
      await h.signal(humanReplySignal, { text: 'cancel', author: 'bob' });
      return h.result();
    });
    assert.equal(out.kind, 'cancelled');
    assert.equal(f.deliveries.length, 0);
    assert.deepEqual(f.wips, [], 'the risky partial work was not pushed either');
    const esc = f.reports.find((r) => r.kind === 'escalation');
    assert.ok(esc);
    assert.match(esc.markdown, /bob rejected the change: no CI changes please/);
    assert.match(esc.markdown, /partial work not pushed/);
    assert.ok(f.calls.includes('cleanup (workspace kept)'));
  });

  const tampered: Partial<ChangeReview> = {
    testChanges: [{ path: 'package.json', kind: 'test_command', description: 'package.json: scripts.test changed from "node --test" to "node -e 0"' }],
  };

  test('tests changed + policy escalate: never a PR, an escalation that says what changed in the tests', async () => {
    const f = fakeActivities({ validations: [true], review: tampered });
    const out = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_human');
      await h.signal(cancelSignal, { by: 'carol' });
      return h.result();
    });
    assert.equal(out.kind, 'cancelled');
    assert.equal(f.deliveries.length, 0);
    const esc = f.reports.find((r) => r.kind === 'escalation');
    assert.match(esc!.markdown, /scripts\.test changed from/);
  });

  test('tests changed + policy draft: a draft PR whose body lists the test changes', async () => {
    const f = fakeActivities({ validations: [true], review: tampered });
    const draftPlan: RunPlan = { ...plan, testChangesPolicy: 'draft' };
    f.acts.scopeTask = async () => ({ ok: true, plan: draftPlan });
    const out = await withWorker(f.acts, (tq) => env.client.workflow.execute(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] }));
    assert.equal(out.kind, 'pr_opened');
    assert.equal(out.draft, true);
    assert.equal(f.deliveries[0]!.draft, true);
    assert.match(f.deliveries[0]!.body, /The tests were changed/);
    assert.match(f.deliveries[0]!.body, /scripts\.test changed from/);
  });

  test('a Linear agent session hears from the agent at once (a thought), then gets the outcome', async () => {
    const f = fakeActivities({ validations: [true] });
    const sessionReq: TaskRequest = { ...req, source: { kind: 'linear', issueId: 'i-1', agentSessionId: 's-1' } };
    const out = await withWorker(f.acts, (tq) => env.client.workflow.execute(agentTask, { taskQueue: tq, workflowId: `linear-${randomUUID()}`, args: [sessionReq] }));
    assert.equal(out.kind, 'pr_opened');
    assert.deepEqual(f.reports.map((r) => r.kind), ['accepted', 'pr_opened']);
    assert.match(f.reports[0]!.markdown, /Picked up by Nightshift/);
  });

  test('status shows a running attempt\'s live spend and last events (attemptProgress from the activity)', async () => {
    let proceed: (() => void) | undefined;
    const f = fakeActivities({
      validations: [true],
      agent: async (n) => {
        const { workflowId } = Context.current().info.workflowExecution!;
        const progress = { ...ZERO_SPEND, tokens: 400, inputTokens: 300, outputTokens: 100, usd: 0.0042, requests: 1 };
        await env.client.workflow.getHandle(workflowId).signal(attemptProgressSignal, { attempt: n, spend: progress, lastEvents: ['Bash python3 -m unittest → exit 1'] });
        await new Promise<void>((r) => (proceed = r));
        return attempt(n);
      },
    });
    const out = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).spend.requests === 1);
      const s = await h.query(statusQuery);
      assert.equal(s.phase, 'running_agent');
      assert.equal(s.spend.usd, 0.0042);
      assert.deepEqual(s.lastEvents, ['Bash python3 -m unittest → exit 1']);
      proceed!();
      const r = await h.result();
      const after = await h.query(statusQuery);
      assert.equal(after.spend.tokens, 1000, 'once recorded, the attempt\'s own spend replaces the live one');
      return r;
    });
    assert.equal(out.kind, 'pr_opened');
    assert.equal(out.spend.tokens, 1000);
  });

  test('a failed validation feeds the failing tests into the next attempt', async () => {
    const f = fakeActivities({ validations: [false, true] });
    const out = await withWorker(f.acts, (tq) => env.client.workflow.execute(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] }));
    assert.equal(out.kind, 'pr_opened');
    assert.equal(out.attempts.length, 2);
    assert.doesNotMatch(f.prompts[0]!, /attempt 2/i);
    assert.match(f.prompts[1]!, /This is attempt 2/);
    assert.match(f.prompts[1]!, /test_add \(test_calc\.CalcTest\)/);
    assert.equal(out.spend.tokens, 2000);
  });

  test('an empty diff is a failed attempt whatever the agent says', async () => {
    const f = fakeActivities({ validations: [true, true], agent: (n) => attempt(n, n === 1 ? { filesChanged: [], diffStat: '', finalMessage: 'All done, tests pass!' } : {}) });
    const out = await withWorker(f.acts, (tq) => env.client.workflow.execute(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] }));
    assert.equal(out.kind, 'pr_opened');
    assert.equal(out.attempts[0]!.failure, 'the agent changed no file');
    assert.equal(out.attempts.length, 2);
  });

  test('a rejected scope ends with a message to the origin', async () => {
    const f = fakeActivities({ validations: [], scopeReject: 'unknown repository "nope"' });
    const out = await withWorker(f.acts, (tq) => env.client.workflow.execute(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] }));
    assert.equal(out.kind, 'rejected');
    assert.equal(f.reports.length, 1);
    assert.equal(f.reports[0]!.kind, 'rejected');
    assert.match(f.reports[0]!.markdown, /unknown repository/);
  });

  test('three failing attempts escalate, wait for a human, and guidance leads to a passing attempt with a fresh tranche', async () => {
    const f = fakeActivities({ validations: [false, false, false, true] });
    const workflowId = `cli-${randomUUID()}`;
    const out = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_human');
      const s = await h.query(statusQuery);
      assert.equal(s.attempt, 3);
      assert.equal(s.wipBranch, 'nightshift/fix-add-abc123-wip');
      assert.equal(s.budget?.usd, 1);
      await h.signal(humanReplySignal, { text: 'The bug is the minus sign in add().', author: 'oncall' });
      return h.result();
    });
    assert.equal(out.kind, 'pr_opened');
    assert.equal(out.attempts.length, 4);
    assert.match(f.prompts[3]!, /minus sign in add\(\)/);
    const kinds = f.reports.map((r) => r.kind);
    assert.deepEqual(kinds, ['escalation', 'pr_opened']);
    assert.match(f.reports[0]!.markdown, /test_add/);
    assert.ok(f.calls.includes('wip'));
  });

  test('a stuck verdict ends automatic attempts at once; "take over" hands the branch over', async () => {
    const stuck = { rule: 'repeated_failing_call' as const, repeats: 3, startedAt: 1, decidedAt: 2, message: 'same call failed 3 times', evidence: ['Bash: python3 -m unittest'] };
    const f = fakeActivities({ validations: [false], agent: (n) => attempt(n, { end: 'stuck', stuck }) });
    const workflowId = `cli-${randomUUID()}`;
    const out = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_human');
      await h.signal(humanReplySignal, { text: 'take over', author: 'oncall' });
      return h.result();
    });
    assert.equal(out.kind, 'handed_over');
    assert.equal(out.attempts.length, 1);
    assert.deepEqual(f.reports.map((r) => r.kind), ['escalation', 'handed_over']);
    assert.match(f.reports[0]!.markdown, /repeated_failing_call/);
  });

  test('a change that passes validation is delivered even when the agent was stopped by its time budget', async () => {
    const f = fakeActivities({ validations: [true], agent: (n) => attempt(n, { end: 'budget', budget: { kind: 'time', spent: 600_000, cap: 600_000 } }) });
    const out = await withWorker(f.acts, (tq) => env.client.workflow.execute(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] }));
    assert.equal(out.kind, 'pr_opened');
    assert.deepEqual(f.calls, ['scope', 'prepare', 'tests:before', 'agent:1', 'tests:attempt 1', 'deliver', 'cleanup']);
  });

  test('a stopped attempt whose change fails validation still escalates with the budget as the reason', async () => {
    const f = fakeActivities({ validations: [false], agent: (n) => attempt(n, { end: 'budget', budget: { kind: 'time', spent: 600_000, cap: 600_000 } }) });
    const out = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_human');
      await h.signal(cancelSignal, { by: 'test' });
      return h.result();
    });
    assert.equal(out.kind, 'cancelled');
    assert.match(f.reports[0]!.markdown, /time budget/);
  });

  test('a "cancel" reply sent while the run works cancels it (patch reply-during-work; before it, such a reply answered nothing)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const f = fakeActivities({
      validations: [false],
      agent: async (n) => {
        if (n === 1) await gate;
        return attempt(n);
      },
    });
    await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'running_agent');
      await h.signal(humanReplySignal, { text: 'cancel', author: 'early' });
      release();
      const out = await h.result();
      assert.equal(out.kind, 'cancelled');
      assert.equal(out.reason, 'cancelled by early');
      assert.deepEqual(f.reports.map((r) => r.kind), ['cancelled']);
    });
  });

  test('a cancel during delivery waits for it: the PR it opened is the outcome, reported once, cleanup after', async () => {
    const f = fakeActivities({ validations: [true], deliverMs: 1500 });
    const out = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      await waitFor(async () => f.calls.includes('deliver'));
      await h.signal(cancelSignal, { by: 'pm', reason: 'changed my mind' });
      return h.result();
    });
    assert.equal(out.kind, 'pr_opened');
    assert.deepEqual(f.reports.map((r) => r.kind), ['pr_opened']);
    assert.deepEqual(f.calls.slice(-2), ['deliver', 'cleanup']);
  });

  test('a cancel during the review before delivery: nothing delivered, no approval asked, the run says it was cancelled', async () => {
    const f = fakeActivities({ validations: [true], reviewMs: 1500, review: risky });
    const out = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      // `delivering` is the phase from the review on; the review takes 1.5 s.
      await waitFor(async () => (await h.query(statusQuery)).phase === 'delivering');
      await h.signal(cancelSignal, { by: 'pm' });
      return h.result();
    });
    assert.equal(out.kind, 'cancelled');
    assert.equal(f.deliveries.length, 0);
    assert.deepEqual(f.reports.map((r) => r.kind), ['cancelled']);
  });

  test('two replies to one escalation: the second answers nothing, the next escalation waits for its own', async () => {
    const f = fakeActivities({ validations: [false, false] });
    await withWorker(f.acts, async (tq) => {
      f.acts.scopeTask = async () => ({ ok: true, plan: { ...plan, maxAttempts: 1 } });
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_human');
      await h.signal(humanReplySignal, { text: 'Look at the minus sign.', author: 'a' });
      // Arriving in the same workflow task it is dropped; a moment later (the run already at work)
      // it is a note for the next attempt. Either way it never answers the next escalation.
      await h.signal(humanReplySignal, { text: 'Also check subtract().', author: 'b' });
      await waitFor(async () => f.reports.filter((r) => r.kind === 'escalation').length === 2);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await h.query(statusQuery)).phase, 'awaiting_human', 'the second reply did not answer the second escalation');
      await h.signal(cancelSignal, { by: 'test' });
      assert.equal((await h.result()).kind, 'cancelled');
    });
  });

  test('"cancel" as a reply closes an escalated run with a message', async () => {
    const f = fakeActivities({ validations: [false, false, false] });
    const out = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_human');
      await h.signal(humanReplySignal, { text: 'cancel', author: 'pm' });
      return h.result();
    });
    assert.equal(out.kind, 'cancelled');
    assert.deepEqual(f.reports.map((r) => r.kind), ['escalation', 'cancelled']);
  });

  test('the cancel signal stops a running agent and still reports', async () => {
    let sawCancel = false;
    const f = fakeActivities({
      validations: [],
      // Like the real runAgent: heartbeats, and stops when the cancellation arrives through them.
      agent: async () => {
        const ctx = Context.current();
        for (;;) {
          ctx.heartbeat();
          if (ctx.cancellationSignal.aborted) {
            sawCancel = true;
            throw new CancelledFailure('cancelled');
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      },
    });
    const out: RunOutcome = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'running_agent');
      await h.signal(cancelSignal, { by: 'pm', reason: 'not needed' });
      return h.result();
    });
    assert.equal(out.kind, 'cancelled');
    assert.equal(sawCancel, true, 'the running activity was cancelled');
    assert.deepEqual(f.reports.map((r) => r.kind), ['cancelled']);
    assert.ok(f.calls.includes('wip'), 'partial work is pushed');
    assert.ok(f.calls.includes('cleanup'));
  });

  test('a cancel whose partial work cannot be pushed is still reported, and the workspace is kept', async () => {
    const f = fakeActivities({ validations: [false, false, false] });
    f.acts.pushWip = async () => {
      throw ApplicationFailure.create({ type: 'PUSH_FAILED', message: 'remote rejected', nonRetryable: true });
    };
    const out = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_human');
      await h.signal(humanReplySignal, { text: 'cancel', author: 'pm' });
      return h.result();
    });
    assert.equal(out.kind, 'cancelled');
    assert.deepEqual(f.reports.map((r) => r.kind), ['escalation', 'cancelled']);
    assert.match(f.reports[0]!.markdown, /PUSH_FAILED/);
    assert.equal(f.calls.at(-1), 'cleanup (workspace kept)');
  });

  test('an escalation nobody answers times out into an explicit state with a message', async () => {
    const f = fakeActivities({ validations: [false, false, false] });
    f.acts.scopeTask = async () => ({ ok: true, plan: { ...plan, escalationWaitMs: 1500 } });
    const out = await withWorker(f.acts, (tq) => env.client.workflow.execute(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] }));
    assert.equal(out.kind, 'escalation_timed_out');
    assert.deepEqual(f.reports.map((r) => r.kind), ['escalation', 'timed_out']);
    assert.match(f.reports[1]!.markdown, /Spent 3,000 tokens/, 'every report carries the spend');
  });

  test('an infrastructure failure escalates with its error code; guidance retries the failed stage', async () => {
    const f = fakeActivities({ validations: [true], deliverFails: 1 });
    const out = await withWorker(f.acts, async (tq) => {
      const h = await env.client.workflow.start(agentTask, { taskQueue: tq, workflowId: `cli-${randomUUID()}`, args: [req] });
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_human');
      await h.signal(humanReplySignal, { text: 'GitHub is back, try again', author: 'oncall' });
      return h.result();
    });
    assert.equal(out.kind, 'pr_opened');
    assert.equal(out.attempts.length, 1, 'delivery is retried without a new agent attempt');
    assert.deepEqual(f.reports.map((r) => r.kind), ['escalation', 'pr_opened']);
    assert.match(f.reports[0]!.markdown, /GITHUB_FAILED/);
  });
});
