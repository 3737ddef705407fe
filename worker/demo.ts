/**
 * The demo: the main job end to end on the bundled example repository (examples/calculator).
 *
 *   a signed Linear webhook for an issue labeled `nightshift` → the run → the real Claude Code CLI
 *   in a Docker sandbox fixes the bug → Nightshift's own test run passes → branch pushed → PR
 *   opened → the Linear issue gets the comment.
 *
 * GitHub and Linear are local stand-ins speaking their real APIs; the model is a scripted model
 * server unless ANTHROPIC_API_KEY is set. `--escalate` runs a second task that cannot be solved
 * and prints the "what I tried" summary the issue received.
 *
 * `--slack` starts the run from Slack instead (a signed `/nightshift run` to the local Bolt server,
 * FakeSlack as the Web API) and prints the thread as Slack would show it (worker/demoSlack.ts).
 *
 * `--linear-session` runs a Linear agent session: delegated issue → live session → escalation
 * answered by a `prompted` guidance reply → PR, and prints the session's activity log
 * (worker/demoLinear.ts).
 *
 * `--night` simulates a night of the overnight queue: a dozen tasks from the CLI, Linear and Slack,
 * a window, caps, priorities, then the morning digest (worker/demoNight.ts).
 *
 * Usage: node dist/worker/demo.js [--escalate | --slack | --linear-session | --night]
 */
import { parseArgs } from 'node:util';
import { statusQuery } from '../workflows/index.js';
import type { RunOutcome, ValidationResult } from '../workflows/types.js';
import { fixCalculatorScript, repeatFailingCommandScript } from '../devstack/scripts.js';
import { labeledIssueDelivery } from '../devstack/linearIssue.js';
import { LocalStack, WEBHOOK_SECRET } from '../devstack/stack.js';
import { guidedScript } from '../devstack/linearConversation.js';
import { runLinearSessionDemo } from './demoLinear.js';
import { runNightDemo } from './demoNight.js';
import { runSlackDemo } from './demoSlack.js';
import { createRootLogger } from './logger.js';
import { replyToRun, runResult } from './runs.js';

const out = (line = ''): void => void process.stdout.write(`${line}\n`);

function tests(v: ValidationResult | undefined): string {
  if (!v) return 'not run';
  return `${v.passed ? 'PASS' : 'FAIL'} (exit ${v.exitCode}${v.failingTests.length ? `; failing: ${v.failingTests.join(', ')}` : ''})`;
}

function printOutcome(o: RunOutcome): void {
  out(`outcome:        ${o.kind}${o.reason ? ` — ${o.reason}` : ''}`);
  if (o.prUrl) out(`PR:             ${o.prUrl}`);
  if (o.branch) out(`branch:         ${o.branch}`);
  if (o.wipBranch) out(`WIP branch:     ${o.wipBranch}`);
  out(`tests before:   ${tests(o.testsBefore)}`);
  out(`tests after:    ${tests(o.attempts.at(-1)?.validation)}`);
  out(`attempts:       ${o.attempts.length}`);
  out(`tokens:         ${o.spend.tokens} (input ${o.spend.inputTokens}, output ${o.spend.outputTokens}, cache read ${o.spend.cacheReadTokens}, cache write ${o.spend.cacheWriteTokens}; ${o.spend.requests} model requests)`);
  out(`cost:           $${o.spend.usd.toFixed(6)}`);
  out(`duration:       ${(o.durationMs / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { escalate: { type: 'boolean', default: false }, slack: { type: 'boolean', default: false }, 'linear-session': { type: 'boolean', default: false }, night: { type: 'boolean', default: false } } });
  const session = values['linear-session'];
  const apiKey = process.env.ANTHROPIC_API_KEY || undefined;
  if (values.night) {
    // The night prints its own progress: only errors from the components unless LOG_LEVEL says more.
    process.env.TEMPORAL_LOG_LEVEL ??= 'ERROR';
    process.exitCode = await runNightDemo(out, createRootLogger(process.env.LOG_LEVEL ?? 'error'));
    return;
  }
  const logger = createRootLogger(process.env.LOG_LEVEL ?? 'warn');
  out('Nightshift demo');
  out(
    apiKey
      ? 'model:          Anthropic API (ANTHROPIC_API_KEY is set)'
      : 'model:          scripted model server (no ANTHROPIC_API_KEY set): the real Claude Code CLI runs against a local model that follows a script',
  );
  out('GitHub, Linear: local stand-ins speaking their REST / GraphQL APIs');
  const stack = await LocalStack.start({
    script: session ? guidedScript(1) : values.escalate ? repeatFailingCommandScript() : fixCalculatorScript(),
    // The session demo's escalation needs the scripted first attempt.
    realAnthropicKey: session ? undefined : apiKey,
    ...(session ? { maxAttempts: 1 } : {}),
    logger,
    ...(values.slack ? { slack: true as const } : {}),
  });
  try {
    if (session) {
      out('Linear:         agent session (actor=app) on the Linear stand-in; events signed at send time');
      const outcome = await runLinearSessionDemo(stack, out);
      printOutcome(outcome);
      if (outcome.kind !== 'pr_opened') process.exitCode = 1;
      return;
    }
    if (values.slack) {
      out('Slack:          FakeSlack (the Web API) + signed requests to the local Bolt server');
      const outcome = await runSlackDemo(stack, out);
      printOutcome(outcome);
      if (outcome.kind !== 'pr_opened') process.exitCode = 1;
      return;
    }
    out(`Temporal:       CLI dev server started (task queue ${stack.config.temporal.taskQueue})`);
    out(`gateway:        ${stack.worker.gatewayUrl} (sandbox network ${stack.config.sandbox.network})`);
    out(`repository:     ${stack.bareRepo} (acme/calculator, branch main)`);
    const delivery = labeledIssueDelivery(
      WEBHOOK_SECRET,
      values.escalate
        ? {
            identifier: 'CALC-8',
            title: 'Make the test suite run in under a millisecond',
            description: 'Speed up the tests. Done when `python3 -m unittest` passes.',
          }
        : {},
    );
    const res = await stack.sendLinearDelivery(delivery);
    const workflowId = `linear-${delivery.issueId}`;
    out(`webhook:        POST /webhooks/linear (${delivery.identifier}, label "nightshift" added) → ${res.status}`);
    out(`workflow id:    ${workflowId}`);
    if (res.status !== 200) throw new Error(`the webhook was refused: ${res.status} ${await res.text()}`);
    const handle = stack.client.workflow.getHandle(workflowId);

    if (values.escalate) {
      // Wait for the escalation, print what the issue received, then answer "cancel".
      for (;;) {
        const s = await handle.query(statusQuery);
        if (s.phase === 'awaiting_human' || s.phase === 'done') break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const comment = stack.linear.comments.filter((c) => c.issueId === delivery.issueId).at(-1);
      out('');
      out(`---- comment posted on ${delivery.identifier} ----`);
      out(comment?.body ?? '(none)');
      out('---- end of comment ----');
      out('');
      out('replying "cancel" to the escalation (nightshift reply <id> cancel)');
      await replyToRun(stack.client, workflowId, { text: 'cancel', author: 'demo' });
    }
    const outcome = await runResult(stack.client, workflowId);
    out('');
    printOutcome(outcome);
    const comments = stack.linear.comments.filter((c) => c.issueId === delivery.issueId);
    out(`Linear:         ${comments.length} comment(s) on ${delivery.identifier}; last: ${comments.at(-1)?.body.split('\n')[0] ?? '(none)'}`);
    if (!values.escalate) {
      const pulls = stack.github.pulls('acme/calculator');
      out(`GitHub:         ${pulls.length} PR(s); #${pulls[0]?.number} "${pulls[0]?.title}" ${pulls[0]?.head} → ${pulls[0]?.base}`);
      if (outcome.kind !== 'pr_opened') process.exitCode = 1;
    } else if (outcome.kind !== 'cancelled') {
      process.exitCode = 1;
    }
  } finally {
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
