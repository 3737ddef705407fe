/**
 * Run control, end to end (issue 3): scripted models that loop, stall, burn money or never fix the
 * bug, against the real stack (Temporal dev server, Docker sandboxes, the real Claude Code CLI,
 * the gateway, the stuck detector, Nightshift's own test runs). For each: the attempt's verdict and
 * its rule (or the budget and its spent vs cap), the container gone, the spend within budget, the
 * WIP branch pushed when there was a change, the "what I tried" summary posted to Linear with its
 * required parts, and the run waiting for a reply; then a reply: guidance leading to a PR, or
 * `cancel` closing the run with a last comment.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test, type TestContext } from 'node:test';
import Docker from 'dockerode';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { RUN_LABEL } from '../../activities/sandbox.js';
import { formatCount, formatUsd } from '../../workflows/summary.js';
import type { AttemptRecord, RunOutcome, RunStatus, StuckRule, ValidationResult } from '../../workflows/types.js';
import { replyToRun, runResult, runStatus } from '../../worker/runs.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import type { Script } from '../../devstack/scriptedModel.js';
import {
  afterSteps,
  alternatingScript,
  burnTokensScript,
  CALCULATOR_TESTS,
  fixCalculatorScript,
  HARMLESS_EDIT,
  noProgressScript,
  repeatFailingCommandScript,
  sameErrorScript,
  slowCommandScript,
  stallScript,
  withSideRequests,
  wrongFixScript,
} from '../../devstack/scripts.js';
import { CALCULATOR_ISSUE, labeledIssueDelivery } from '../../devstack/linearIssue.js';
import { LocalStack, WEBHOOK_SECRET, type LocalStackOptions } from '../../devstack/stack.js';

let temporal: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
const docker = new Docker();

before(async () => {
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await temporal?.teardown();
});

/** Stuck thresholds of the scenarios: defaults, but a silence limit no healthy start comes near. */
const STUCK = { repeatedFailingCall: 3, repeatedError: 3, alternatingCycles: 3, noProgressCalls: 8, silenceSeconds: 60 };
const GUIDANCE = 'The bug is in add() in calc.py: it subtracts. Make it return a + b, then run the tests.';

interface Run {
  stack: LocalStack;
  workflowId: string;
  issueId: string;
}

/** Starts a stack with `script` and sends the signed Linear webhook that starts a run. */
async function startRunWith(script: Script, opts: Partial<LocalStackOptions> = {}): Promise<Run> {
  const stack = await LocalStack.start({
    script,
    temporal,
    workflowBundle: bundle,
    taskQueue: `run-control-${randomUUID()}`,
    ...opts,
    stuck: { ...STUCK, ...(opts.stuck ?? {}) },
  });
  try {
    const delivery = labeledIssueDelivery(WEBHOOK_SECRET);
    const res = await stack.sendLinearDelivery(delivery);
    assert.equal(res.status, 200);
    return { stack, workflowId: `linear-${delivery.issueId}`, issueId: delivery.issueId };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

/** Polls the `status` query until the run waits for a human (fails if the run ends instead). */
async function awaitingHuman(run: Run, timeoutMs = 150_000): Promise<RunStatus> {
  const end = Date.now() + timeoutMs;
  let last: RunStatus | undefined;
  while (Date.now() < end) {
    try {
      last = await runStatus(run.stack.client, run.workflowId);
      if (last.phase === 'awaiting_human') return last;
      if (last.phase === 'done') assert.fail(`the run ended instead of escalating: ${last.outcome?.kind} ${last.outcome?.reason ?? ''}`);
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      // The workflow may not be queryable yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for awaiting_human; last phase ${last?.phase}, events ${JSON.stringify(last?.lastEvents)}`);
}

/** Containers of the run, running or not. */
async function containersOf(workflowId: string): Promise<unknown[]> {
  return docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${workflowId}`] } });
}

/** Comments posted on the run's Linear issue, oldest first. */
function commentsOf(run: Run): string[] {
  return run.stack.linear.comments.filter((c) => c.issueId === run.issueId).map((c) => c.body);
}

/** An escalated run as the tests see it: its `status`, the summary posted, its attempts. */
interface Escalation {
  status: RunStatus;
  comment: string;
  attempts: AttemptRecord[];
}

/**
 * Everything common to an escalation: phase `awaiting_human`, no container, spend within budget,
 * the WIP branch pushed (or not, when there was no change), and the summary posted with its
 * required parts. Returns the status, the summary and the attempts.
 */
async function checkEscalation(run: Run, opts: { attempts: number; wip: boolean; reason: RegExp }): Promise<Escalation> {
  const status = await awaitingHuman(run);
  assert.equal(status.phase, 'awaiting_human');
  assert.equal(status.outcome, undefined);

  // The container is gone.
  assert.deepEqual(await containersOf(run.workflowId), [], 'no container left while waiting for a human');

  // Spend within the budget the run had.
  assert.ok(status.budget, 'status names the budget');
  const budget = status.budget;
  assert.ok(status.spend.usd <= budget.usd + 1e-12, `spent $${status.spend.usd} of $${budget.usd}`);
  assert.ok(status.spend.tokens <= budget.tokens, `spent ${status.spend.tokens} of ${budget.tokens} tokens`);

  const attempts = await loadAttempts(run);
  assert.equal(attempts.length, opts.attempts, `attempts: ${attempts.map((a) => a.end).join(', ')}`);

  // The WIP branch.
  const branches = await run.stack.remoteBranches();
  const wips = branches.filter((b) => b.endsWith('-wip'));
  if (opts.wip) {
    assert.match(status.wipBranch ?? '', /^nightshift\/calc-7-add-returns-the-wrong-result-[a-z0-9]+-wip$/);
    assert.deepEqual(wips, [status.wipBranch]);
    const onWip = await run.stack.fileOnBranch(status.wipBranch!, 'calc.py');
    assert.notEqual(onWip, await run.stack.fileOnBranch('main', 'calc.py'), 'the WIP branch holds the partial work');
  } else {
    assert.equal(status.wipBranch, undefined, 'nothing to push: no WIP branch');
    assert.deepEqual(wips, []);
  }
  assert.deepEqual(branches.filter((b) => !b.endsWith('-wip')), ['main'], 'nothing but main and the WIP branch');

  // The summary, posted once to the Linear issue, with its required parts.
  const comments = commentsOf(run);
  assert.equal(comments.length, 1, 'one comment: the escalation');
  const comment = comments[0]!;
  assert.equal(status.lastReport, comment);
  const has = (s: string | RegExp, what: string) =>
    typeof s === 'string' ? assert.ok(comment.includes(s), `summary lacks ${what} (${s}):\n${comment}`) : assert.match(comment, s, `summary lacks ${what}:\n${comment}`);
  has(`### Nightshift needs a hand: ${CALCULATOR_ISSUE.title}`, 'the heading');
  has(/\*\*Why I stopped:\*\* .+/, 'why it stopped');
  assert.match(/\*\*Why I stopped:\*\* (.+)/.exec(comment)![1]!, opts.reason);
  // The goal.
  has('### Goal', 'the goal');
  has('> `calc.add(2, 3)` returns -1 instead of 5.', 'the task text');
  // Per attempt.
  has(`### What I tried (${opts.attempts} attempt${opts.attempts === 1 ? '' : 's'})`, 'the attempts section');
  for (const a of attempts.slice(-3)) {
    has(`**Attempt ${a.attempt} — claude-code (claude-sonnet-4-5)`, `attempt ${a.attempt}'s title`);
  }
  has(/- \*\*Why it stopped:\*\* /, 'why the attempt stopped');
  has("- **Approach** (the agent's last message):", 'the approach');
  has(/- \*\*Files changed:\*\*/, 'the files changed');
  if (opts.wip) has(/calc\.py\s+\|\s+\d+ [+-]+/, 'the diff stat');
  else has('- **Files changed:** none', 'no files changed');
  // Nightshift validated every attempt: the failing tests and an excerpt of their output.
  has(`- **Failing tests** (\`${CALCULATOR_TESTS}\`, exit 1): \`test_calc.CalcTest.test_add`, 'the failing tests');
  has(/```\n[\s\S]*FAILED \(failures=1\)\n```/, 'an excerpt of the test output');
  // Totals.
  has('### Totals', 'the totals');
  has(/- \*\*Time:\*\* \d+(?:ms|s|m \d+s)/, 'the total time');
  has(`- **Tokens:** ${formatCount(status.spend.tokens)} (in `, 'the total tokens');
  has(`- **Cost:** ${formatUsd(status.spend.usd)} (`, 'the total cost');
  // The WIP branch and what the reader can do.
  has(opts.wip ? `**Partial work:** branch \`${status.wipBranch}\`` : '**Partial work:** none was pushed', 'the WIP branch');
  has('### What you can do', 'the next steps');
  has('Reply with guidance', 'the guidance instruction');
  has('Reply `cancel` to close this run.', 'the cancel instruction');
  has('Reply `take over` to take the branch from here.', 'the take-over instruction');
  return { status, comment, attempts };
}

/**
 * The attempts of a run that waits for a human: the `status` query has no outcome yet, so they are
 * read from the workflow's history: the `runAgent` results, each with the `runTests` result that
 * follows it.
 */
async function loadAttempts(run: Run): Promise<AttemptRecord[]> {
  const handle = run.stack.client.workflow.getHandle(run.workflowId);
  const history = await handle.fetchHistory();
  const converter = run.stack.client.options.loadedDataConverter;
  const scheduled = new Map<string, string>();
  const records: AttemptRecord[] = [];
  for (const e of history.events ?? []) {
    const sched = e.activityTaskScheduledEventAttributes;
    if (sched) scheduled.set(String(e.eventId), sched.activityType?.name ?? '');
    const done = e.activityTaskCompletedEventAttributes;
    const payload = done?.result?.payloads?.[0];
    if (!done || !payload) continue;
    const type = scheduled.get(String(done.scheduledEventId));
    if (type === 'runAgent') records.push(converter.payloadConverter.fromPayload<AttemptRecord>(payload));
    // The workflow validates each attempt right after it (the run before any attempt is "before").
    const last = records.at(-1);
    if (type === 'runTests' && last && !last.validation) last.validation = converter.payloadConverter.fromPayload<ValidationResult>(payload);
  }
  return records;
}

/** The run's outcome, failing (with its status) when it does not end within `ms`. */
async function resultWithin(run: Run, ms = 150_000): Promise<RunOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void runStatus(run.stack.client, run.workflowId)
        .catch(() => undefined)
        .then((s) => reject(new Error(`the run did not end within ${ms / 1000} s: phase ${s?.phase}, attempt ${s?.attempt}, events ${JSON.stringify(s?.lastEvents)}`)));
    }, ms);
  });
  try {
    return await Promise.race([runResult(run.stack.client, run.workflowId), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends guidance with a fixing model; the run must end with a PR, one more attempt, and a PR comment. */
async function guideToSuccess(run: Run, escalation: Escalation): Promise<RunOutcome> {
  const model = run.stack.model!;
  model.setScript(fixCalculatorScript());
  const before = model.requests.length;
  await replyToRun(run.stack.client, run.workflowId, { text: GUIDANCE, author: 'pm' });
  const outcome = await resultWithin(run);
  assert.equal(outcome.kind, 'pr_opened', `outcome: ${outcome.kind} ${outcome.reason ?? ''}`);
  assert.equal(outcome.attempts.length, escalation.attempts.length + 1);
  const last = outcome.attempts.at(-1)!;
  assert.equal(last.end, 'agent_exited');
  assert.equal(last.stuck, undefined, 'a healthy attempt gets no verdict');
  assert.equal(last.validation?.passed, true);
  // The guidance reached the agent: it is in the prompt of the new attempt.
  assert.ok(
    model.requests.slice(before).some((r) => JSON.stringify(r.body).includes(GUIDANCE)),
    'the guidance is in the new attempt’s prompt',
  );
  // A fresh budget tranche: the caps doubled, and the spend stays within them.
  const status = await runStatus(run.stack.client, run.workflowId);
  assert.equal(status.phase, 'done');
  assert.equal(status.budget!.usd, 2 * escalation.status.budget!.usd);
  assert.ok(outcome.spend.usd <= status.budget!.usd + 1e-12);
  // One PR, on the Nightshift branch, with the fix.
  const pulls = run.stack.github.pulls('acme/calculator');
  assert.equal(pulls.length, 1);
  assert.match(await run.stack.fileOnBranch(pulls[0]!.head, 'calc.py'), /return a \+ b/);
  // The origin heard about it.
  const comments = commentsOf(run);
  assert.equal(comments.length, 2, 'the escalation, then the PR');
  assert.ok(comments[1]!.includes(outcome.prUrl!), comments[1]);
  assert.deepEqual(await containersOf(run.workflowId), []);
  return outcome;
}

/** Replies `cancel`; the run must close as cancelled with a last comment. */
async function cancelByReply(run: Run, escalation: Escalation): Promise<RunOutcome> {
  await replyToRun(run.stack.client, run.workflowId, { text: 'cancel', author: 'pm' });
  const outcome = await resultWithin(run);
  assert.equal(outcome.kind, 'cancelled', `outcome: ${outcome.kind} ${outcome.reason ?? ''}`);
  assert.equal(outcome.attempts.length, escalation.attempts.length, 'no new attempt after cancel');
  assert.equal(outcome.wipBranch, escalation.status.wipBranch);
  const comments = commentsOf(run);
  assert.equal(comments.length, 2, 'the escalation, then the closing comment');
  const closing = comments[1]!;
  assert.match(closing, /^\*\*Nightshift run cancelled\*\* by pm \(replied cancel\)\./);
  assert.ok(closing.includes(escalation.status.wipBranch ? `branch \`${escalation.status.wipBranch}\`` : 'none was pushed'), closing);
  assert.equal(run.stack.github.pulls('acme/calculator').length, 0, 'no PR');
  assert.deepEqual(await containersOf(run.workflowId), []);
  const status = await runStatus(run.stack.client, run.workflowId);
  assert.equal(status.phase, 'done');
  return outcome;
}

/** Checks a stuck verdict on the attempt and in the summary. */
function checkStuck(e: Escalation, rule: StuckRule): AttemptRecord {
  const a = e.attempts.at(-1)!;
  assert.equal(a.end, 'stuck', `end ${a.end}: ${a.failure ?? ''} ${JSON.stringify(a.lastEvents)}`);
  assert.equal(a.stuck?.rule, rule, JSON.stringify(a.stuck));
  assert.ok(a.stuck!.evidence.length > 0, 'the verdict has evidence');
  assert.ok(a.stuck!.message.length > 0);
  assert.ok(e.comment.includes(`stuck (\`${rule}\`, ${a.stuck!.repeats}×): ${a.stuck!.message}`), e.comment);
  assert.ok(e.comment.includes(`  - ${a.stuck!.evidence[0]!.slice(0, 200)}`), `the summary shows the evidence:\n${e.comment}`);
  return a;
}

/** Runs one scenario with its stack, always stopping the stack. */
async function scenario(t: TestContext, script: Script, opts: Partial<LocalStackOptions>, body: (run: Run) => Promise<void>): Promise<void> {
  const started = Date.now();
  const run = await startRunWith(script, opts);
  try {
    await body(run);
  } catch (err) {
    const s = await runStatus(run.stack.client, run.workflowId).catch(() => undefined);
    process.stderr.write(`--- ${t.name}: status ${JSON.stringify({ phase: s?.phase, events: s?.lastEvents, report: s?.lastReport }, null, 1)}\n`);
    throw err;
  } finally {
    await run.stack.stop();
    t.diagnostic(`${t.name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

describe('run control: stuck, budgets, escalation and replies', { timeout: 900_000 }, () => {
  test('a repeated failing command: repeated_failing_call, WIP pushed, guidance → PR', async (t) => {
    await scenario(t, afterSteps(HARMLESS_EDIT, repeatFailingCommandScript()), {}, async (run) => {
      const e = await checkEscalation(run, { attempts: 1, wip: true, reason: /^stuck: repeated_failing_call — the same call failed 3 times/ });
      const a = checkStuck(e, 'repeated_failing_call');
      assert.equal(a.stuck!.repeats, 3);
      assert.ok(a.stuck!.evidence.some((x) => x.includes('python3 -m unittest test_calc.CalcTest.test_add')), JSON.stringify(a.stuck!.evidence));
      assert.ok(a.stuck!.evidence.some((x) => /AssertionError/.test(x)), JSON.stringify(a.stuck!.evidence));
      assert.deepEqual(a.filesChanged, ['calc.py']);
      assert.ok(e.comment.includes('`python3 -m unittest test_calc.CalcTest.test_add` → exit 1'), 'the command with its exit code');
      await guideToSuccess(run, e);
    });
  });

  test('the same error from different commands: repeated_error, nothing to push, cancel', async (t) => {
    await scenario(t, withSideRequests(sameErrorScript()), {}, async (run) => {
      const e = await checkEscalation(run, { attempts: 1, wip: false, reason: /^stuck: repeated_error — the same error came back from 3 different calls/ });
      const a = checkStuck(e, 'repeated_error');
      assert.match(a.stuck!.evidence[0]!, /^error: ModuleNotFoundError: No module named 'calcx'/);
      assert.equal(a.stuck!.evidence.filter((x) => x.startsWith('call at ')).length, 3);
      assert.ok(e.comment.includes('`python3 -c "import calcx"` → exit 1'), 'the command with its exit code');
      await cancelByReply(run, e);
    });
  });

  test('two calls alternating: alternating_loop, cancel', async (t) => {
    await scenario(t, withSideRequests(alternatingScript()), {}, async (run) => {
      const e = await checkEscalation(run, { attempts: 1, wip: false, reason: /^stuck: alternating_loop — the agent alternated between the same two calls 3 times/ });
      const a = checkStuck(e, 'alternating_loop');
      // The two calls, in whichever order the window caught them.
      const pair = a.stuck!.evidence.filter((x) => /^[AB]: /.test(x)).map((x) => x.slice(3)).sort();
      assert.deepEqual(pair, ['Bash: ls -la /workspace', 'Read: {"file_path":"calc.py"}'], JSON.stringify(a.stuck!.evidence));
      await cancelByReply(run, e);
    });
  });

  test('looking around while the tests fail: no_progress, WIP pushed, cancel', async (t) => {
    await scenario(t, afterSteps(HARMLESS_EDIT, noProgressScript()), {}, async (run) => {
      const e = await checkEscalation(run, { attempts: 1, wip: true, reason: /^stuck: no_progress — 8 tool calls without a file change while the tests keep failing/ });
      const a = checkStuck(e, 'no_progress');
      assert.ok(a.stuck!.evidence.some((x) => x.includes(`failing test run: Bash: ${CALCULATOR_TESTS}`)), JSON.stringify(a.stuck!.evidence));
      await cancelByReply(run, e);
    });
  });

  test('a stalled model: silence, the container stopped, cancel', async (t) => {
    // Above the CLI's start-up even on a loaded machine, so that the silence is the stall.
    const silenceSeconds = 8;
    await scenario(t, withSideRequests(stallScript()), { stuck: { silenceSeconds } }, async (run) => {
      const e = await checkEscalation(run, { attempts: 1, wip: false, reason: /^stuck: silence — no event from the agent for \d+ s \(limit 8 s\)/ });
      const a = checkStuck(e, 'silence');
      assert.ok(a.stuck!.decidedAt - a.stuck!.startedAt >= silenceSeconds * 1000);
      // Stopped promptly after the verdict (the ticker checks every second).
      assert.ok(a.stuck!.decidedAt - a.stuck!.startedAt < (silenceSeconds + 3) * 1000, `verdict after ${a.stuck!.decidedAt - a.stuck!.startedAt} ms of silence`);
      assert.ok(a.stuck!.evidence.some((x) => x.includes('ls /workspace')), `the last event before the silence: ${JSON.stringify(a.stuck!.evidence)}`);
      await cancelByReply(run, e);
    });
  });

  test('burning tokens past the dollar budget: refused by the gateway, never exceeded, guidance → PR', async (t) => {
    const budget = { minutes: 10, tokens: 2_000_000, usd: 1 };
    const perTurn = { input: 20_000, output: 8_000 };
    await scenario(t, withSideRequests(burnTokensScript(perTurn)), { budget }, async (run) => {
      await awaitingHuman(run);
      const attempts = await loadAttempts(run);
      const a = attempts[0]!;
      assert.equal(a.end, 'budget', `end ${a.end}: ${a.failure ?? ''}`);
      assert.equal(a.budget?.kind, 'usd');
      assert.equal(a.budget!.cap, budget.usd);
      assert.ok(a.budget!.spent <= budget.usd);
      assert.ok(a.spend.refusals > 0, 'the gateway refused');
      assert.ok(a.spend.usd <= budget.usd, `spent $${a.spend.usd} of $${budget.usd}`);
      assert.ok(a.spend.requests >= 2, `requests forwarded: ${a.spend.requests}`);
      // What the agent was told: the gateway's refusal, as its final error.
      assert.match(a.finalMessage, /Nightshift budget exhausted: spent \$0\.\d{4} of \$1\.00/);
      // The gateway saw no overrun (no response above its reservation).
      assert.equal(run.stack.worker.gateway.status(`${run.workflowId}#1`).overruns, 0);
      const e = await checkEscalation(run, { attempts: 1, wip: false, reason: /^out of budget: dollar budget: \$0\.\d{4} spent of a \$1\.00 cap$/ });
      assert.ok(e.comment.includes(`out of budget: dollar budget: ${formatUsd(a.budget!.spent)} spent of a $1.00 cap`), e.comment);
      assert.ok(e.comment.includes(`(${a.spend.requests} model requests, ${a.spend.refusals} refused or trimmed by the budget)`), e.comment);
      await guideToSuccess(run, e);
    });
  });

  test('a wrong fix, tests failing for 3 attempts: escalated with the failing tests, guidance → PR', async (t) => {
    await scenario(t, wrongFixScript(), { maxAttempts: 3 }, async (run) => {
      await awaitingHuman(run);
      const attempts = await loadAttempts(run);
      assert.equal(attempts.length, 3);
      for (const a of attempts) {
        assert.equal(a.end, 'agent_exited', `attempt ${a.attempt}: ${a.end} ${a.failure ?? ''}`);
        assert.equal(a.stuck, undefined, 'no stuck verdict: each attempt changed a file and stopped');
        assert.deepEqual(a.filesChanged, ['calc.py']);
        assert.equal(a.validation?.passed, false, 'Nightshift ran the tests: they fail');
        assert.ok(a.validation!.failingTests.some((x) => x.endsWith('test_add')));
        assert.match(a.finalMessage, /I believe the bug is fixed/, 'the agent claims success');
      }
      const e = await checkEscalation(run, { attempts: 3, wip: true, reason: /^the tests still fail after 3 attempts$/ });
      assert.equal((e.comment.match(/Nightshift's tests: failing \(exit 1, 1 failing test\)/g) ?? []).length, 3, e.comment);
      assert.equal((e.comment.match(/> I believe the bug is fixed/g) ?? []).length, 3, 'each attempt’s approach');
      assert.ok(e.comment.includes(`\`${CALCULATOR_TESTS}\` → exit 1`), 'the commands with their exit codes');
      const outcome = await guideToSuccess(run, e);
      assert.equal(outcome.attempts.length, 4);
    });
  });

  test('a wall-clock budget: the slow command is killed at the deadline, cancel', async (t) => {
    const budget = { minutes: 0.1, tokens: 2_000_000, usd: 2 };
    await scenario(t, slowCommandScript(60), { budget }, async (run) => {
      await awaitingHuman(run);
      const attempts = await loadAttempts(run);
      const a = attempts[0]!;
      assert.equal(a.end, 'budget', `end ${a.end}: ${a.failure ?? ''}`);
      assert.equal(a.budget?.kind, 'time');
      assert.equal(a.budget!.cap, 6_000);
      assert.ok(a.durationMs >= a.budget!.cap);
      assert.ok(a.durationMs - a.budget!.cap < 5_000, `stopped ${a.durationMs - a.budget!.cap} ms after the deadline`);
      t.diagnostic(`attempt ${a.durationMs} ms for a ${a.budget!.cap} ms cap (container start, kill and removal included)`);
      const e = await checkEscalation(run, { attempts: 1, wip: false, reason: /^out of budget: time budget: \d+s spent of a 6s cap$/ });
      assert.match(e.comment, /out of budget: time budget: \d+s spent of a 6s cap/);
      // The command that was running at the deadline is reported as stopped, not lost.
      assert.ok(a.commands.some((c) => c.interrupted && /sleep 60/.test(c.command)), JSON.stringify(a.commands));
      assert.match(e.comment, /sleep 60.*→ stopped by Nightshift/);
      await cancelByReply(run, e);
    });
  });
});
