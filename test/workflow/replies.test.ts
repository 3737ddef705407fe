/**
 * Replies while a run works (patch `reply-during-work`), against the real Temporal dev server with
 * in-memory activity doubles: guidance is queued for the next attempt and acknowledged at the
 * origin; a reply id seen before is ignored; a note the passing attempt never saw is listed in the
 * PR; "take over" ends the run at the end of the current attempt.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Activities, DeliverInput, Report, RunPlan } from '../../workflows/activityTypes.js';
import { agentTask, humanReplySignal, statusQuery } from '../../workflows/index.js';
import { ZERO_SPEND, type AttemptRecord, type TaskRequest, type ValidationResult } from '../../workflows/types.js';
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

const plan: RunPlan = {
  repo: 'calculator', url: '/tmp/none', github: 'acme/calculator', defaultBranch: 'main', agent: 'claude-code', model: 'claude-sonnet-4-5',
  image: 'nightshift/claude-code:latest', testCommand: 'python3 -m unittest', budget: { wallClockMs: 600_000, tokens: 100_000, usd: 1 }, maxAttempts: 3,
  risk: 'low', riskReasons: [], riskyPaths: [], testChangesPolicy: 'escalate', slug: 'fix-add-abc123', escalationWaitMs: 3_600_000, agentEgress: [],
};
const req: TaskRequest = { source: { kind: 'cli' }, requester: 'dev', repo: 'calculator', title: 'Fix add()', task: 'Fix add() so test_add passes.' };
const validation = (passed: boolean): ValidationResult => ({ passed, exitCode: passed ? 0 : 1, outputTail: passed ? 'OK' : 'FAIL: test_add', failingTests: passed ? [] : ['test_add'], durationMs: 1, command: 'python3 -m unittest' });
const attempt = (n: number): AttemptRecord => ({
  attempt: n, end: 'agent_exited', agent: 'claude-code', model: 'claude-sonnet-4-5', finalMessage: 'done', exitCode: 0,
  spend: { ...ZERO_SPEND, tokens: 100, usd: 0.001, requests: 1 }, durationMs: 10, diffStat: ' calc.py | 2 +-', filesChanged: ['calc.py'], commands: [], lastEvents: [],
});

/** Activity doubles; attempt 1 waits for `release()` so that replies arrive while it runs. */
function fakes(validations: boolean[]) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const reports: Report[] = [];
  const prompts: string[] = [];
  const deliveries: DeliverInput[] = [];
  const calls: string[] = [];
  let v = 0;
  const acts: Activities = {
    scopeTask: async () => ({ ok: true, plan }),
    prepareWorkspace: async () => ({ path: '/tmp/ws', gitDir: '/tmp/ws.git', baseSha: 'abc' }),
    prepareEnvironment: async () => ({ image: 'env', key: 'k', source: 'default', cached: true, setup: [], seed: [], prepareMs: 1 }),
    warmAgent: async () => ({ warmed: false, reason: 'activity double' }),
    warmTests: async () => ({ warmed: false, reason: 'activity double' }),
    runTests: async (i) => (i.label === 'before' ? validation(false) : validation(validations[v++] ?? false)),
    runAgent: async (i) => {
      calls.push(`agent:${i.attempt}`);
      prompts.push(i.prompt);
      if (i.attempt === 1) await gate;
      return attempt(i.attempt);
    },
    reviewChanges: async () => ({ files: [], totals: { files: 1, lines: 2 }, findings: [], testChanges: [], treeSha: 't' }),
    deliver: async (i) => {
      deliveries.push(i);
      return { prUrl: 'https://github.com/acme/calculator/pull/1', prNumber: 1, branch: 'nightshift/fix-add-abc123', commitSha: 'c', created: true };
    },
    pushWip: async () => {
      calls.push('wip');
      return { branch: 'nightshift/fix-add-abc123-wip', commitSha: 'w' };
    },
    notify: async (r) => void reports.push(r),
    cleanup: async () => undefined,
  };
  return { acts, reports, prompts, deliveries, calls, release: () => release() };
}

async function waitFor(pred: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not reached');
}

/** Starts a run on a worker of its own; the held attempt is always released, so that the worker can shut down. */
async function run<T>(f: ReturnType<typeof fakes>, fn: (h: Awaited<ReturnType<typeof env.client.workflow.start<typeof agentTask>>>) => Promise<T>): Promise<T> {
  return withRunWorkers({ connection: env.nativeConnection, client: env.client, bundle }, f.acts, async (taskQueue) => {
    const h = await env.client.workflow.start(agentTask, { taskQueue, workflowId: `cli-${randomUUID()}`, args: [req] });
    try {
      return await fn(h);
    } catch (err) {
      await h.terminate('test failed').catch(() => undefined);
      throw err;
    } finally {
      f.release();
    }
  });
}

describe('replies while the run works', { timeout: 120_000 }, () => {
  test('guidance during attempt 1 is acknowledged, reaches attempt 2\'s prompt, and a redelivered reply id is ignored', async () => {
    const f = fakes([false, true]);
    const out = await run(f, async (h) => {
      await waitFor(async () => (await h.query(statusQuery)).phase === 'running_agent');
      const reply = { text: 'Look at the minus sign in add().', author: 'pm', id: 'act-1', via: 'linear-session' as const };
      await h.signal(humanReplySignal, reply);
      await h.signal(humanReplySignal, reply);
      await waitFor(() => f.reports.some((r) => r.kind === 'reply_noted'));
      f.release();
      return h.result();
    });
    assert.equal(out.kind, 'pr_opened');
    assert.deepEqual(f.reports.map((r) => r.kind), ['reply_noted', 'pr_opened'], 'one acknowledgement for two deliveries of one reply');
    assert.match(f.reports[0]!.markdown, /\*\*Noted\*\* — it goes into the next attempt/);
    assert.doesNotMatch(f.prompts[0]!, /minus sign/);
    assert.equal(f.prompts[1]!.split('minus sign').length - 1, 1, 'the note is in attempt 2\'s prompt once');
    assert.equal(out.notesNotActedOn, undefined, 'attempt 2 acted on it');
  });

  test('a note sent during the attempt that passes is listed in the PR as not acted on', async () => {
    const f = fakes([true]);
    const out = await run(f, async (h) => {
      await waitFor(async () => (await h.query(statusQuery)).phase === 'running_agent');
      await h.signal(humanReplySignal, { text: 'Also rename add to plus.', author: 'pm', id: 'c-9' });
      await waitFor(() => f.reports.some((r) => r.kind === 'reply_noted'));
      f.release();
      return h.result();
    });
    assert.equal(out.kind, 'pr_opened');
    assert.deepEqual(out.notesNotActedOn, [{ author: 'pm', text: 'Also rename add to plus.' }]);
    assert.match(f.deliveries[0]!.body, /Notes not acted on[\s\S]*pm: Also rename add to plus\./);
    assert.match(f.reports.at(-1)!.markdown, /Notes not acted on/);
  });

  test('a Linear comment reply counts only in the thread of one of the run\'s own comments', async () => {
    const f = fakes([false, true]);
    const out = await run(f, async (h) => {
      await waitFor(async () => (await h.query(statusQuery)).phase === 'running_agent');
      const comment = (id: string, inReplyTo: string, text: string) => ({ text, author: 'pm', id, via: 'linear-comment' as const, inReplyTo });
      await h.signal(humanReplySignal, comment('c-1', 'someone-elses-comment', 'Unrelated chat between people.'));
      await h.signal(humanReplySignal, { text: 'Check the sign.', author: 'pm', id: 'act-1', via: 'linear-session' as const });
      await waitFor(() => f.reports.some((r) => r.kind === 'reply_noted'));
      const noted = f.reports.find((r) => r.kind === 'reply_noted')!;
      await h.signal(humanReplySignal, comment('c-2', noted.reportId!, 'And keep add() pure.'));
      await waitFor(() => f.reports.filter((r) => r.kind === 'reply_noted').length === 2);
      f.release();
      return h.result();
    });
    assert.equal(out.kind, 'pr_opened');
    assert.doesNotMatch(f.prompts[1]!, /Unrelated chat/);
    assert.match(f.prompts[1]!, /Check the sign\./);
    assert.match(f.prompts[1]!, /keep add\(\) pure/);
  });

  test('"take over" during an attempt hands over at its end: partial work pushed, no further attempt', async () => {
    const f = fakes([false, true]);
    const out = await run(f, async (h) => {
      await waitFor(async () => (await h.query(statusQuery)).phase === 'running_agent');
      await h.signal(humanReplySignal, { text: 'take over', author: 'dev2', id: 's-1' });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await h.query(statusQuery)).phase, 'running_agent', 'the attempt is not cut off');
      f.release();
      return h.result();
    });
    assert.equal(out.kind, 'handed_over');
    assert.equal(out.reason, 'taken over by dev2');
    assert.deepEqual(f.calls, ['agent:1', 'wip']);
    assert.deepEqual(f.reports.map((r) => r.kind), ['handed_over']);
    assert.match(f.reports[0]!.markdown, /nightshift\/fix-add-abc123-wip/);
  });
});
