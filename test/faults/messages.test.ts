/**
 * Fault matrix, messages at the origin: Slack and Linear answer 5xx or 429 (with `Retry-After`)
 * on every kind of message a run sends there.
 * - Slack run (`/nightshift run`): the live root message's `chat.update`s and the thread reply of
 *   the outcome (`chat.postMessage`); faults armed once the root message exists.
 * - Linear agent-session run: the session's activities (`agentActivityCreate`: thoughts, the
 *   outcome's `response`), its plan (`agentSessionUpdate`) and the issue's state moves
 *   (`issueUpdate`); faults armed before the run starts. (A label run's comment: delivery.test.ts.)
 * Each row: the fault struck every kind, the run ends with one final message at the origin, one
 * PR, no container, the fix on the PR branch, the spend in the ledger. The 5xx rows and the 429
 * rows strike the same paths (an error answer and a retry), so `npm test` runs one of each origin
 * and `npm run test:faults` (NIGHTSHIFT_FAULTS_FULL=1) all four.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Fault, FaultQueue } from '../../devstack/faults.js';
import { CALCULATOR_ISSUE } from '../../devstack/linearIssue.js';
import { fixCalculatorScript } from '../../devstack/scripts.js';
import { LocalStack } from '../../devstack/stack.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { agentTask } from '../../workflows/index.js';
import { assertRow, observeRun, renderTable, type FaultRow } from './matrix.js';
import { CALC_FIX, settleRun, waitFor } from './stackRun.js';

const full = process.env.NIGHTSHIFT_FAULTS_FULL === '1';
let temporal: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
const rows: FaultRow[] = [];

before(async () => {
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  if (rows.length > 0) process.stdout.write(`\n# Fault matrix: messages at the origin\n${renderTable(rows).replace(/^/gm, '# ')}\n`);
  await temporal?.teardown();
});

const FAULTS: Array<{ name: string; fault: Fault; times: number; slow: boolean }> = [
  { name: '5xx', fault: { kind: 'status', status: 503 }, times: 2, slow: false },
  { name: '429 retry-after 2', fault: { kind: 'status', status: 429, retryAfterSec: 2 }, times: 1, slow: true },
];

/** Arms `fault` on each route; returns a check that each was struck. */
function arm(queue: FaultQueue, routes: string[], f: (typeof FAULTS)[number]): () => void {
  for (const r of routes) queue.inject(r, f.fault, f.times);
  return () => {
    const struck = new Set(queue.injected.map((i) => i.route));
    assert.deepEqual(routes.filter((r) => !struck.has(r)), [], `the fault struck every message kind (${[...struck].join(', ')})`);
  };
}

/** The message kinds of a Slack run: the live root message and the thread reply. */
const SLACK_ROUTES = ['chat.update', 'chat.postMessage'];
/** The message kinds of a Linear agent-session run. */
const LINEAR_SESSION_ROUTES = ['agentActivityCreate', 'agentSessionUpdate', 'issueUpdate'];

describe('fault matrix: messages at the origin (Slack, Linear session)', { timeout: 1_800_000 }, () => {
  for (const f of FAULTS) {
    test(`Slack ${f.name} on every message kind: one reply, one PR, no container, work and spend kept`, { timeout: 360_000, skip: f.slow && !full && 'npm run test:faults' }, async () => {
      const stack = await LocalStack.start({ script: fixCalculatorScript(), temporal, workflowBundle: bundle, slack: true });
      try {
        const slack = stack.slack!;
        const startedAt = Date.now();
        const res = await stack.slackSigner!.slashCommand({ text: 'run fix add() so that test_add passes --now', user: 'U1', channel: 'C0DEMO' });
        assert.equal(res.status, 200);
        await waitFor('the root message', () => slack.messages.some((m) => m.bot_id && !m.thread_ts), 15_000);
        const root = slack.messages.find((m) => m.bot_id && !m.thread_ts)!;
        const struckAll = arm(slack.faults, SLACK_ROUTES, f);
        const workflowId = `slack-C0DEMO-${root.ts}`;
        const outcome = await settleRun(stack, workflowId);
        struckAll();
        const pulls = stack.github.pulls(stack.config.repos.calculator!.github!);
        const row = await observeRun(`Slack ${f.name} (${SLACK_ROUTES.join(', ')})`, 'every message', {
          workflowId,
          outcome,
          originMessages: slack.messages.filter((m) => m.bot_id && m.thread_ts === root.ts).map((m) => m.text),
          prComments: pulls.flatMap((p) => p.comments.map((c) => c.body)),
          prs: pulls.length,
          bareRepo: stack.bareRepo,
          stateDir: stack.config.stateDir,
          work: CALC_FIX,
          startedAt,
        });
        assertRow(row, { outcome: 'pr_opened', prs: 1 }, rows);
        // The live message ends on the outcome although some of its updates failed.
        const last = slack.callsOf('chat.update').filter((c) => c.args.ts === root.ts).at(-1);
        assert.match(String(last?.args.text), /Pull request opened/);
      } finally {
        await stack.stop();
      }
    });

    test(`Linear session ${f.name} on every message kind: one response, one PR, no container, work and spend kept`, { timeout: 360_000, skip: !f.slow && !full && 'npm run test:faults' }, async () => {
      const stack = await LocalStack.start({ script: fixCalculatorScript(), temporal, workflowBundle: bundle });
      try {
        const linear = stack.linear;
        const issue = { id: randomUUID(), identifier: 'CALC-11' };
        const sessionId = randomUUID();
        const user = randomUUID();
        linear.addUser({ id: user, name: 'Ada' });
        linear.addIssue({ ...issue, title: CALCULATOR_ISSUE.title });
        const struckAll = arm(linear.faults, LINEAR_SESSION_ROUTES, f);
        const workflowId = `linear-session-${sessionId}`;
        const startedAt = Date.now();
        await stack.client.workflow.start(agentTask, {
          taskQueue: stack.config.temporal.taskQueue,
          workflowId,
          args: [
            {
              source: { kind: 'linear', issueId: issue.id, issueIdentifier: issue.identifier, agentSessionId: sessionId, requesterId: user },
              requester: 'Ada',
              repo: 'calculator',
              title: CALCULATOR_ISSUE.title,
              task: `${CALCULATOR_ISSUE.title}\n\n${CALCULATOR_ISSUE.description}`,
              overrides: { now: true },
            },
          ],
        });
        const outcome = await settleRun(stack, workflowId);
        struckAll();
        const pulls = stack.github.pulls(stack.config.repos.calculator!.github!);
        const acts = linear.activities.filter((a) => a.agentSessionId === sessionId);
        // Final messages: the session's outcome activities and any comment on the issue.
        const finals = [
          ...acts.filter((a) => ['response', 'error', 'elicitation'].includes(String(a.content.type))).map((a) => String(a.content.body)),
          ...linear.comments.filter((c) => c.issueId === issue.id).map((c) => c.body),
        ];
        const row = await observeRun(`Linear session ${f.name} (${LINEAR_SESSION_ROUTES.join(', ')})`, 'every message', {
          workflowId,
          outcome,
          originMessages: finals,
          prComments: pulls.flatMap((p) => p.comments.map((c) => c.body)),
          prs: pulls.length,
          bareRepo: stack.bareRepo,
          stateDir: stack.config.stateDir,
          work: CALC_FIX,
          startedAt,
        });
        assertRow(row, { outcome: 'pr_opened', prs: 1 }, rows);
        // The moves happened despite the faults: the issue ends In Review.
        assert.equal(linear.issue(issue.id)?.stateId, 'team-fake-in-review');
        linear.assertNoInvalidRequests();
      } finally {
        await stack.stop();
      }
    });
  }
});
