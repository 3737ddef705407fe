/**
 * Load (issue 11, item 5): 200 runs submitted in one minute through the webhook endpoints.
 *
 * The real webhook server (`startWebhookServer`: the Linear ingress and Slack through Bolt on one
 * receiver) on the real Temporal dev server receives, at a steady rate and concurrently within
 * 60 s: 70 Linear label deliveries, 30 Linear `AgentSessionEvent created`, 50 `/nightshift run`
 * slash commands and 50 `@Nightshift` mentions, every one signed as the platform signs it, plus
 * redeliveries mixed in (Linear: the same event re-sent, some while the first is still being
 * handled, some after; Slack: the same mention with `X-Slack-Retry-Num` 1 or 2).
 *
 * The runs are the real `agentTask` workflow on a worker pair (main + messages queue) behind the
 * real sandbox queue coordinator (`queue.maxConcurrent` 6). The host activities that need Docker,
 * git and GitHub are FAST DOUBLES (prepare, environment, tests, agent, review, deliver; see
 * test/helpers/loadStack.ts): 200 sandbox runs would take an hour on 2 cores. The messages to the
 * origin are real: `notify` posts through the real Linear and Slack clients to the stand-ins
 * (devstack/linear.ts validates every GraphQL request against Linear's schema, devstack/slack.ts
 * every Web API call against Slack's contract).
 *
 * Asserted: exactly 200 `agentTask` runs on the task queue, with the ids each delivery determines;
 * each completed with a PR; each origin got exactly one final message (Linear: one comment on a
 * label issue, one `response` activity in a session; Slack: one reply with the PR in the run's
 * thread) and the redeliveries added nothing (no second run, no second first message, no
 * "already running" note); at most `maxConcurrent` runs held a sandbox at once, and the cap was
 * reached (runs waited in the queue); p99 of the webhook answer times under Linear's 5 s and
 * Slack's 3 s. The figures are printed as a table (README "Load").
 *
 * About 5 minutes on the shared 2-core machine (one minute of traffic, then ~3 minutes of draining
 * through the 6 slots and Linear's request budget).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunOutcome } from '../../workflows/types.js';
import { LINEAR_WEBHOOK_SECRET, LOAD_BOT_USER, startLoadStack, type LoadStack } from '../helpers/loadStack.js';
import { latencyRow, latencyTable, quantile, loadEvents, sendEvent, type LoadEvent, type LoadMix, type Timed } from '../helpers/loadTraffic.js';

/**
 * 200 runs: 100 from Linear, 100 from Slack. A session run makes an estimated ~12 Linear API calls (access, first
 * thought, plan updates, response) and a label run 2, and the Linear request budget (4,500 an hour,
 * bursts of 300: activities/linear/rateBudget.ts) paces them, so the Linear share is mostly labels:
 * 50 sessions would hold the queue for ~5 minutes waiting for Linear's budget.
 */
const MIX: LoadMix = { 'linear-label': 70, 'linear-session': 30, 'slack-command': 50, 'slack-mention': 50 };
const RUNS = Object.values(MIX).reduce((a, b) => a + b, 0);
const WINDOW_MS = 60_000;
const MAX_CONCURRENT = 6;
const CHANNELS = ['C0LOAD1', 'C0LOAD2', 'C0LOAD3', 'C0LOAD4', 'C0LOAD5'];

/** Waits until `check` returns a value, polling every `everyMs`; fails after `ms`. */
async function until<T>(what: string, check: () => Promise<T | undefined>, ms: number, everyMs = 1000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe('load: 200 runs through the webhook endpoints in one minute', { timeout: 360_000 }, () => {
  let stack: LoadStack;

  before(async () => {
    stack = await startLoadStack({ maxConcurrent: MAX_CONCURRENT, agentMs: 1500 });
  });

  after(async () => {
    await stack?.stop();
  });

  test('every run starts once and ends with one message; the answers stay within the platforms\' deadlines', async () => {
    const events = loadEvents(MIX, CHANNELS);
    // Linear knows the issues and the people who ask (the access check asks it about them).
    for (const e of events) {
      if (e.kind !== 'linear-label' && e.kind !== 'linear-session') continue;
      stack.linear.addIssue({ id: e.issueId, identifier: e.identifier, title: 'add() returns the wrong result' });
      const who = e.kind === 'linear-label' ? (e.payload.actor as { id: string; name: string }) : ((e.payload.agentSession as { creator: { id: string; name: string } }).creator);
      stack.linear.addUser({ id: who.id, name: who.name });
    }
    const ctx = { url: stack.url, linearSecret: LINEAR_WEBHOOK_SECRET, signer: stack.signer, botUser: LOAD_BOT_USER };
    // Redeliveries: every 5th event of each kind but commands (Slack does not retry them), at a delay
    // after the first (50 ms: while the first is being handled; else seconds later), within the window.
    const nth = new Map<string, number>();
    const spacing = WINDOW_MS / (events.length + 1);
    const plan: { at: number; e: LoadEvent; retryNum: number }[] = events.map((e, i) => ({ at: i * spacing, e, retryNum: 0 }));
    events.forEach((e, i) => {
      const k = nth.get(e.kind) ?? 0;
      nth.set(e.kind, k + 1);
      if (e.kind === 'slack-command' || k % 5 !== 0) return;
      const delay = k % 10 === 0 ? 50 : 3000 + (k % 7) * 1000;
      plan.push({ at: Math.min(i * spacing + delay, WINDOW_MS - 100), e, retryNum: 1 });
      if (e.kind === 'slack-mention') plan.push({ at: Math.min(i * spacing + delay + 2000, WINDOW_MS - 50), e, retryNum: 2 });
    });
    plan.sort((a, b) => a.at - b.at);

    const t0 = Date.now();
    const sent: Promise<Timed>[] = [];
    for (const p of plan) {
      const wait = t0 + p.at - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // Not awaited: the requests overlap as the platforms' do.
      sent.push(sendEvent(p.e, ctx, p.retryNum));
    }
    const timed = await Promise.all(sent);
    const sendMs = Date.now() - t0;
    assert.ok(sendMs < WINDOW_MS + 15_000, `all sent and answered in ${sendMs} ms`);
    assert.deepEqual(timed.filter((t) => t.status !== 200), [], 'every delivery is answered 200');
    const redeliveries = timed.filter((t) => t.redelivery).length;

    // Exactly 200 runs of agentTask on the task queue, all completed.
    const query = `TaskQueue = '${stack.taskQueue}' AND WorkflowType = 'agentTask'`;
    const client = stack.temporal.client;
    await until('every run to complete', async () => {
      const done = (await client.workflow.count(`${query} AND ExecutionStatus = 'Completed'`)).count;
      return done >= RUNS ? done : undefined;
    }, 240_000);
    const ids: string[] = [];
    for await (const w of client.workflow.list({ query })) {
      ids.push(w.workflowId);
      assert.equal(w.status.name, 'COMPLETED', `${w.workflowId} is ${w.status.name}`);
    }
    const drainMs = Date.now() - t0;

    // The ids each delivery determines: Linear from the event, a mention from its ts, a command from its root message.
    const roots = stack.slack.messages.filter((m) => m.bot_id && !m.thread_ts);
    const expected = [
      ...events.flatMap((e) => ('workflowId' in e ? [e.workflowId] : [])),
      ...roots.map((m) => `slack-${m.channel}-${m.ts}`),
    ];
    assert.equal(roots.length, MIX['slack-command'], 'one root message per slash command');
    assert.equal(ids.length, RUNS, `${ids.length} runs started`);
    assert.deepEqual([...ids].sort(), [...expected].sort());

    for (const id of ids) {
      const outcome = (await client.workflow.getHandle(id).result()) as RunOutcome;
      assert.equal(outcome.kind, 'pr_opened', `${id}: ${outcome.kind} ${outcome.reason ?? ''}`);
      assert.equal(outcome.prUrl, stack.prUrl(id));
    }

    // One final message per origin, and nothing more from the redeliveries.
    const { linear, slack } = stack;
    for (const e of events) {
      if (e.kind === 'linear-label') {
        const comments = linear.comments.filter((c) => c.issueId === e.issueId);
        assert.equal(comments.length, 1, `${e.identifier}: ${comments.length} comments`);
        assert.ok(comments[0]!.body.includes(stack.prUrl(e.workflowId)!), `${e.identifier}: the comment links the PR`);
      } else if (e.kind === 'linear-session') {
        const acts = linear.activities.filter((a) => a.agentSessionId === e.sessionId && !a.ephemeral);
        const responses = acts.filter((a) => a.content.type === 'response');
        assert.equal(responses.length, 1, `${e.sessionId}: ${responses.length} responses`);
        assert.ok(String(responses[0]!.content.body).includes(stack.prUrl(e.workflowId)!));
        assert.equal(acts.filter((a) => /^Picked up/.test(String(a.content.body))).length, 1, `${e.sessionId}: picked up once`);
        assert.deepEqual(acts.map((a) => a.content.type).filter((t) => t !== 'thought' && t !== 'response'), [], `${e.sessionId}: no error or elicitation`);
      } else if (e.kind === 'slack-mention') {
        const inThread = slack.callsOf('chat.postMessage').filter((c) => c.args.channel === e.channel && c.args.thread_ts === e.ts);
        assert.equal(inThread.length, 2, `${e.workflowId}: the first message and the final reply, not ${inThread.length}`);
        assert.equal(inThread.filter((c) => String(c.args.text).includes(stack.prUrl(e.workflowId)!)).length, 1);
      }
    }
    for (const root of roots) {
      const id = `slack-${root.channel}-${root.ts}`;
      const replies = slack.callsOf('chat.postMessage').filter((c) => c.args.channel === root.channel && c.args.thread_ts === root.ts);
      assert.equal(replies.length, 1, `${id}: one reply in the thread, not ${replies.length}`);
      assert.ok(String(replies[0]!.args.text).includes(stack.prUrl(id)!));
    }
    assert.deepEqual(slack.calls.filter((c) => c.outcome !== 'ok').map((c) => `${c.method}: ${c.outcome}`), [], 'every Slack call was valid');
    linear.assertNoInvalidRequests();

    // The queue's cap held, and runs waited for it.
    assert.ok(stack.sandbox.maxInFlight <= MAX_CONCURRENT, `${stack.sandbox.maxInFlight} runs held a sandbox at once`);
    assert.equal(stack.sandbox.maxInFlight, MAX_CONCURRENT, 'the cap was reached: runs waited in the queue');

    const spans = [...stack.sandbox.held.values()].flatMap((h) => (h.to ? [h.to - h.from] : []));
    const firstStart = Math.min(...[...stack.sandbox.held.values()].map((h) => h.from));
    const lastEnd = Math.max(...spans.length ? [...stack.sandbox.held.values()].map((h) => h.to ?? 0) : [0]);
    console.log(`# slot held (prepare → deliver): p50 ${Math.round(quantile(spans, 0.5))} ms, p95 ${Math.round(quantile(spans, 0.95))} ms; sandboxes busy from +${((firstStart - t0) / 1000).toFixed(1)} s to +${((lastEnd - t0) / 1000).toFixed(1)} s`);
    const rows = [latencyRow(timed, 'linear', 5000), latencyRow(timed, 'slack', 3000)];
    console.log(`# load: ${RUNS} runs + ${redeliveries} redeliveries sent in ${(sendMs / 1000).toFixed(1)} s; all ${ids.length} runs completed ${(drainMs / 1000).toFixed(1)} s after the first request; max ${stack.sandbox.maxInFlight} sandboxes at once`);
    console.log(latencyTable(rows).replace(/^/gm, '# '));
    for (const r of rows) assert.ok(r.p99 < r.limit, `${r.platform} p99 ${Math.round(r.p99)} ms ≥ ${r.limit} ms`);
  });
});
