/**
 * Workspace affinity (workflows/run/host.ts) by skipping time: a run claims host A, prepares and
 * escalates there (its partial work pushed to the WIP branch); host A's worker then stops. The
 * next attempt's task waits in A's queue until its ScheduleToStart timeout (5 min, skipped): the
 * run claims host B, re-prepares there from the WIP branch at the pushed commit, says so at its
 * origin and in the final report, and delivers from B. Every host-bound activity runs on the host
 * the run holds at that moment.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createHostActivities, hostTaskQueue } from '../../activities/host.js';
import type { Activities, GateFinding, HostClaim, Report, RunPlan } from '../../workflows/activityTypes.js';
import { agentTask, approveSignal, humanReplySignal } from '../../workflows/index.js';
import { messagesTaskQueue } from '../../workflows/linearTypes.js';
import { ZERO_SPEND, type TaskRequest } from '../../workflows/types.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { runSideActivities } from '../helpers/runWorkers.js';
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

const plan: RunPlan = {
  repo: 'calculator', url: '/tmp/none', github: 'acme/calculator', defaultBranch: 'main', agent: 'claude-code', model: 'claude-sonnet-4-5',
  image: 'nightshift/claude-code:latest', testCommand: 'python3 -m unittest', budget: { wallClockMs: 600_000, tokens: 100_000, usd: 1 },
  maxAttempts: 1, risk: 'low', riskReasons: [], riskyPaths: [], testChangesPolicy: 'escalate', slug: 'fix-add-abc123',
  escalationWaitMs: 24 * 3_600_000, agentEgress: [],
};
const req: TaskRequest = { source: { kind: 'cli' }, requester: 'dev', repo: 'calculator', title: 'Fix add()', task: 'Fix add() so test_add passes.' };
const WIP_SHA = 'a'.repeat(40);
const GONE_MS = 5 * 60_000;

/**
 * The host-bound activities of host `id`: each call is logged as `<id>:<activity>`; `passes` says
 * which attempts' tests pass (attempt 0: the tests before, which fail); `findings`: the diff
 * gate's (any: the change waits for an approval).
 */
function hostActivities(
  id: string,
  calls: string[],
  prepared: unknown[],
  passes: (attempt: number) => boolean,
  findings: GateFinding[] = [],
  /** Warm starts (`<id>:warm:<attempt>:<image>`) and whether each `runAgent` was told to take one (`<id>:runAgent:<attempt>:<warm>`). */
  warms: string[] = [],
): Omit<Activities, 'scopeTask' | 'notify'> {
  const note = (what: string) => calls.push(`${id}:${what}`);
  return {
    async prepareWorkspace(input) {
      note('prepareWorkspace');
      prepared.push({ host: id, from: input.from });
      return { path: `/tmp/${id}/ws`, gitDir: `/tmp/${id}/ws.git`, baseSha: 'b'.repeat(40) };
    },
    async warmAgent(input) {
      warms.push(`${id}:warm:${input.attempt}:${input.plan.image}`);
      return { warmed: true };
    },
    async warmTests(input) {
      warms.push(`${id}:warmTests:${input.attempt}`);
      return { warmed: true };
    },
    async prepareEnvironment() {
      note('prepareEnvironment');
      return { image: 'env-img', key: 'k', source: 'default', cached: true, setup: [], seed: [], prepareMs: 1 };
    },
    async runTests(input) {
      note(`runTests:${input.attempt}`);
      const passed = input.attempt > 0 && passes(input.attempt);
      return { passed, exitCode: passed ? 0 : 1, outputTail: passed ? 'OK' : 'FAIL: test_add', failingTests: passed ? [] : ['t.test_add'], durationMs: 5, command: plan.testCommand, treeSha: 'tree2' };
    },
    async runAgent(input) {
      note(`runAgent:${input.attempt}`);
      warms.push(`${id}:runAgent:${input.attempt}:${input.warm === true}`);
      return {
        attempt: input.attempt, end: 'agent_exited', agent: 'claude-code', model: plan.model, finalMessage: 'done', exitCode: 0,
        spend: { ...ZERO_SPEND, tokens: 1000, usd: 0.01, requests: 1 }, durationMs: 1000, diffStat: ' calc.py | 2 +-', filesChanged: ['calc.py'], commands: [], lastEvents: [],
      };
    },
    async reviewChanges() {
      note('reviewChanges');
      return { files: [], totals: { files: 1, lines: 2 }, findings, testChanges: [], treeSha: 'tree2' } as never;
    },
    async deliver() {
      note('deliver');
      return { prUrl: 'http://github.test/acme/calculator/pull/1', prNumber: 1, branch: 'nightshift/fix-add-abc123', commitSha: 'c'.repeat(40), created: true };
    },
    async pushWip() {
      note('pushWip');
      return { branch: 'nightshift/fix-add-abc123-wip', commitSha: WIP_SHA };
    },
    async cleanup() {
      note('cleanup');
    },
  };
}

async function until<T>(f: () => T | undefined, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a run whose host is gone re-prepares on another host from its WIP branch and says so', { skip, timeout: 300_000 }, async () => {
  const e = env!;
  const taskQueue = `affinity-${Date.now()}`;
  const claim = (id: string): HostClaim => ({ hostId: id, taskQueue: hostTaskQueue(taskQueue, id), hostGoneTimeoutMs: GONE_MS });
  const calls: string[] = [];
  const prepared: unknown[] = [];
  const reports: Report[] = [];
  // The shared queue: whichever worker picks `claimHost` up answers; host A first, then (A gone) B.
  let claims = 0;
  const shared = {
    ...runSideActivities(e.client).acts,
    claimHost: async () => createHostActivities(claim(claims++ === 0 ? 'host-a' : 'host-b')).claimHost({ workflowId: '' }),
    scopeTask: async () => ({ ok: true as const, plan }),
    notify: async (r: Report) => void reports.push(r),
    // The queue drops a run's spend reservation as it gives its slot back (patch release-reservation).
    releaseSpendReservation: async () => undefined,
  };
  const main = await Worker.create({ connection: e.nativeConnection, taskQueue, workflowBundle: bundle, activities: shared });
  const messages = await Worker.create({ connection: e.nativeConnection, taskQueue: messagesTaskQueue(taskQueue), activities: shared });
  const warms: string[] = [];
  const hostA = await Worker.create({ connection: e.nativeConnection, taskQueue: claim('host-a').taskQueue, activities: hostActivities('host-a', calls, prepared, () => false, [], warms) });
  const hostB = await Worker.create({ connection: e.nativeConnection, taskQueue: claim('host-b').taskQueue, activities: hostActivities('host-b', calls, prepared, () => true, [], warms) });
  const runningA = hostA.run();
  try {
    const out = await main.runUntil(messages.runUntil(hostB.runUntil(async () => {
      const handle = await e.client.workflow.start(agentTask, { taskQueue, workflowId: `affinity-${Date.now()}`, args: [req] });
      // Host A prepares, runs attempt 1 (tests fail), pushes the WIP branch and escalates.
      await until(() => reports.find((r) => r.kind === 'escalation'), 'the escalation');
      // Host A dies: its worker stops polling its queue.
      hostA.shutdown();
      await runningA;
      await handle.signal(humanReplySignal, { author: 'dev', text: 'Try handling negative numbers.', via: 'cli' });
      // A's queue is never polled again: the server's clock skips past the host-gone timeout.
      await until(() => calls.includes('host-a:pushWip') || undefined, 'the WIP push');
      await e.sleep(GONE_MS + 60_000);
      const dbg = process.env.TEST_DEBUG ? setInterval(() => void e.currentTimeMs().then((t) => console.error(new Date(t).toISOString(), calls.join(','), reports.map((r) => r.kind).join(','))), 5000) : undefined;
      try {
        return await handle.result();
      } finally {
        clearInterval(dbg);
      }
    })));
    assert.equal(out.kind, 'pr_opened');
    // Before the move every host-bound activity ran on A; after it, every one on B.
    const firstB = calls.findIndex((c) => c.startsWith('host-b:'));
    assert.ok(firstB > 0, `host B took over: ${calls.join(', ')}`);
    assert.ok(calls.slice(0, firstB).every((c) => c.startsWith('host-a:')), calls.join(', '));
    assert.ok(calls.slice(firstB).every((c) => c.startsWith('host-b:')), calls.join(', '));
    assert.ok(!calls.includes('host-a:runAgent:2'), 'the attempt sent to the gone host never ran there');
    // Attempt 2 was cut off with host A (recorded, not reused): B goes on with attempt 3.
    assert.deepEqual(calls.slice(firstB), ['host-b:prepareWorkspace', 'host-b:prepareEnvironment', 'host-b:runTests:0', 'host-b:runAgent:3', 'host-b:runTests:3', 'host-b:reviewChanges', 'host-b:deliver', 'host-b:cleanup']);
    // Each preparation warms the next attempt's agent on its own host, and only that attempt is told
    // to take it (attempt 2, after the guidance, was not prepared for).
    // On A the agent boots first beside the preparation (agent image), then again in the environment's
    // image; on B the plan already has it, so the early one is the one taken.
    assert.deepEqual(warms.filter((w) => !w.includes(':warmTests:')), [
      'host-a:warm:1:nightshift/claude-code:latest', 'host-a:warm:1:env-img', 'host-a:runAgent:1:true', 'host-b:warm:3:env-img', 'host-b:runAgent:3:true',
    ]);
    // Each attempt's validation sandbox starts beside its agent, on the attempt's host.
    assert.deepEqual(warms.filter((w) => w.includes(':warmTests:')), ['host-a:warmTests:1', 'host-b:warmTests:3']);
    // B re-prepared from the pushed WIP commit; A from the base.
    assert.deepEqual(prepared, [{ host: 'host-a', from: undefined }, { host: 'host-b', from: { branch: 'nightshift/fix-add-abc123-wip', sha: WIP_SHA } }]);
    const line = `The worker host host-a was gone for > 5 min; re-prepared on host host-b from nightshift/fix-add-abc123-wip at ${WIP_SHA.slice(0, 12)}. Attempt 2 was cut off with it.`;
    const moved = reports.filter((r) => r.kind === 'host_moved');
    assert.equal(moved.length, 1);
    assert.equal(moved[0]!.markdown, line);
    // The final report says so too; the run kept its attempts (1 before the move, 2 lost with A, 3 on B) and its spend.
    const final = reports.filter((r) => r.kind === 'pr_opened');
    assert.equal(final.length, 1);
    assert.ok(final[0]!.markdown.includes(line), final[0]!.markdown);
    assert.deepEqual(out.attempts.map((a) => [a.attempt, a.end]), [[1, 'agent_exited'], [2, 'host_lost'], [3, 'agent_exited']]);
    assert.equal(out.attempts[1]!.failure, 'the worker host host-a was lost while the agent worked');
    assert.equal(out.spend.usd, 0.02);
  } finally {
    if (hostA.getState() === 'RUNNING') hostA.shutdown();
    await runningA.catch(() => undefined);
  }
});

test('a host lost while delivering a passing change: the run makes it again on another host, with no "tests still fail"', { skip, timeout: 300_000 }, async () => {
  const e = env!;
  const taskQueue = `affinity-deliver-${Date.now()}`;
  const claim = (id: string): HostClaim => ({ hostId: id, taskQueue: hostTaskQueue(taskQueue, id), hostGoneTimeoutMs: GONE_MS });
  const calls: string[] = [];
  const prepared: unknown[] = [];
  const reports: Report[] = [];
  let claims = 0;
  const shared = {
    ...runSideActivities(e.client).acts,
    claimHost: async () => createHostActivities(claim(claims++ === 0 ? 'host-a' : 'host-b')).claimHost({ workflowId: '' }),
    scopeTask: async () => ({ ok: true as const, plan }),
    notify: async (r: Report) => void reports.push(r),
    // The queue drops a run's spend reservation as it gives its slot back (patch release-reservation).
    releaseSpendReservation: async () => undefined,
  };
  const main = await Worker.create({ connection: e.nativeConnection, taskQueue, workflowBundle: bundle, activities: shared });
  const messages = await Worker.create({ connection: e.nativeConnection, taskQueue: messagesTaskQueue(taskQueue), activities: shared });
  // Host A: attempt 1 passes; its diff gate asks for an approval, and A dies while the run waits
  // for it: the delivery's first task then waits in A's queue.
  const hostA = await Worker.create({
    connection: e.nativeConnection,
    taskQueue: claim('host-a').taskQueue,
    activities: hostActivities('host-a', calls, prepared, () => true, [{ kind: 'size', rule: 'more than 1 line changed' }]),
  });
  const hostB = await Worker.create({ connection: e.nativeConnection, taskQueue: claim('host-b').taskQueue, activities: hostActivities('host-b', calls, prepared, () => true) });
  const runningA = hostA.run();
  try {
    const out = await main.runUntil(messages.runUntil(hostB.runUntil(async () => {
      const handle = await e.client.workflow.start(agentTask, { taskQueue, workflowId: `affinity-deliver-${Date.now()}`, args: [req] });
      await until(() => reports.find((r) => r.kind === 'approval_needed'), 'the approval request');
      hostA.shutdown();
      await runningA;
      await handle.signal(approveSignal, { decision: 'approve', by: 'dev' });
      await e.sleep(GONE_MS + 60_000);
      return await handle.result();
    })));
    assert.equal(out.kind, 'pr_opened', `${out.kind}: ${out.reason ?? ''}`);
    assert.equal(reports.filter((r) => r.kind === 'escalation').length, 0, 'no escalation');
    assert.deepEqual(calls, [
      'host-a:prepareWorkspace', 'host-a:prepareEnvironment', 'host-a:runTests:0', 'host-a:runAgent:1', 'host-a:runTests:1', 'host-a:reviewChanges',
      'host-b:prepareWorkspace', 'host-b:prepareEnvironment', 'host-b:runTests:0', 'host-b:runAgent:2', 'host-b:runTests:2', 'host-b:reviewChanges', 'host-b:deliver', 'host-b:cleanup',
    ]);
    // Nothing was pushed: B starts from the base.
    assert.deepEqual(prepared, [{ host: 'host-a', from: undefined }, { host: 'host-b', from: undefined }]);
    const line = 'The worker host host-a was gone for > 5 min; re-prepared on host host-b from the base branch main. The change of attempt 1 passed the tests but was not pushed before the host was lost: the run makes it again.';
    assert.deepEqual(reports.filter((r) => r.kind === 'host_moved').map((r) => r.markdown), [line]);
    const final = reports.filter((r) => r.kind === 'pr_opened');
    assert.equal(final.length, 1);
    assert.ok(final[0]!.markdown.includes(line));
    assert.deepEqual(out.attempts.map((a) => [a.attempt, a.end, a.validation?.passed]), [[1, 'agent_exited', true], [2, 'agent_exited', true]]);
  } finally {
    if (hostA.getState() === 'RUNNING') hostA.shutdown();
    await runningA.catch(() => undefined);
  }
});
