/**
 * Warm agent starts (activities/warmAgent.ts, workflows/run/warm.ts) through the whole local stack:
 * real Temporal, Docker, gateway and Claude Code CLI against the scripted model.
 *
 * - On (the default): the attempt's one agent container is created while the workspace is
 *   prepared (the repository declares no environment: the agent image is its image), the model
 *   hears nothing before the tests before have passed, the prompt reaches it whole through stdin;
 *   the attempt's validation container is created while its agent works, and validates the tree
 *   exported after it (the tests pass on the fix, fail on an attempt that breaks them); the run
 *   ends as a validated PR with no warm sandbox or container left.
 * - An environment with setup (its own image): the early agent is replaced by one in the
 *   environment's image, booted beside the tests before, which the attempt takes.
 * - A broken environment: the warm agent never gets its prompt (no model request) and goes with
 *   the run, its gateway run closed.
 * - `sandbox.warmStart: false`: the agent container is created only after the tests before, the
 *   validation container only after the agent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { RUN_LABEL } from '../../activities/sandbox.js';
import { runKeyOf } from '../../activities/agentLaunch.js';
import { phasesOf } from '../../bench/overheadPhases.js';
import { fixCalculatorScript } from '../../devstack/scripts.js';
import type { Script, ScriptStep } from '../../devstack/scriptedModel.js';
import { LocalStack, type LocalStackOptions } from '../../devstack/stack.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { containerCreations, outcomeWithin, removeEnvironmentImages, startCliRun } from '../helpers/ecosystemRun.js';

const docker = new Docker();
const TASK = 'add() in calc.py returns the wrong result. Done when `python3 -m unittest` passes.';
let temporal: TestWorkflowEnvironment | undefined;
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await temporal?.teardown();
});

async function withStack<T>(opts: Partial<LocalStackOptions>, fn: (stack: LocalStack) => Promise<T>): Promise<T> {
  const stack = await LocalStack.start({ script: fixCalculatorScript(), temporal, workflowBundle: bundle, taskQueue: `warm-${Date.now().toString(36)}`, ...opts });
  try {
    return await fn(stack);
  } finally {
    await stack.stop();
  }
}

/** When the run's tests before any change (`runTests`, attempt 0: the first one) completed (epoch ms). */
async function testsBeforeDone(stack: LocalStack, workflowId: string): Promise<{ scheduledAt: number; completedAt: number }> {
  const tests = (await phasesOf(stack.client, workflowId)).activities.filter((a) => a.name === 'runTests');
  assert.ok(tests.length >= 1, 'the tests before ran');
  return tests[0]!;
}

/** When each `runAgent` of the run completed (epoch ms), in order. */
async function agentsDone(stack: LocalStack, workflowId: string): Promise<number[]> {
  return (await phasesOf(stack.client, workflowId)).activities.filter((a) => a.name === 'runAgent').map((a) => a.completedAt);
}

/** The text of the first user message of a model request (the agent's prompt, on its first request). */
function firstUserText(body: unknown): string {
  const first = (body as { messages?: Array<{ role: string; content: unknown }> })?.messages?.find((m) => m.role === 'user');
  const c = first?.content;
  return typeof c === 'string' ? c : JSON.stringify(c ?? '');
}

describe('warm agent start', { timeout: 480_000 }, () => {
  test('on: the agent boots while the tests before run, hears its whole prompt after them, and the run ends as a PR with nothing left', async () => {
    await withStack({}, async (stack) => {
      const t0 = Math.floor(Date.now() / 1000) - 1;
      const workflowId = await startCliRun(stack.client, stack.config.temporal.taskQueue, 'calculator', 'Fix add()', TASK);
      const outcome = await outcomeWithin(stack.client, workflowId, 180_000);
      assert.equal(outcome.kind, 'pr_opened', `${outcome.kind}: ${outcome.reason ?? ''}`);
      assert.equal(outcome.attempts.length, 1);
      const before = await testsBeforeDone(stack, workflowId);
      const agents = await containerCreations(docker, t0, 'agent', workflowId);
      // One agent container for the one attempt: the warm one, created before the environment was ready.
      const envReady = (await phasesOf(stack.client, workflowId)).activities.find((a) => a.name === 'prepareEnvironment')!.completedAt;
      assert.equal(agents.length, 1, `agent containers: ${JSON.stringify(agents)}`);
      assert.ok(agents[0]!.atMs < envReady, `the agent container was created at ${agents[0]!.atMs}, the environment was ready at ${envReady}`);
      assert.ok(agents[0]!.atMs < before.completedAt);
      // Nothing was asked of the model before the tests before had passed (the CLI waited for its prompt).
      const agentRequests = stack.model!.requests.filter((r) => r.step !== undefined);
      assert.ok(agentRequests.length >= 2, `model requests: ${agentRequests.length}`);
      assert.ok(stack.model!.requests.every((r) => r.at >= before.completedAt), 'no model request before the tests before ended');
      // The prompt came through stdin whole: the task and Nightshift's instructions around it.
      const prompt = firstUserText(agentRequests[0]!.body);
      assert.ok(prompt.includes(TASK), `the prompt holds the task: ${prompt.slice(0, 400)}`);
      assert.match(prompt, /python3 -m unittest/);
      // The validation's container (the second tests container: the first ran the tests before) was created while the agent worked.
      const [agentDone] = await agentsDone(stack, workflowId);
      const tests = await containerCreations(docker, t0, 'tests', workflowId);
      assert.equal(tests.length, 2, `tests containers: ${JSON.stringify(tests)}`);
      assert.ok(tests[1]!.atMs < agentDone!, `the validation container was created at ${tests[1]!.atMs}, the agent ended at ${agentDone}`);
      // It validated the tree the agent left: the tests fail before, pass after (4 of them).
      assert.equal(outcome.testsBefore?.passed, false);
      const validation = outcome.attempts[0]!.validation!;
      assert.equal(validation.passed, true, validation.outputTail);
      assert.match(validation.outputTail, /Ran 4 tests/);
      assert.equal(stack.worker.warm.size + stack.worker.warmTests.size, 0, 'no warm sandbox is left');
      assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${workflowId}`] } }), [], 'no container of the run is left');
      assert.equal(stack.worker.gateway.status(runKeyOf(workflowId, 1)).closed, true, 'the attempt’s gateway run is closed');
    });
  });

  test('an environment with setup (the repository\'s image): nothing of it starts ahead; the early agent in the agent image makes way', async () => {
    await withStack({ environment: { setup: ['echo prepared > /tmp/nightshift-setup-ran'] } }, async (stack) => {
      const t0 = Math.floor(Date.now() / 1000) - 1;
      const workflowId = await startCliRun(stack.client, stack.config.temporal.taskQueue, 'calculator', 'Fix add()', TASK);
      const outcome = await outcomeWithin(stack.client, workflowId, 240_000);
      assert.equal(outcome.kind, 'pr_opened', `${outcome.kind}: ${outcome.reason ?? ''}`);
      const phases = (await phasesOf(stack.client, workflowId)).activities;
      const envReady = phases.find((a) => a.name === 'prepareEnvironment')!.completedAt;
      const agents = await containerCreations(docker, t0, 'agent', workflowId);
      const before = await testsBeforeDone(stack, workflowId);
      const [agentDone] = await agentsDone(stack, workflowId);
      // The early agent (agent image, before the environment was known), then the attempt's own in the
      // environment's image, started when its prompt was known (the repository's image runs nothing ahead).
      assert.equal(agents.length, 2, `agent containers: ${JSON.stringify(agents)}`);
      assert.ok(agents[0]!.atMs < envReady && agents[1]!.atMs > before.completedAt, `created at ${agents.map((a) => a.atMs).join(', ')}; environment ready at ${envReady}, tests before done at ${before.completedAt}`);
      assert.equal(agents[0]!.image, 'nightshift/claude-code:latest');
      assert.match(agents[1]!.image, /^nightshift\/env:/);
      // Its validation, in the environment's image too, started once the agent was done.
      const tests = await containerCreations(docker, t0, 'tests', workflowId);
      assert.equal(tests.length, 2);
      assert.ok(tests[1]!.atMs > agentDone!, `validation container at ${tests[1]!.atMs}, agent done at ${agentDone}`);
      assert.ok(stack.model!.requests.every((r) => r.at >= before.completedAt), 'no model request before the tests before ended');
      assert.equal(stack.worker.warm.size + stack.worker.warmTests.size, 0);
      assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${workflowId}`] } }), []);
    }).finally(() => removeEnvironmentImages(docker, ['calculator']));
  });

  test('on: a warm validation fails an attempt that breaks the tests, and the next attempt gets its own', async () => {
    // Attempt 1 makes add() multiply (the tests still fail); attempt 2 makes it add.
    const sum = '    """Return the sum of a and b."""\n';
    const breakThenFix: Script = (ctx) => {
      if (ctx.sideRequest) return { text: 'OK' };
      const second = JSON.stringify(ctx.request).includes('This is attempt 2');
      const steps: ScriptStep[] = [
        { read: { path: '/workspace/calc.py' } },
        second ? { edit: { path: '/workspace/calc.py', old: `${sum}    return a * b`, new: `${sum}    return a + b` } } : { edit: { path: '/workspace/calc.py', old: `${sum}    return a - b`, new: `${sum}    return a * b` } },
      ];
      return steps[ctx.turn] ?? { text: second ? 'Fixed add().' : 'Changed add().' };
    };
    await withStack({ script: breakThenFix }, async (stack) => {
      const t0 = Math.floor(Date.now() / 1000) - 1;
      const workflowId = await startCliRun(stack.client, stack.config.temporal.taskQueue, 'calculator', 'Fix add()', TASK);
      const outcome = await outcomeWithin(stack.client, workflowId, 240_000);
      assert.equal(outcome.kind, 'pr_opened', `${outcome.kind}: ${outcome.reason ?? ''}`);
      assert.equal(outcome.attempts.length, 2, JSON.stringify(outcome.attempts.map((a) => a.failure)));
      assert.equal(outcome.attempts[0]!.validation?.passed, false, 'attempt 1 broke the tests: its validation says so');
      assert.match(outcome.attempts[0]!.validation?.outputTail ?? '', /FAILED/);
      assert.equal(outcome.attempts[1]!.validation?.passed, true, outcome.attempts[1]!.validation?.outputTail);
      const done = await agentsDone(stack, workflowId);
      const tests = await containerCreations(docker, t0, 'tests', workflowId);
      assert.equal(tests.length, 3, `tests containers: ${JSON.stringify(tests)}`);
      assert.ok(tests[1]!.atMs < done[0]! && tests[2]!.atMs > done[0]! && tests[2]!.atMs < done[1]!, `validation containers at ${tests[1]!.atMs}, ${tests[2]!.atMs}; agents ended at ${done.join(', ')}`);
      assert.equal(stack.worker.warmTests.size, 0);
    });
  });

  test('a broken environment: the warm agent never hears its prompt and goes with the run, its gateway run closed', async () => {
    await withStack({ testCommand: 'no-such-test-runner --all' }, async (stack) => {
      const t0 = Math.floor(Date.now() / 1000) - 1;
      const workflowId = await startCliRun(stack.client, stack.config.temporal.taskQueue, 'calculator', 'Fix add()', TASK);
      const outcome = await outcomeWithin(stack.client, workflowId, 180_000);
      assert.equal(outcome.kind, 'environment_failed', `${outcome.kind}: ${outcome.reason ?? ''}`);
      assert.deepEqual(outcome.attempts, []);
      assert.equal(stack.model!.requests.length, 0, 'the model heard nothing');
      assert.equal(outcome.spend.requests, 0);
      assert.equal((await containerCreations(docker, t0, 'agent', workflowId)).length, 1, 'the agent was warmed beside the tests before');
      assert.equal(stack.worker.warm.size + stack.worker.warmTests.size, 0, 'no warm sandbox is left');
      assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${workflowId}`] } }), [], 'no container of the run is left');
      assert.equal(stack.worker.gateway.status(runKeyOf(workflowId, 1)).closed, true, 'the warm agent’s gateway run is closed');
    });
  });

  test('sandbox.warmStart false: the agent container is created only after the tests before', async () => {
    await withStack({ configure: (raw) => void (raw.sandbox = { ...(raw.sandbox as object | undefined), warmStart: false }) }, async (stack) => {
      const t0 = Math.floor(Date.now() / 1000) - 1;
      const workflowId = await startCliRun(stack.client, stack.config.temporal.taskQueue, 'calculator', 'Fix add()', TASK);
      const outcome = await outcomeWithin(stack.client, workflowId, 180_000);
      assert.equal(outcome.kind, 'pr_opened', `${outcome.kind}: ${outcome.reason ?? ''}`);
      const before = await testsBeforeDone(stack, workflowId);
      const agents = await containerCreations(docker, t0, 'agent', workflowId);
      assert.equal(agents.length, 1);
      assert.ok(agents[0]!.atMs >= before.completedAt, `the agent container was created at ${agents[0]!.atMs}, before the tests before ended at ${before.completedAt}`);
      const [agentDone] = await agentsDone(stack, workflowId);
      const tests = await containerCreations(docker, t0, 'tests', workflowId);
      assert.equal(tests.length, 2);
      assert.ok(tests[1]!.atMs >= agentDone!, `the validation container was created at ${tests[1]!.atMs}, before the agent ended at ${agentDone}`);
      assert.equal(stack.worker.warm.size + stack.worker.warmTests.size, 0);
    });
  });
});
