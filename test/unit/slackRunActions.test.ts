/**
 * The run buttons, modal submissions and thread replies, each handler called with a fake
 * ack/respond/client (recording, and checking its arguments against FakeSlack's contract) and a
 * recording RunsPort; roles are the real ones from config.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { handleApproveClick } from '../../bots/slack/actions/approve.js';
import { handleCancelClick } from '../../bots/slack/actions/cancel.js';
import type { ButtonArgs } from '../../bots/slack/actions/common.js';
import { handleGuidanceClick } from '../../bots/slack/actions/guidance.js';
import { handleRejectClick } from '../../bots/slack/actions/reject.js';
import type { SubmitArgs } from '../../bots/slack/actions/submission.js';
import { handleGuidanceSubmit } from '../../bots/slack/actions/submitGuidance.js';
import { handleRejectSubmit } from '../../bots/slack/actions/submitReject.js';
import { handleTakeOverClick } from '../../bots/slack/actions/takeOver.js';
import type { SlackDeps } from '../../bots/slack/deps.js';
import { handleThreadReply, type MessageArgs } from '../../bots/slack/events/threadReply.js';
import { PendingRuns } from '../../bots/slack/pending.js';
import { createRoles } from '../../bots/slack/roles.js';
import { LastRuns, type RunInfo, type RunsPort } from '../../bots/slack/runs.js';
import { SeenDeliveries } from '../../bots/slack/seen.js';
import { INPUT_ACTION, INPUT_BLOCK } from '../../bots/slack/views/modals.js';
import { reportWithButtons } from '../../bots/slack/views/runButtons.js';
import { checkArgs } from '../../devstack/slackContract.js';
import { parseConfig } from '../../worker/config.js';
import { ZERO_SPEND, type ApprovalDecision, type HumanReply, type RunPhase, type RunStatus } from '../../workflows/types.js';

const CH = 'C0RUNS';
const ROOT = '1712345678.000100';
const MSG = '1712345690.000300';
const WF = `slack-${CH}-${ROOT}`;

class FakeRuns implements RunsPort {
  execution = 'RUNNING';
  phase: RunPhase = 'awaiting_human';
  signals: { kind: string; workflowId: string; payload: unknown }[] = [];
  async start(): Promise<'started'> {
    return 'started';
  }
  async describe(id: string): Promise<RunInfo | undefined> {
    if (id !== WF) return undefined;
    return { workflowId: id, status: this.execution, startedAt: 0, request: { source: { kind: 'slack', channel: CH, threadTs: ROOT }, requester: 'UREQ', repo: 'api', title: 't', task: 't' } };
  }
  async status(id: string): Promise<RunStatus> {
    return { workflowId: id, phase: this.phase, attempt: 1, maxAttempts: 3, spend: ZERO_SPEND, lastEvents: [], undeliveredReports: 0 };
  }
  async cancel(workflowId: string, by: string): Promise<void> {
    this.signals.push({ kind: 'cancel', workflowId, payload: by });
  }
  async listOpen(): Promise<RunInfo[]> {
    return [];
  }
  async reply(workflowId: string, r: HumanReply): Promise<void> {
    this.signals.push({ kind: 'humanReply', workflowId, payload: r });
  }
  async approve(workflowId: string, d: ApprovalDecision): Promise<void> {
    this.signals.push({ kind: 'approve', workflowId, payload: d });
  }
}

/** A WebClient stand-in: records calls and refuses arguments Slack would refuse. */
function fakeClient(messages: Record<string, { text: string; blocks: unknown[] }> = {}) {
  const calls: { method: string; args: Record<string, unknown> }[] = [];
  const call = (method: string) => async (args: Record<string, unknown>) => {
    const violation = checkArgs(method, args);
    if (violation) throw new Error(`${method}: ${violation.error} ${violation.messages.join(' ')}`);
    calls.push({ method, args });
    if (method === 'conversations.replies') return { ok: true, messages: Object.entries(messages).map(([ts, m]) => ({ ts, ...m })) };
    return { ok: true };
  };
  const client = {
    chat: { update: call('chat.update'), postEphemeral: call('chat.postEphemeral') },
    views: { open: call('views.open') },
    conversations: { replies: call('conversations.replies') },
  };
  return { client, calls, of: (m: string) => calls.filter((c) => c.method === m) };
}

const approval = reportWithButtons('approval', WF, '*Approval needed*\n• `.github/workflows/ci.yml`');
const escalation = reportWithButtons('escalation', WF, '*Escalation*: the tests still fail');

function click(actionId: string, user: string, message = escalation) {
  const acks: unknown[] = [];
  const responses: Record<string, unknown>[] = [];
  const f = fakeClient();
  const args = {
    action: { type: 'button', action_id: actionId, block_id: 'b', value: WF, action_ts: '1' },
    body: { type: 'block_actions', user: { id: user, username: user }, trigger_id: '111.222', container: { type: 'message', channel_id: CH, message_ts: MSG, thread_ts: ROOT }, message: { type: 'message', ts: MSG, thread_ts: ROOT, ...message } },
    ack: async (a?: unknown) => void acks.push(a ?? 'ack'),
    respond: async (r: Record<string, unknown>) => void responses.push(r),
    client: f.client,
  } as unknown as ButtonArgs;
  return { args, acks, responses, ...f };
}

function submit(callbackId: string, user: string, text: string, meta = { w: WF, c: CH, t: MSG, r: ROOT }) {
  const acks: unknown[] = [];
  const f = fakeClient({ [MSG]: approval });
  const args = {
    ack: async (a?: unknown) => void acks.push(a ?? 'ack'),
    body: { type: 'view_submission', user: { id: user } },
    view: { callback_id: callbackId, private_metadata: JSON.stringify(meta), state: { values: { [INPUT_BLOCK]: { [INPUT_ACTION]: { type: 'plain_text_input', value: text } } } } },
    client: f.client,
  } as unknown as SubmitArgs;
  return { args, acks, ...f };
}

describe('Slack run buttons, modals and thread replies', () => {
  let runs: FakeRuns;
  let deps: SlackDeps;
  beforeEach(() => {
    runs = new FakeRuns();
    const config = parseConfig({ gateway: { prices: {} }, repos: { api: { url: '/tmp/x.git', github: 'acme/api', testCommand: 'true', budget: { minutes: 30, tokens: 1_000_000, usd: 5 } } }, slack: { botUserId: 'UBOT', roles: { api: { approver: ['UAPPROVER'], requester: ['UREQ', 'UDEV'] } } } });
    deps = { config, logger: pino({ level: 'silent' }), runs, roles: createRoles(config, async () => []), lastRuns: new LastRuns(), pending: new PendingRuns(), now: () => Date.UTC(2026, 0, 2, 3, 4, 5) };
  });

  it('Approve by an approver: acked, signal sent, buttons replaced by who approved and when', async () => {
    runs.phase = 'awaiting_approval';
    const c = click('nightshift_approve', 'UAPPROVER', approval);
    assert.equal(await handleApproveClick(deps, c.args), 'done');
    assert.equal(c.acks.length, 1);
    assert.deepEqual(runs.signals, [{ kind: 'approve', workflowId: WF, payload: { decision: 'approve', by: 'UAPPROVER' } }]);
    const upd = c.of('chat.update')[0]!.args;
    assert.equal(upd.ts, MSG);
    const blocks = JSON.stringify(upd.blocks);
    assert.ok(!blocks.includes('"actions"'), 'no button left');
    assert.match(blocks, /<@UAPPROVER> approved the change <!date\^1767323045\^/);
    assert.ok(blocks.includes('.github/workflows/ci.yml'), 'the report stays');
  });

  it('a button pressed by someone without the role: ephemeral message naming the role, nothing sent', async () => {
    runs.phase = 'awaiting_approval';
    const c = click('nightshift_approve', 'UDEV', approval);
    assert.equal(await handleApproveClick(deps, c.args), 'refused');
    assert.deepEqual(runs.signals, []);
    assert.equal(c.responses[0]?.response_type, 'ephemeral');
    assert.match(String(c.responses[0]?.text), /\*approver\* role on `api`/);
    assert.equal(c.of('chat.update').length, 0);
    runs.phase = 'awaiting_human';
    const g = click('nightshift_guidance', 'UOUTSIDER');
    assert.equal(await handleGuidanceClick(deps, g.args), 'refused');
    assert.match(String(g.responses[0]?.text), /\*requester\* role/);
    assert.equal(g.of('views.open').length, 0);
  });

  it('a button on a finished run (closed, or phase done) says so and does nothing', async () => {
    runs.execution = 'COMPLETED';
    const c = click('nightshift_take_over', 'UREQ');
    assert.equal(await handleTakeOverClick(deps, c.args), 'finished');
    assert.match(String(c.responses[0]?.text), /already finished \(completed\)/);
    runs.execution = 'RUNNING';
    runs.phase = 'done';
    const d = click('nightshift_cancel', 'UREQ');
    assert.equal(await handleCancelClick(deps, d.args), 'finished');
    assert.deepEqual(runs.signals, []);
  });

  it('Approve while no approval is pending: says so', async () => {
    runs.phase = 'running_agent';
    const c = click('nightshift_approve', 'UAPPROVER', approval);
    assert.equal(await handleApproveClick(deps, c.args), 'not_waiting');
    assert.deepEqual(runs.signals, []);
  });

  it('Reply with guidance opens the modal; its submission is the humanReply and marks the escalation', async () => {
    const c = click('nightshift_guidance', 'UREQ');
    assert.equal(await handleGuidanceClick(deps, c.args), 'opened');
    const view = c.of('views.open')[0]!.args.view as { callback_id: string; private_metadata: string };
    assert.equal(c.of('views.open')[0]!.args.trigger_id, '111.222');
    assert.deepEqual(JSON.parse(view.private_metadata), { w: WF, c: CH, t: MSG, r: ROOT });
    assert.deepEqual(runs.signals, [], 'nothing is sent before the submission');

    const empty = submit(view.callback_id, 'UREQ', '   ');
    assert.equal(await handleGuidanceSubmit(deps, empty.args), 'invalid');
    assert.equal((empty.acks[0] as { response_action: string }).response_action, 'errors');

    const s = submit(view.callback_id, 'UREQ', 'Use integer addition, not subtraction.');
    assert.equal(await handleGuidanceSubmit(deps, s.args), 'done');
    assert.equal(s.acks[0], 'ack');
    assert.deepEqual(runs.signals, [{ kind: 'humanReply', workflowId: WF, payload: { text: 'Use integer addition, not subtraction.', author: 'UREQ' } }]);
    assert.match(JSON.stringify(s.of('chat.update')[0]!.args.blocks), /<@UREQ> replied with guidance/);
  });

  it('Reject opens the reason modal (for approvers only); the submission rejects with the reason', async () => {
    runs.phase = 'awaiting_approval';
    const c = click('nightshift_reject', 'UAPPROVER', approval);
    assert.equal(await handleRejectClick(deps, c.args), 'opened');
    const s = submit('nightshift_reject_modal', 'UAPPROVER', 'CI config changes need a separate PR');
    assert.equal(await handleRejectSubmit(deps, s.args), 'done');
    assert.deepEqual(runs.signals, [{ kind: 'approve', workflowId: WF, payload: { decision: 'reject', by: 'UAPPROVER', reason: 'CI config changes need a separate PR' } }]);
    const noReason = submit('nightshift_reject_modal', 'UAPPROVER', '');
    assert.equal(await handleRejectSubmit(deps, noReason.args), 'done');
    assert.deepEqual(runs.signals[1]?.payload, { decision: 'reject', by: 'UAPPROVER' });
    const other = submit('nightshift_reject_modal', 'UDEV', 'no');
    assert.equal(await handleRejectSubmit(deps, other.args), 'invalid');
    assert.match(JSON.stringify(other.acks[0]), /approver role/);
  });

  it('Take over and Cancel: own run by the requester; someone else’s needs an approver', async () => {
    const t = click('nightshift_take_over', 'UREQ');
    assert.equal(await handleTakeOverClick(deps, t.args), 'done');
    assert.deepEqual(runs.signals[0], { kind: 'humanReply', workflowId: WF, payload: { text: 'take over', author: 'UREQ' } });
    const other = click('nightshift_cancel', 'UDEV');
    assert.equal(await handleCancelClick(deps, other.args), 'refused');
    assert.match(String(other.responses[0]?.text), /\*approver\* role/);
    const own = click('nightshift_cancel', 'UREQ');
    assert.equal(await handleCancelClick(deps, own.args), 'done');
    assert.deepEqual(runs.signals[1], { kind: 'cancel', workflowId: WF, payload: 'UREQ' });
    assert.match(JSON.stringify(own.of('chat.update')[0]!.args.blocks), /<@UREQ> cancelled the run/);
  });

  describe('thread replies', () => {
    const msg = (over: Record<string, unknown> = {}, eventId = `Ev${Math.random()}`) => {
      const f = fakeClient();
      const args = { event: { type: 'message', channel: CH, user: 'UREQ', text: 'Try the other branch', ts: `${1712345700 + Math.floor(Math.random() * 1e6)}.000001`, thread_ts: ROOT, ...over }, body: { event_id: eventId }, client: f.client, context: { botUserId: 'UBOT' } } as unknown as MessageArgs;
      return { args, ...f };
    };

    it('guidance while the run waits; a repeated delivery (same event, same message) acts once', async () => {
      const seen = new SeenDeliveries();
      const m = msg({ ts: '1712345700.000001' }, 'EvONE');
      assert.equal(await handleThreadReply(deps, seen, m.args), 'replied');
      assert.equal(await handleThreadReply(deps, seen, m.args), 'repeat');
      const sameMessage = msg({ ts: '1712345700.000001' }, 'EvTWO');
      assert.equal(await handleThreadReply(deps, seen, sameMessage.args), 'repeat');
      assert.deepEqual(runs.signals, [{ kind: 'humanReply', workflowId: WF, payload: { text: 'Try the other branch', author: 'UREQ' } }]);
      assert.equal(m.of('chat.postEphemeral')[0]?.args.thread_ts, ROOT);
    });

    it('bots, edits, top-level messages, mentions, other threads and messages while the run works pass nothing on', async () => {
      const seen = new SeenDeliveries();
      assert.equal(await handleThreadReply(deps, seen, msg({ bot_id: 'B1' }).args), 'ignored');
      assert.equal(await handleThreadReply(deps, seen, msg({ subtype: 'message_changed' }).args), 'ignored');
      assert.equal(await handleThreadReply(deps, seen, msg({ thread_ts: undefined }).args), 'ignored');
      assert.equal(await handleThreadReply(deps, seen, msg({ text: '<@UBOT> fix more' }).args), 'ignored');
      assert.equal(await handleThreadReply(deps, seen, msg({ thread_ts: '1700000000.000001' }).args), 'not_a_run');
      runs.phase = 'running_agent';
      assert.equal(await handleThreadReply(deps, seen, msg().args), 'not_waiting');
      runs.execution = 'COMPLETED';
      assert.equal(await handleThreadReply(deps, seen, msg().args), 'finished');
      assert.deepEqual(runs.signals, []);
    });

    it('approve / reject while an approval is pending: approvers only; cancel while working is the cancel signal', async () => {
      const seen = new SeenDeliveries();
      runs.phase = 'awaiting_approval';
      const refused = msg({ user: 'UDEV', text: 'approve' });
      assert.equal(await handleThreadReply(deps, seen, refused.args), 'refused');
      assert.match(String(refused.of('chat.postEphemeral')[0]?.args.text), /\*approver\* role/);
      assert.equal(await handleThreadReply(deps, seen, msg({ user: 'UAPPROVER', text: 'Approve' }).args), 'approved');
      assert.equal(await handleThreadReply(deps, seen, msg({ user: 'UAPPROVER', text: 'reject' }).args), 'rejected');
      runs.phase = 'running_agent';
      assert.equal(await handleThreadReply(deps, seen, msg({ text: 'cancel' }).args), 'cancelled');
      assert.deepEqual(runs.signals.map((s) => [s.kind, s.payload]), [
        ['approve', { decision: 'approve', by: 'UAPPROVER' }],
        ['approve', { decision: 'reject', by: 'UAPPROVER' }],
        ['cancel', 'UREQ'],
      ]);
    });
  });
});
