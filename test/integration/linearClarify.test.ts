/**
 * Clarifying questions at scope, end to end from Linear on the real stack (issue 8, item 4):
 * Temporal dev server, the worker, the webhook receiver, Docker sandboxes, the real Claude Code
 * CLI and the clarifying assessment both driven by the scripted model THROUGH the gateway, the
 * GitHub stand-in, and the schema-validating Linear stand-in. Payloads are the real captures
 * (`AgentSessionEvent` `created`, `Comment` `create`, the label delivery), signed at send time.
 * Each test asserts that Linear saw no invalid request.
 * - a session on an issue whose team maps to no repository (two configured) → an `elicitation`
 *   with a `select` of the repositories → a `prompted` reply choosing `billing` → the assessment
 *   on billing proceeds → a PR on acme/billing;
 * - a label run whose task the assessment finds unverifiable → a question comment on the issue →
 *   a reply in that comment's thread (`parentId` = the question's id) → re-scoped (the answer in
 *   the agent's task) → PR.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { commentReplyEvent, deliverComment } from '../../devstack/linearCommentReply.js';
import { labeledIssueDelivery } from '../../devstack/linearIssue.js';
import { deliver, newSession, promptedEvent, renderActivityLog, sessionActivities } from '../../devstack/linearConversation.js';
import type { Script } from '../../devstack/scriptedModel.js';
import { fixCalculatorScript, isAssessment, withAssessment, withSideRequests, type AssessAnswer } from '../../devstack/scripts.js';
import { LocalStack, STACK_PRICES, WEBHOOK_SECRET, type LocalStackOptions } from '../../devstack/stack.js';
import { runResult, runStatus } from '../../worker/runs.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { WHICH_REPOSITORY } from '../../workflows/run/clarify.js';
import { coordinatorIdFor } from '../../workflows/queueCoordinator.js';

/** The assessment's cheap model (priced, so that its spend is budgeted). */
const CHEAP = 'claude-haiku-4-5';
type Json = Record<string, unknown>;

let temporal: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
before(async () => {
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await temporal?.teardown();
});

/** Polls until `check` holds (every 200 ms); fails after `ms` naming `what`. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The run's phase, when it can be queried. */
const phaseOf = async (stack: LocalStack, workflowId: string): Promise<string | undefined> => (await runStatus(stack.client, workflowId).catch(() => undefined))?.phase;

/** Starts a stack with the clarifying assessment on (`scope.clarify.model`), runs `body`, always stops it. */
async function withStack(opts: Partial<LocalStackOptions> & { script: Script }, body: (stack: LocalStack) => Promise<void>): Promise<void> {
  const configure = opts.configure;
  const stack = await LocalStack.start({
    temporal,
    workflowBundle: bundle,
    ...opts,
    configure: (raw) => {
      raw.scope = { clarify: { model: CHEAP } };
      (raw.gateway as Json).prices = { ...STACK_PRICES, [CHEAP]: { input: 1, output: 5 } };
      configure?.(raw);
    },
  });
  try {
    await body(stack);
    stack.linear.assertNoInvalidRequests();
  } finally {
    await stack.stop();
    await stack.client.workflow.getHandle(coordinatorIdFor(stack.config.temporal.taskQueue)).terminate('stack stopped').catch(() => undefined);
  }
}

/** The text of the assessments the model received (their user messages). */
const assessments = (stack: LocalStack): string[] =>
  stack.model!.modelRequests().filter((r) => isAssessment(r.body)).map((r) => JSON.stringify((r.body as { messages?: unknown }).messages));

describe('Linear clarifying questions on the real stack', { timeout: 400_000 }, () => {
  test('session on an issue whose team has no repository: a select of the repositories, a prompted choice, a PR in that repository', { timeout: 150_000 }, async () => {
    const proceed = (): AssessAnswer => ({ decision: 'proceed', rationale: 'bounded: add() and its failing test' });
    const opts: Partial<LocalStackOptions> & { script: Script } = {
      script: withAssessment(withSideRequests(fixCalculatorScript()), proceed),
      extraGithubRepos: ['acme/billing'],
      configure: (raw) => {
        // No default repository and no team mapping: the session's issue maps to none of the two.
        delete (raw.linear as Json).defaultRepo;
        raw.repos.billing = { ...raw.repos.calculator, github: 'acme/billing' };
      },
    };
    await withStack(opts, async (stack) => {
      const c = newSession(stack.linear);
      assert.equal(await deliver(stack, c, c.created), 200);
      await waitFor('the question', async () => (await phaseOf(stack, c.workflowId)) === 'awaiting_answer', 60_000);
      const log = (): string => renderActivityLog(sessionActivities(stack.linear, c.sessionId)).join('\n');
      const asked = sessionActivities(stack.linear, c.sessionId).filter((a) => a.content.type === 'elicitation');
      assert.equal(asked.length, 1, log());
      assert.equal(asked[0]!.signal, 'select');
      assert.deepEqual((asked[0]!.signalMetadata?.options as { value: string }[]).map((o) => o.value), ['calculator', 'billing'], 'the options name the configured repositories');
      assert.ok(String(asked[0]!.content.body).includes(WHICH_REPOSITORY), log());
      assert.equal(assessments(stack).length, 0, 'which repository is not a model\'s question');

      // The PM picks "billing" in Linear: a prompted event whose body is the option's value.
      assert.equal(await deliver(stack, c, promptedEvent(c, 'billing')), 200);
      const outcome = await runResult(stack.client, c.workflowId);
      assert.equal(outcome.kind, 'pr_opened', `${outcome.kind} ${outcome.reason ?? ''}\n${log()}`);
      assert.match(outcome.prUrl ?? '', /acme\/billing/);
      assert.equal(stack.github.pulls('acme/billing').length, 1, 'the PR is in the chosen repository');
      assert.equal(stack.github.pulls('acme/calculator').length, 0);
      assert.equal(outcome.clarify?.questions[0]?.repo, 'billing');
      const assessed = assessments(stack);
      assert.equal(assessed.length, 1, 'the assessment ran once, on the chosen repository');
      assert.match(assessed[0]!, /Chosen repository: billing/);
      const last = sessionActivities(stack.linear, c.sessionId).at(-1)!;
      assert.equal(last.content.type, 'response', log());
      assert.ok(String(last.content.body).includes(outcome.prUrl!), log());
      assert.match(String(last.content.body), /Scope check:\*\* proceed \(1 question asked\)/);
      console.log(`session log:\n${log()}`);
    });
  });

  test('label run whose task is unverifiable: a question comment, a reply in its thread, re-scoped, a PR', { timeout: 150_000 }, async () => {
    const QUESTION = 'What result is wrong, and what should it be?';
    const ANSWER = 'calc.add(2, 3) returns -1; it must return 5. Done when python3 -m unittest -v passes.';
    const assess = (task: string): AssessAnswer =>
      task.includes('Clarifications before the work started')
        ? { decision: 'proceed', rationale: 'the answer gives the expected result and the tests that show it' }
        : { decision: 'ask', question: QUESTION, rationale: 'no success criterion the tests could show' };
    await withStack({ script: withAssessment(withSideRequests(fixCalculatorScript()), assess) }, async (stack) => {
      const delivery = labeledIssueDelivery(WEBHOOK_SECRET, { description: 'The calculator gives wrong answers sometimes. Please make it better.' });
      const issue = { id: delivery.issueId, identifier: delivery.identifier, title: delivery.title };
      const res = await stack.sendLinearDelivery(delivery);
      await res.body?.cancel();
      assert.equal(res.status, 200);
      const workflowId = `linear-${issue.id}`;
      await waitFor('the question', async () => (await phaseOf(stack, workflowId)) === 'awaiting_answer', 60_000);
      const question = stack.linear.comments.filter((c) => c.issueId === issue.id && c.body.includes(QUESTION));
      assert.equal(question.length, 1, `one question comment: ${JSON.stringify(stack.linear.comments.map((c) => c.body))}`);

      // A PM answers in the question's thread (a reply to an unrelated comment would reach the run too; this one is the thread).
      const pm = { id: randomUUID(), name: 'Paula Manager' };
      assert.equal(await deliverComment(stack, issue, commentReplyEvent(issue, question[0]!.id, ANSWER, pm)), 200);
      const outcome = await runResult(stack.client, workflowId);
      assert.equal(outcome.kind, 'pr_opened', `${outcome.kind} ${outcome.reason ?? ''}`);
      assert.equal(stack.github.pulls('acme/calculator').length, 1);
      assert.deepEqual(outcome.clarify?.questions.map((q) => [q.question, q.answer, q.by]), [[QUESTION, ANSWER, 'Paula Manager']]);
      const assessed = assessments(stack);
      assert.equal(assessed.length, 2, 'asked, then assessed again with the answer');
      assert.ok(assessed[1]!.includes('it must return 5'));
      // The agent works on the re-scoped task: the answer is in its prompt.
      const agentRequests = stack.model!.modelRequests().filter((r) => !isAssessment(r.body));
      assert.ok(agentRequests.some((r) => JSON.stringify(r.body).includes('it must return 5')), 'the answer reached the agent');
      const final = stack.linear.comments.filter((c) => c.issueId === issue.id).at(-1)!;
      assert.ok(final.body.includes(outcome.prUrl!), 'the PR comment is the last');
      assert.match(final.body, /Scope check:\*\* proceed \(1 question asked\)/);
    });
  });
});
