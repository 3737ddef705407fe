/**
 * The live session stream (activities/linear/sessionStream.ts) against the schema-validating
 * Linear stand-in, through the real SDK, on an injected clock: a simulated 10-minute attempt with
 * 200 tool calls stays within the stated request budget (≤ ceil(600 s / 20 s) + 2 = 32 requests)
 * and its last call is shown; no secret is posted; a replay of the same attempt posts nothing twice;
 * a low request budget coalesces everything into the final flush.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LinearClient } from '@linear/sdk';
import { createLinearClient, LinearRequestBudget } from '../../activities/linear.js';
import { linearCall } from '../../activities/linear/client.js';
import { LinearApiError } from '../../activities/linear/errors.js';
import { BudgetWaitAbandoned } from '../../activities/linear/rateBudget.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import { LinearSessionStream, type StreamClock } from '../../activities/linear/sessionStream.js';
import { FakeLinear } from '../../devstack/linear.js';
import { registerSecret } from '../../worker/redact.js';
import type { AgentEvent } from '../../workflows/types.js';

const API_KEY = 'lin_api_stream00000000000000000000000000000000';
const SECRET = 'ghp_streamSecret1234567890abcdef';

/** A clock whose timers fire when the test advances it. */
class ManualClock implements StreamClock {
  t = 1_700_000_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  /** Moves time on by `ms`, firing due timers in order and letting each post finish. */
  async advance(ms: number, idle: () => Promise<void>): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const due = this.timers[0];
      if (!due || due.at > end) break;
      this.timers.shift();
      this.t = due.at;
      due.fn();
      await idle();
    }
    this.t = end;
  }
}

/** A real-looking Claude Code attempt: reads, edits, test runs (failing, then passing), messages. */
function attemptEvents(n: number, startAt: number, stepMs: number): AgentEvent[] {
  const events: AgentEvent[] = [];
  for (let i = 0; i < n; i++) {
    const at = startAt + i * stepMs;
    const id = `toolu_${i}`;
    if (i % 10 === 0) events.push({ kind: 'message', at, text: `Looking at step ${i}: the failing test in calc_test.py` });
    if (i === n - 1) {
      events.push({ kind: 'tool_call', at, id, name: 'Bash', input: { command: 'python3 -m unittest -v', description: 'final run' }, result: 'Ran 12 tests in 0.01s\n\nOK', isError: false, exitCode: 0 });
    } else if (i % 4 === 0) {
      events.push({ kind: 'tool_call', at, id, name: 'Read', input: { file_path: '/workspace/calc.py' }, result: 'def add(a, b):\n    return a - b\n', isError: false });
    } else if (i % 4 === 1) {
      events.push({ kind: 'tool_call', at, id, name: 'Edit', input: { file_path: '/workspace/calc.py', old_string: 'a - b', new_string: 'a + b' }, result: 'The file /workspace/calc.py has been updated.', isError: false });
    } else {
      events.push({
        kind: 'tool_call',
        at,
        id,
        name: 'Bash',
        input: { command: `GITHUB_TOKEN=${SECRET} python3 -m unittest -v 2>&1 | tail -n 40` },
        result: `FAIL: test_add (calc_test.CalcTest)\nAssertionError: -1 != 5\ntoken ${SECRET}\n` + 'x'.repeat(2000),
        isError: true,
        exitCode: 1,
      });
    }
  }
  return events;
}

describe('LinearSessionStream', () => {
  let fake: FakeLinear;
  let client: LinearClient;
  before(async () => {
    registerSecret(SECRET);
    fake = new FakeLinear({ apiKey: API_KEY });
    await fake.start();
    client = createLinearClient({ apiKey: API_KEY, apiUrl: fake.apiUrl });
  });
  after(async () => {
    await fake.stop();
  });

  const run = async (opts: { workflowId: string; budget?: LinearRequestBudget; calls?: number }) => {
    const clock = new ManualClock();
    const stream = new LinearSessionStream({ client, agentSessionId: `session-${opts.workflowId}`, workflowId: opts.workflowId, attempt: 1, clock, budget: opts.budget, onError: (e) => assert.fail(String(e)) });
    const stepMs = 3000; // 200 calls × 3 s = a 10-minute attempt
    for (const ev of attemptEvents(opts.calls ?? 200, clock.now(), stepMs)) {
      if (ev.at > clock.now()) await clock.advance(ev.at - clock.now(), () => stream.idle());
      stream.push(ev);
    }
    await clock.advance(stepMs, () => stream.idle());
    await stream.close();
    return { stream, session: `session-${opts.workflowId}` };
  };

  it('200 tool calls over 10 minutes: at most 32 requests, the last call shown, no secret posted', async () => {
    const before = fake.requests.length;
    const { stream, session } = await run({ workflowId: 'wf-volume' });
    const requests = fake.requests.length - before;
    const posted = fake.activities.filter((a) => a.agentSessionId === session);
    assert.ok(requests <= 32, `${requests} requests for 200 calls (budget 32)`);
    assert.ok(posted.length >= 25, `the stream kept posting through the attempt (${posted.length})`);
    assert.equal(stream.posts, posted.length);
    const last = posted.at(-1)!;
    assert.equal(last.content.type, 'action');
    assert.equal(last.content.parameter, 'python3 -m unittest -v');
    assert.match(String(last.content.result), /Ran 12 tests in 0\.01s\n\nOK/);
    // Batches name their earlier steps; reads are not shown.
    assert.ok(posted.some((a) => /earlier step\(s\):\n- Edited \(Edit\): calc\.py → ok/.test(String(a.content.result))));
    assert.ok(!posted.some((a) => /Read/.test(JSON.stringify(a.content))));
    assert.ok(!JSON.stringify(posted).includes(SECRET), 'a secret reached Linear');
    assert.equal(new Set(posted.map((a) => a.id)).size, posted.length);
    fake.assertNoInvalidRequests();
  });

  it('a replay of the same attempt (a retried activity) posts nothing twice', async () => {
    await run({ workflowId: 'wf-replay', calls: 30 });
    const first = fake.activities.filter((a) => a.agentSessionId === 'session-wf-replay').length;
    assert.ok(first > 0);
    await run({ workflowId: 'wf-replay', calls: 30 });
    assert.equal(fake.activities.filter((a) => a.agentSessionId === 'session-wf-replay').length, first);
    // The duplicates were refused by Linear (an input error), which is no invalid document.
    fake.assertNoInvalidRequests();
  });

  it('a low request budget coalesces the attempt into the final flush', async () => {
    const budget = new LinearRequestBudget({ capacity: 10, reserve: 10, requestsPerHour: 1 });
    const { session } = await run({ workflowId: 'wf-low', budget, calls: 50 });
    const posted = fake.activities.filter((a) => a.agentSessionId === session);
    assert.equal(posted.length, 1);
    assert.match(String(posted[0]!.content.result), /^36 earlier step\(s\):\n- … 16 more\n/);
    assert.match(String(posted[0]!.content.result), /Ran 12 tests/);
  });
});

describe('LinearRequestBudget', () => {
  const clockAt = () => {
    const c = { t: 0, slept: [] as number[], now: () => c.t, sleep: async (ms: number) => void (c.slept.push(ms), (c.t += ms)) };
    return c;
  };

  it('progress stops at the reserve; final messages take the reserve and then wait for the refill', async () => {
    const clock = clockAt();
    const budget = new LinearRequestBudget({ capacity: 10, reserve: 3, requestsPerHour: 3600 }, clock);
    let progress = 0;
    while (budget.progressAllowed()) {
      await budget.take('progress');
      progress++;
    }
    // 10 → 3 tokens: progress leaves the reserve (3) untouched.
    assert.equal(progress, 7);
    for (let i = 0; i < 3; i++) await budget.take('final');
    assert.deepEqual(clock.slept, []);
    await budget.take('final'); // empty: waits about one refill (1 request/s)
    assert.equal(clock.slept.length, 1);
    assert.ok(clock.slept[0]! >= 999 && clock.slept[0]! <= 1000, String(clock.slept[0]));
    assert.deepEqual(budget.taken, { final: 4, progress: 7 });
  });

  it('a rate-limited answer pauses everything for the time Linear asked', async () => {
    const clock = clockAt();
    const budget = new LinearRequestBudget({ capacity: 100, reserve: 10, requestsPerHour: 360_000 }, clock);
    budget.pause(5000);
    assert.equal(budget.progressAllowed(), false);
    await budget.take('final');
    assert.ok(clock.t >= 5000, `waited ${clock.t} ms`);
  });

  it('a wait that would end past the caller\'s deadline is given up at once, and takes no token', async () => {
    const clock = clockAt();
    const budget = new LinearRequestBudget({ capacity: 1, reserve: 0, requestsPerHour: 3600 }, clock);
    await budget.take('final');
    await assert.rejects(budget.take('final', { deadline: 500 }), (e: unknown) => e instanceof BudgetWaitAbandoned && e.why === 'deadline' && e.waitMs >= 999);
    assert.deepEqual(clock.slept, [], 'it did not wait');
    await budget.take('final', { deadline: 1_000 });
    assert.deepEqual(budget.taken, { final: 2, progress: 0 });
  });

  it('an aborted wait stops at once and takes no token', async () => {
    const budget = new LinearRequestBudget({ capacity: 1, reserve: 0, requestsPerHour: 60 });
    await budget.take('final');
    const abort = new AbortController();
    const waiting = budget.take('final', { signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    const t0 = Date.now();
    await assert.rejects(waiting, (e: unknown) => e instanceof BudgetWaitAbandoned && e.why === 'aborted');
    assert.ok(Date.now() - t0 < 1_000, 'not the minute until the next token');
    assert.deepEqual(budget.taken, { final: 1, progress: 0 });
  });

  it('inside an activity, linearCall never waits past the activity\'s timeout or its cancel: a retryable BudgetWait, nothing sent', async () => {
    const key = `lin_api_budget_${Date.now()}`;
    const client = createLinearClient({ apiKey: key, apiUrl: 'http://127.0.0.1:9/graphql', budget: { capacity: 1, reserve: 0, requestsPerHour: 60 } });
    let sent = 0;
    const call = () => linearCall(client, 'final', 'commentCreate', async () => void sent++);
    await new MockActivityEnvironment({ startToCloseTimeoutMs: 30_000 }).run(call);
    assert.equal(sent, 1);
    // The next token is a minute away: past a 30 s start-to-close.
    const timedOut = new MockActivityEnvironment({ startToCloseTimeoutMs: 30_000 }).run(call);
    await assert.rejects(timedOut, (e: unknown) => e instanceof LinearApiError && e.reason === 'BudgetWait' && e.retryable);
    // A long timeout: it waits, until the activity is cancelled.
    const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 3_600_000 });
    const cancelled = env.run(call);
    setTimeout(() => env.cancel(), 50);
    await assert.rejects(cancelled, (e: unknown) => e instanceof LinearApiError && e.reason === 'BudgetWait');
    assert.equal(sent, 1, 'nothing sent after the first');
  });
});
