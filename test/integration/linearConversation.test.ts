/**
 * The Linear conversation end to end on the real stack: Temporal dev server, the worker (main and
 * messages task queues), Docker sandboxes, the real Claude Code CLI driven by the scripted model,
 * the webhook receiver, and the schema-validating Linear stand-in. Every session starts from the
 * real `AgentSessionEvent` `created` capture's shape and every event is signed at send time
 * (devstack/linearConversation.ts). Each test asserts that Linear saw no invalid request.
 * - guidance `prompted` during attempt 1 (delivered twice, same webhookId) → one "noted"
 *   acknowledgement, the guidance in attempt 2's prompt, a PR; the attempt's work streamed as
 *   `action` activities;
 * - guidance `prompted` answering an escalation (maxAttempts 1) → attempt 2 → PR; the final
 *   `response` meets a 429 from Linear and still arrives, once;
 * - `stop` mid-attempt → cancelled within seconds (measured), the last activity a `response`
 *   naming the WIP branch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DEMO_GUIDANCE, deliver, guidedScript, newSession, promptedEvent, renderActivityLog, sessionActivities, type SessionConversation } from '../../devstack/linearConversation.js';
import { scriptFromSteps, type Script } from '../../devstack/scriptedModel.js';
import { afterSteps, HARMLESS_EDIT } from '../../devstack/scripts.js';
import { LocalStack, type LocalStackOptions } from '../../devstack/stack.js';
import { runResult, runStatus } from '../../worker/runs.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { coordinatorIdFor } from '../../workflows/queueCoordinator.js';
import type { RunOutcome } from '../../workflows/types.js';

let temporal: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await temporal?.teardown();
});

const GUIDANCE = DEMO_GUIDANCE;

/** Polls until `check` holds (every 200 ms); fails after `ms` naming `what`. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until the run is in `phase` (the workflow may not be queryable at first). */
async function inPhase(stack: LocalStack, workflowId: string, phase: string, ms: number): Promise<void> {
  let last: string | undefined;
  await waitFor(`phase ${phase} (last: ${String(last)})`, async () => (last = (await runStatus(stack.client, workflowId).catch(() => undefined))?.phase) === phase, ms).catch((err: Error) => {
    throw new Error(`${err.message}; the run was in phase ${String(last)}`);
  });
}

/** Starts a stack and the session (signed `created`), runs `body`, always stops the stack. */
async function withSession(opts: Partial<LocalStackOptions> & { script: Script }, body: (stack: LocalStack, c: SessionConversation) => Promise<void>): Promise<void> {
  const stack = await LocalStack.start({ temporal, workflowBundle: bundle, ...opts });
  try {
    const c = newSession(stack.linear);
    assert.equal(await deliver(stack, c, c.created), 200);
    await body(stack, c);
    stack.linear.assertNoInvalidRequests();
  } finally {
    await stack.stop();
    // The sandbox queue's coordinator runs on the task queue of the stack that started it: it goes
    // with that stack, so that the next stack's runs start their own.
    await stack.client.workflow.getHandle(coordinatorIdFor(stack.config.temporal.taskQueue)).terminate('stack stopped').catch(() => undefined);
  }
}

/** The run's outcome (waits for the run to end). */
async function outcomeOf(stack: LocalStack, c: SessionConversation): Promise<RunOutcome> {
  return runResult(stack.client, c.workflowId);
}

const bodies = (stack: LocalStack, c: SessionConversation, type: string): string[] =>
  sessionActivities(stack.linear, c.sessionId).filter((a) => a.content.type === type).map((a) => String(a.content.body));

describe('Linear conversation on the real stack', { timeout: 600_000 }, () => {
  test('guidance during an attempt (redelivered: acted on once) is acknowledged and reaches attempt 2; work streams as actions', { timeout: 180_000 }, async () => {
    await withSession({ script: guidedScript(25), maxAttempts: 2 }, async (stack, c) => {
      await inPhase(stack, c.workflowId, 'running_agent', 90_000);
      const guidance = promptedEvent(c, GUIDANCE);
      assert.equal(await deliver(stack, c, guidance), 200);
      assert.equal(await deliver(stack, c, guidance), 200, 'Linear redelivers: same webhookId, signed anew');
      await waitFor('the acknowledgement', () => bodies(stack, c, 'thought').some((b) => b.includes('Noted')), 20_000);
      const outcome = await outcomeOf(stack, c);
      const log = renderActivityLog(sessionActivities(stack.linear, c.sessionId)).join('\n');
      assert.equal(outcome.kind, 'pr_opened', `${outcome.kind} ${outcome.reason ?? ''}\n${log}`);
      assert.equal(outcome.attempts.length, 2);
      assert.equal(bodies(stack, c, 'thought').filter((b) => b.includes('Noted')).length, 1, `one acknowledgement:\n${log}`);
      // The guidance is in attempt 2's prompt, once; attempt 1 never saw it.
      const withGuidance = stack.model!.requests.filter((r) => JSON.stringify(r.body).includes(GUIDANCE));
      assert.ok(withGuidance.length > 0, 'the guidance reached the agent');
      assert.equal(JSON.stringify(withGuidance[0]!.body).split(GUIDANCE).length - 1, 1, 'the guidance appears once in the prompt');
      // The live stream: the attempts' commands and edits as action activities.
      const actions = sessionActivities(stack.linear, c.sessionId).filter((a) => a.content.type === 'action');
      assert.ok(actions.length > 0, `the work streamed as actions:\n${log}`);
      const last = sessionActivities(stack.linear, c.sessionId).at(-1)!;
      assert.equal(last.content.type, 'response');
      assert.ok(String(last.content.body).includes(outcome.prUrl!), log);
    });
  });

  test('guidance answering an escalation → a new attempt → PR; a 429 on the final response: it arrives once', { timeout: 180_000 }, async () => {
    await withSession({ script: guidedScript(1), maxAttempts: 1 }, async (stack, c) => {
      // Linear answers the first `response` activity with a rate limit (HTTP 429, Retry-After 2 s).
      stack.linear.rateLimitNext(1, 2, { status: 429, only: (r) => /agentActivityCreate/.test(r.query) && JSON.stringify(r.variables).includes('"type":"response"') });
      await inPhase(stack, c.workflowId, 'awaiting_human', 120_000);
      await waitFor('the escalation', () => bodies(stack, c, 'elicitation').length === 1, 20_000);
      assert.equal(await deliver(stack, c, promptedEvent(c, GUIDANCE)), 200);
      const outcome = await outcomeOf(stack, c);
      const log = renderActivityLog(sessionActivities(stack.linear, c.sessionId)).join('\n');
      assert.equal(outcome.kind, 'pr_opened', `${outcome.kind} ${outcome.reason ?? ''}\n${log}`);
      assert.equal(outcome.attempts.length, 2);
      assert.ok(stack.model!.requests.some((r) => JSON.stringify(r.body).includes(GUIDANCE)), 'the guidance reached attempt 2');
      const limited = stack.linear.requests.filter((r) => r.rateLimited);
      assert.equal(limited.length, 1, 'Linear rate-limited the final message once');
      const responses = bodies(stack, c, 'response');
      assert.equal(responses.length, 1, `the final message arrived once:\n${log}`);
      assert.ok(responses[0]!.includes(outcome.prUrl!));
      assert.equal(sessionActivities(stack.linear, c.sessionId).at(-1)!.content.type, 'response');
    });
  });

  test('stop mid-attempt cancels the run within seconds; the last activity is a response naming the WIP branch', { timeout: 180_000 }, async () => {
    await withSession({ script: afterSteps(HARMLESS_EDIT, scriptFromSteps([{ bash: 'sleep 300' }])) }, async (stack, c) => {
      await inPhase(stack, c.workflowId, 'running_agent', 90_000);
      // The harmless edit is made (the agent has asked for the long command): there is work to keep.
      await waitFor('the long command', () => stack.model!.requests.some((r) => JSON.stringify(r.body).includes('TODO: check the sign')), 60_000);
      const sent = Date.now();
      assert.equal(await deliver(stack, c, promptedEvent(c, 'stop', { stop: true })), 200);
      const outcome = await outcomeOf(stack, c);
      const tookMs = Date.now() - sent;
      const log = renderActivityLog(sessionActivities(stack.linear, c.sessionId)).join('\n');
      if (process.env.L4_DEBUG) {
        const h = await stack.client.workflow.getHandle(c.workflowId).fetchHistory();
        for (const e of h.events ?? []) {
          const t = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);
          const name = e.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
          console.log(`${t - sent} ms ${String(e.eventType)} ${name}`);
        }
      }
      assert.equal(outcome.kind, 'cancelled', `${outcome.kind} ${outcome.reason ?? ''}\n${log}`);
      assert.ok(tookMs < 10_000, `cancelled ${tookMs} ms after the stop`);
      console.log(`stop → cancelled in ${tookMs} ms`);
      assert.ok(outcome.wipBranch, 'the partial work was pushed');
      assert.ok((await stack.remoteBranches()).includes(outcome.wipBranch!));
      const last = sessionActivities(stack.linear, c.sessionId).at(-1)!;
      assert.equal(last.content.type, 'response', log);
      assert.ok(String(last.content.body).includes(outcome.wipBranch!), `the response names the WIP branch:\n${log}`);
      assert.equal(stack.github.pulls('acme/calculator').length, 0, 'no PR');
    });
  });
});
