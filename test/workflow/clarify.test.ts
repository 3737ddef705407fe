/**
 * Clarifying questions at scope (patch `clarify-at-scope`), against the real Temporal dev server
 * with activity doubles (the assessment itself, through the real gateway, is covered by
 * test/integration/clarify.test.ts): ask → answer → re-scope with the repository chosen; proceed;
 * at most 2 questions; an unanswered question times out into an explicit outcome. Which
 * repository, when scope knows none for the task: asked with the configured ones as options.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { AssessTaskInput, Assessment } from '../../activities/clarify.js';
import type { Activities, Report, RunPlan } from '../../workflows/activityTypes.js';
import { agentTask, humanReplySignal, statusQuery } from '../../workflows/index.js';
import { ZERO_SPEND, type RunOutcome, type TaskRequest } from '../../workflows/types.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { withRunWorkers } from '../helpers/runWorkers.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
before(async () => {
  env = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await env?.teardown();
});

const planOf = (repo: string, escalationWaitMs = 3_600_000): RunPlan => ({
  repo, url: '/tmp/none', github: `acme/${repo}`, defaultBranch: 'main', agent: 'claude-code', model: 'claude-sonnet-4-5',
  image: 'nightshift/claude-code:latest', testCommand: 'python3 -m unittest', budget: { wallClockMs: 600_000, tokens: 100_000, usd: 1 }, maxAttempts: 3,
  risk: 'low', riskReasons: [], riskyPaths: [], testChangesPolicy: 'escalate', slug: `fix-${repo}`, escalationWaitMs, agentEgress: [],
});
const req: TaskRequest = { source: { kind: 'linear', issueId: 'i-1', agentSessionId: 's-1' }, requester: 'pm', repo: 'calculator', title: 'Fix rounding', task: 'Totals are off by a cent sometimes.' };
/** What one assessment costs (the gateway's metering, in the double). */
const ASSESS_SPEND = { ...ZERO_SPEND, inputTokens: 400, outputTokens: 60, tokens: 460, usd: 0.002, requests: 1 };

/** Activity doubles; `assess` answers each assessment; `repos`: the configured ones when the request's repository is not among them (scope's `repoUnknown`). */
function fakes(assess: (i: AssessTaskInput) => Omit<Assessment, 'spend'>, escalationWaitMs?: number, repos?: string[]) {
  const reports: Report[] = [];
  const scoped: TaskRequest[] = [];
  const assessed: AssessTaskInput[] = [];
  const calls: string[] = [];
  const acts: Partial<Activities> & { assessTask(i: AssessTaskInput): Promise<Assessment> } = {
    scopeTask: async (r) => {
      scoped.push(r);
      if (repos && !repos.includes(r.repo)) return { ok: false, reason: 'no repository is named for this task.', repoUnknown: { repos, answerWaitMs: escalationWaitMs ?? 3_600_000 } };
      return { ok: true, plan: planOf(r.repo, escalationWaitMs) };
    },
    assessTask: async (i) => {
      assessed.push(i);
      return { ...assess(i), spend: ASSESS_SPEND };
    },
    prepareWorkspace: async () => {
      calls.push('prepare');
      return { path: '/tmp/ws', gitDir: '/tmp/ws.git', baseSha: 'abc' };
    },
    prepareEnvironment: async () => ({ image: 'env', key: 'k', source: 'default', cached: true, setup: [], seed: [], prepareMs: 1 }),
    runTests: async (i) => ({ passed: i.label !== 'before', exitCode: i.label === 'before' ? 1 : 0, outputTail: '', failingTests: [], durationMs: 1, command: 'python3 -m unittest' }),
    runAgent: async (i) => ({
      attempt: i.attempt, end: 'agent_exited', agent: 'claude-code', model: 'claude-sonnet-4-5', finalMessage: 'done', exitCode: 0,
      spend: { ...ZERO_SPEND, tokens: 1000, usd: 0.01, requests: 2 }, durationMs: 10, diffStat: ' calc.py | 2 +-', filesChanged: ['calc.py'], commands: [], lastEvents: [],
    }),
    reviewChanges: async () => ({ files: [], totals: { files: 1, lines: 2 }, findings: [], testChanges: [], treeSha: 't' }),
    deliver: async () => ({ prUrl: 'https://github.com/acme/billing/pull/7', prNumber: 7, branch: 'nightshift/x', commitSha: 'c', created: true }),
    pushWip: async () => undefined,
    notify: async (r) => void reports.push(r),
    cleanup: async () => undefined,
  };
  return { acts, reports, scoped, assessed, calls };
}

type Handle = Awaited<ReturnType<typeof env.client.workflow.start<typeof agentTask>>>;

async function waitFor(pred: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not reached');
}

async function run(f: ReturnType<typeof fakes>, fn: (h: Handle) => Promise<void> = async () => undefined, request: TaskRequest = req): Promise<RunOutcome> {
  return withRunWorkers({ connection: env.nativeConnection, client: env.client, bundle }, f.acts, async (taskQueue) => {
    const h = await env.client.workflow.start(agentTask, { taskQueue, workflowId: `linear-${randomUUID()}`, args: [request] });
    try {
      await fn(h);
      return await h.result();
    } catch (err) {
      await h.terminate('test failed').catch(() => undefined);
      throw err;
    }
  });
}

const answerWhenAsked = (n: number, text: (i: number) => string) => async (h: Handle) => {
  for (let i = 1; i <= n; i++) {
    await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_answer');
    await h.signal(humanReplySignal, { text: text(i), author: 'pm', id: `answer-${i}` });
    if (i < n) await waitFor(async () => (await h.query(statusQuery)).phase !== 'awaiting_answer');
  }
};

describe('clarifying questions at scope', { timeout: 120_000 }, () => {
  test('ask with repository choices → the answer chooses the repository, the task carries it, scope runs again, then the run goes on', async () => {
    const f = fakes((i) =>
      i.sequence === 1
        ? { decision: 'ask', question: 'Which service computes the totals?', options: ['calculator', 'billing'], optionsAreRepos: true, rationale: 'two repositories could be meant' }
        : { decision: 'proceed', rationale: 'bounded: the rounding of totals in billing, shown by its tests' },
    );
    const out = await run(f, answerWhenAsked(1, () => 'billing'));
    assert.equal(out.kind, 'pr_opened');
    assert.deepEqual(f.scoped.map((r) => r.repo), ['calculator', 'billing'], 'scope ran again with the chosen repository');
    assert.match(f.scoped[1]!.task, /Q: Which service computes the totals\?\nA \(pm\): billing/);
    assert.deepEqual(f.assessed.map((a) => a.repo), ['calculator', 'billing']);
    assert.equal(f.assessed[1]!.limits.usd, 1 - ASSESS_SPEND.usd, 'the first assessment counts against the budget of the second');
    const kinds = f.reports.map((r) => r.kind);
    assert.deepEqual(kinds, ['accepted', 'question', 'pr_opened'], 'the answer answered the question: no "noted" acknowledgement');
    const q = f.reports[1]!;
    assert.deepEqual(q.options, ['calculator', 'billing'], 'the choices go to the origin (Linear: a select signal)');
    assert.match(q.markdown, /Which service computes the totals\?/);
    assert.deepEqual(out.clarify?.questions, [{ question: 'Which service computes the totals?', options: ['calculator', 'billing'], answer: 'billing', by: 'pm', repo: 'billing' }]);
    assert.equal(out.clarify?.decision, 'proceed');
    assert.match(f.reports.at(-1)!.markdown, /Scope check:\*\* proceed \(1 question asked\): bounded: the rounding of totals in billing/);
    assert.equal(out.spend.usd, 2 * ASSESS_SPEND.usd + 0.01, 'the assessments count in the run\'s spend');
    assert.equal(out.spend.tokens, 2 * ASSESS_SPEND.tokens + 1000);
  });

  test('proceed: no question, the decision and rationale are in the final report', async () => {
    const f = fakes(() => ({ decision: 'proceed', rationale: 'one failing test names the bug' }));
    const out = await run(f);
    assert.equal(out.kind, 'pr_opened');
    assert.equal(f.assessed.length, 1);
    assert.deepEqual(f.reports.map((r) => r.kind), ['accepted', 'pr_opened']);
    assert.match(f.reports[1]!.markdown, /Scope check:\*\* proceed: one failing test names the bug/);
    assert.deepEqual(out.clarify, { decision: 'proceed', rationale: 'one failing test names the bug', questions: [], spend: ASSESS_SPEND });
  });

  test('at most 2 questions: after the second answer the run goes on without asking again', async () => {
    const f = fakes((i) => ({ decision: 'ask', question: `Question ${i.sequence}?`, rationale: 'no success criterion' }));
    const out = await run(f, answerWhenAsked(2, (i) => `answer ${i}`));
    assert.equal(out.kind, 'pr_opened');
    assert.equal(f.assessed.length, 2, 'no third assessment');
    assert.deepEqual(f.reports.map((r) => r.kind), ['accepted', 'question', 'question', 'pr_opened']);
    assert.equal(f.reports[1]!.options, undefined);
    assert.deepEqual(out.clarify?.questions.map((q) => q.answer), ['answer 1', 'answer 2']);
    assert.equal(out.clarify?.decision, 'proceed');
    assert.match(out.clarify!.rationale, /2 questions asked \(the limit\)/);
    assert.match(f.scoped.at(-1)!.task, /A \(pm\): answer 1\n.*\nA \(pm\): answer 2/s);
    assert.deepEqual(f.scoped.map((r) => r.repo), ['calculator', 'calculator', 'calculator'], 'a free-text answer chooses no repository');
  });

  test('an unanswered question times out into an explicit outcome with a message; nothing was prepared', async () => {
    const f = fakes(() => ({ decision: 'ask', question: 'What should the total be?', rationale: 'no success criterion' }), 1500);
    const out = await run(f);
    assert.equal(out.kind, 'escalation_timed_out');
    assert.match(out.reason ?? '', /no answer to the clarifying question/);
    assert.deepEqual(f.reports.map((r) => r.kind), ['accepted', 'question', 'timed_out']);
    assert.match(f.reports[2]!.markdown, /no answer to my question within/);
    assert.match(f.reports[2]!.markdown, /Scope check:\*\* ask \(1 question asked\)/);
    assert.deepEqual(f.calls, []);
    assert.equal(out.spend.usd, ASSESS_SPEND.usd);
  });
});

describe('which repository, when scope knows none (a Linear team mapped to no repository)', { timeout: 120_000 }, () => {
  const noRepo: TaskRequest = { ...req, repo: '' };
  const REPOS = ['calculator', 'billing', 'ledger'];

  test('scope names the repositories → a question with them as options → the answer chooses one → scope and the assessment on it → PR', async () => {
    const f = fakes(() => ({ decision: 'proceed', rationale: 'bounded: the rounding of totals, shown by the tests' }), undefined, REPOS);
    const out = await run(f, answerWhenAsked(1, () => 'billing'), noRepo);
    assert.equal(out.kind, 'pr_opened', `${out.kind} ${out.reason ?? ''}`);
    assert.deepEqual(f.scoped.map((r) => r.repo), ['', 'billing'], 'scope ran again with the chosen repository');
    assert.deepEqual(f.reports.map((r) => r.kind), ['accepted', 'question', 'pr_opened']);
    const q = f.reports[1]!;
    assert.deepEqual(q.options, REPOS, 'the options are the configured repositories (Linear: a select)');
    assert.match(q.markdown, /Which repository should I work in\?/);
    assert.match(q.markdown, /no configured repository is named for this task/);
    assert.deepEqual(f.assessed.map((a) => [a.repo, a.sequence]), [['billing', 2]], 'no model asked which repository; the assessment ran on the chosen one');
    assert.deepEqual(out.clarify?.questions, [{ question: 'Which repository should I work in?', options: REPOS, answer: 'billing', by: 'pm', repo: 'billing' }]);
    assert.equal(out.clarify?.decision, 'proceed');
    assert.match(f.scoped[1]!.task, /Q: Which repository should I work in\?\nA \(pm\): billing/);
  });

  test('answers naming no repository: asked twice (the limit), then rejected as before; nothing prepared', async () => {
    const f = fakes(() => ({ decision: 'proceed', rationale: 'x' }), undefined, REPOS);
    const out = await run(f, answerWhenAsked(2, () => 'the one with the totals'), noRepo);
    assert.equal(out.kind, 'rejected');
    assert.match(out.reason ?? '', /no repository is named/);
    assert.deepEqual(f.reports.map((r) => r.kind), ['accepted', 'question', 'question', 'rejected']);
    assert.equal(f.assessed.length, 0);
    assert.deepEqual(f.calls, []);
  });

  test('without repoUnknown (clarify off, or one repository) the task is rejected at once, as before', async () => {
    const f = fakes(() => ({ decision: 'proceed', rationale: 'x' }));
    f.acts.scopeTask = async (r) => (f.scoped.push(r), { ok: false, reason: 'no repository is named for this task. Known repositories: calculator.' });
    const out = await run(f, async () => undefined, noRepo);
    assert.equal(out.kind, 'rejected');
    assert.deepEqual(f.reports.map((r) => r.kind), ['accepted', 'rejected']);
    assert.equal(f.scoped.length, 1);
  });

  test('cancel as the answer cancels the run', async () => {
    const f = fakes(() => ({ decision: 'proceed', rationale: 'x' }), undefined, REPOS);
    const out = await run(f, answerWhenAsked(1, () => 'cancel'), noRepo);
    assert.equal(out.kind, 'cancelled');
    assert.deepEqual(f.calls, []);
  });
});
