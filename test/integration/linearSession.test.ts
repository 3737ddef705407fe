/**
 * A Linear agent session on the real stack (Temporal dev server, worker with its messages task
 * queue, Docker sandboxes, the real Claude Code CLI, the scripted model) and the Linear stand-in:
 * - the session's first `thought` is recorded within 10 s of the signed `created` webhook's
 *   arrival while every agent activity slot of the worker is busy with a long agent run;
 * - a session run: first thought → plan updates (phases, links) with ephemeral phase thoughts (and
 *   the attempt's actions from the live stream) →
 *   a `response` with the PR link, in that order; the issue moves to "In Progress" at the start and
 *   to "In Review" on the PR;
 * - a requester Linear does not know is refused with a reply, and nothing runs.
 * Runs other than the webhook's are started with the Temporal client (the request carries the
 * requester's Linear user id, which the webhook does not fill yet).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { signedWebhook } from '../../devstack/linear.js';
import { fixCalculatorScript, slowCommandScript } from '../../devstack/scripts.js';
import { LocalStack, WEBHOOK_SECRET } from '../../devstack/stack.js';
import { CALCULATOR_ISSUE } from '../../devstack/linearIssue.js';
import { runResult } from '../../worker/runs.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { agentTask, statusQuery } from '../../workflows/index.js';
import type { TaskRequest } from '../../workflows/types.js';
import { fixturePath } from '../helpers/paths.js';

let temporal: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await temporal?.teardown();
});

type Json = Record<string, unknown>;
const CREATED = JSON.parse(readFileSync(fixturePath('linear', 'agent-session-event-created.linear-beads-2026.json'), 'utf8')) as Json;

/** Waits until `check` holds, polling every 100 ms; fails after `ms`. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A session run's request, as the webhook makes it, with the requester's Linear id. */
function sessionRequest(issue: { id: string; identifier: string }, sessionId: string, requesterId: string): TaskRequest {
  return {
    source: { kind: 'linear', issueId: issue.id, issueIdentifier: issue.identifier, agentSessionId: sessionId, requesterId },
    requester: 'Ada',
    repo: 'calculator',
    title: CALCULATOR_ISSUE.title,
    task: `${CALCULATOR_ISSUE.title}\n\n${CALCULATOR_ISSUE.description}`,
    overrides: { now: true },
  };
}

describe('Linear agent session', { timeout: 900_000 }, () => {
  test('the first thought arrives within 10 s while every agent activity slot is busy', async () => {
    const slots = 2;
    const stack = await LocalStack.start({ script: slowCommandScript(240), temporal, workflowBundle: bundle, maxConcurrentActivities: slots });
    try {
      // N long agent runs hold the worker's N activity slots.
      const busy = Array.from({ length: slots }, (_, i) => `busy-${i}-${randomUUID()}`);
      for (const id of busy) {
        await stack.client.workflow.start(agentTask, {
          taskQueue: stack.config.temporal.taskQueue,
          workflowId: id,
          args: [{ source: { kind: 'cli' }, requester: 'bench', repo: 'calculator', title: 'wait', task: 'wait for something slow', overrides: { now: true, maxAttempts: 1 } } satisfies TaskRequest],
        });
      }
      await waitFor(
        'every slot running an agent',
        async () => (await Promise.all(busy.map((id) => stack.client.workflow.getHandle(id).query(statusQuery)))).every((s) => s.phase === 'running_agent'),
        300_000,
      );
      // The real `created` capture, signed at send time.
      const session = CREATED.agentSession as Json;
      const issue = session.issue as { id: string; identifier: string; title: string };
      // The session's creator is the requester; the access check asks Linear whether they are a
      // member of the workspace (a non-member is refused with a response, never a thought).
      const creator = session.creator as { id: string; name: string };
      stack.linear.addUser({ id: creator.id, name: creator.name });
      const delivery = signedWebhook(CREATED, WEBHOOK_SECRET);
      const sent = Date.now();
      const res = await stack.sendLinearDelivery({ issueId: issue.id, identifier: issue.identifier, title: issue.title, ...delivery });
      assert.equal(res.status, 200);
      await waitFor('the first thought', () => stack.linear.activities.some((a) => a.agentSessionId === session.id && a.content.type === 'thought'), 10_000);
      const latency = Date.now() - sent;
      assert.ok(latency < 10_000, `first thought after ${latency} ms`);
      // The slots were still busy: the thought did not wait for one.
      for (const id of busy) assert.equal((await stack.client.workflow.getHandle(id).query(statusQuery)).phase, 'running_agent');
      for (const id of busy) await stack.client.workflow.getHandle(id).terminate('test over');
      stack.linear.assertNoInvalidRequests();
    } finally {
      await stack.stop();
    }
  });

  test('a session run: thought, plan updates, response with the PR; the issue moves to started then review', async () => {
    const stack = await LocalStack.start({ script: fixCalculatorScript(), temporal, workflowBundle: bundle });
    try {
      const issue = { id: randomUUID(), identifier: 'CALC-9' };
      const sessionId = randomUUID();
      const user = randomUUID();
      stack.linear.addUser({ id: user, name: 'Ada' });
      stack.linear.addIssue({ ...issue, title: CALCULATOR_ISSUE.title });
      const workflowId = `linear-session-${sessionId}`;
      await stack.client.workflow.start(agentTask, { taskQueue: stack.config.temporal.taskQueue, workflowId, args: [sessionRequest(issue, sessionId, user)] });
      const outcome = await runResult(stack.client, workflowId);
      assert.equal(outcome.kind, 'pr_opened', JSON.stringify({ kind: outcome.kind, reason: outcome.reason }));

      const acts = stack.linear.activities.filter((a) => a.agentSessionId === sessionId);
      assert.equal(acts[0]?.content.type, 'thought', 'the first activity is a thought');
      assert.notEqual(acts[0]?.ephemeral, true, 'the first thought stays');
      const last = acts.at(-1)!;
      assert.equal(last.content.type, 'response');
      assert.notEqual(last.ephemeral, true, 'an outcome is never ephemeral');
      assert.ok(String(last.content.body).includes(outcome.prUrl!), 'the response links the PR');
      // Between them: ephemeral phase thoughts, and the attempt's commands and edits as actions (the live stream).
      const between = acts.slice(1, -1);
      const thoughts = between.filter((a) => a.content.type === 'thought');
      assert.ok(thoughts.length >= 3 && thoughts.every((a) => a.ephemeral === true), JSON.stringify(between.map((a) => [a.content.type, a.ephemeral])));
      assert.ok(between.every((a) => a.content.type === 'thought' || a.content.type === 'action'), JSON.stringify(between.map((a) => a.content.type)));
      assert.ok(thoughts.some((a) => /Attempt 1 of/.test(String(a.content.body))));

      // Plan updates: on phase changes only, each the whole plan; the last one all completed, with both links.
      const updates = stack.linear.sessionUpdates.filter((u) => u.id === sessionId);
      assert.ok(updates.length >= 4 && updates.length <= 12, `${updates.length} session updates`);
      const plan = updates.at(-1)!.input.plan as { content: string; status: string }[];
      assert.deepEqual(plan.map((p) => p.status), ['completed', 'completed', 'completed', 'completed', 'completed']);
      const urls = updates.at(-1)!.input.externalUrls as { label: string; url: string }[];
      assert.ok(urls.some((u) => u.url === outcome.prUrl));
      assert.ok(urls.some((u) => u.url.endsWith(`/namespaces/default/workflows/${workflowId}`)));
      assert.ok(updates.some((u) => (u.input.plan as { status: string }[])[2]?.status === 'inProgress'), 'an update showed the attempt in progress');

      // The issue: In Progress on start, In Review on the PR.
      const moves = stack.linear.mutations.filter((m) => m.field === 'issueUpdate').map((m) => m.variables.stateId);
      assert.deepEqual(moves, ['team-fake-in-progress', 'team-fake-in-review']);
      assert.equal(stack.linear.issue(issue.id)?.stateId, 'team-fake-in-review');
      stack.linear.assertNoInvalidRequests();
    } finally {
      await stack.stop();
    }
  });

  test('a requester who is not a member is refused with a reply, and nothing runs', async () => {
    const stack = await LocalStack.start({ script: fixCalculatorScript(), temporal, workflowBundle: bundle });
    try {
      const issue = { id: randomUUID(), identifier: 'CALC-10' };
      const sessionId = randomUUID();
      stack.linear.addIssue({ ...issue, title: CALCULATOR_ISSUE.title });
      const workflowId = `linear-session-${sessionId}`;
      await stack.client.workflow.start(agentTask, { taskQueue: stack.config.temporal.taskQueue, workflowId, args: [sessionRequest(issue, sessionId, randomUUID())] });
      const outcome = await runResult(stack.client, workflowId);
      assert.equal(outcome.kind, 'rejected');
      const acts = stack.linear.activities.filter((a) => a.agentSessionId === sessionId);
      assert.equal(acts.length, 1, JSON.stringify(acts.map((a) => a.content)));
      assert.equal(acts[0]!.content.type, 'response');
      assert.match(String(acts[0]!.content.body), /not a member of this Linear workspace/);
      assert.equal(stack.linear.mutations.filter((m) => m.field === 'issueUpdate').length, 0, 'the issue did not move');
      assert.equal(stack.model!.requests.length, 0, 'no agent ran');
      assert.equal(outcome.attempts.length, 0);
    } finally {
      await stack.stop();
    }
  });
});
