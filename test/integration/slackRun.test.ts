/**
 * A whole Slack run with real components: a signed `/nightshift run` → our Bolt server → the real
 * Temporal dev server → the worker → the real Claude Code CLI in a Docker sandbox → the gateway →
 * the scripted model → Nightshift's test run → PR on the GitHub stand-in; the run's root message
 * is kept current with `chat.update` (FakeSlack records each), and the PR is a thread reply.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { fixCalculatorScript } from '../../devstack/scripts.js';
import { LocalStack } from '../../devstack/stack.js';
import { runResult } from '../../worker/runs.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';

let temporal: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await temporal?.teardown();
});

/** The live message's states, in the order a run goes through them. */
const ORDER = ['Scoping', 'Preparing', 'The agent is working', 'Running the tests', 'Opening the pull request', 'Pull request opened'];

describe('Slack: /nightshift run → live message → PR (real agent CLI, real Docker)', { timeout: 600_000 }, () => {
  test('the root message goes through the phases in order, at most once a second, and ends on the PR', async () => {
    const stack = await LocalStack.start({ script: fixCalculatorScript(), temporal, workflowBundle: bundle, slack: { webUiUrl: 'http://localhost:8233' } });
    try {
      const slack = stack.slack!;
      const res = await stack.slackSigner!.slashCommand({ text: 'run fix add() so that test_add passes --now', user: 'U1', channel: 'C0DEMO' });
      assert.equal(res.status, 200);
      const deadline = Date.now() + 15_000;
      let root = slack.messages.find((m) => m.bot_id && !m.thread_ts);
      while (!root && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        root = slack.messages.find((m) => m.bot_id && !m.thread_ts);
      }
      assert.ok(root, 'the root message');
      const id = `slack-C0DEMO-${root.ts}`;
      const outcome = await runResult(stack.client, id);
      assert.equal(outcome.kind, 'pr_opened', JSON.stringify({ kind: outcome.kind, reason: outcome.reason }));

      const updates = slack.callsOf('chat.update').filter((c) => c.args.ts === root.ts);
      const states = updates.map((c) => ORDER.findIndex((s) => String(c.args.text).includes(s)));
      assert.ok(states.every((s) => s >= 0), `every update names a state: ${updates.map((u) => u.args.text).join(' | ')}`);
      for (let i = 1; i < states.length; i++) assert.ok(states[i]! >= states[i - 1]!, `states in order: ${updates.map((u) => u.args.text).join(' | ')}`);
      assert.ok(states.includes(ORDER.indexOf('The agent is working')), 'the agent phase was shown');
      assert.equal(states.at(-1), ORDER.indexOf('Pull request opened'));
      // Paced: at most one update a second per message (the fake's arrival times, minus jitter).
      for (let i = 1; i < updates.length; i++) assert.ok(updates[i]!.at - updates[i - 1]!.at >= 900, `updates ${i - 1}→${i} ${updates[i]!.at - updates[i - 1]!.at} ms apart`);
      const final = JSON.stringify(updates.at(-1)!.args.blocks);
      assert.ok(final.includes(outcome.prUrl!), 'the final state links the PR');
      assert.ok(final.includes(`http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(id)}`), 'and the run in the Temporal Web UI');
      assert.ok(!final.includes('"actions"'), 'no Cancel button once done');
      // The spend shown is the run's: the final state's dollar figure.
      assert.ok(final.includes(`$${outcome.spend.usd.toFixed(2)} of $`), 'spend vs budget');
      // The outcome is also a thread reply with the PR link.
      assert.ok(slack.messages.some((m) => m.thread_ts === root.ts && m.text.includes(outcome.prUrl!)));
      // Bounded history: the live updates added a few activities, not one per progress signal.
      const history = await stack.client.workflow.getHandle(id).fetchHistory();
      const liveActs = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'updateLiveStatus').length;
      assert.ok(liveActs >= updates.length, 'every update is an activity of the run');
      assert.ok(liveActs <= 20, `${liveActs} live updates`);
    } finally {
      await stack.stop();
    }
  });
});
