/**
 * The live message, the report buttons and the modals (pure Block Kit builders) against FakeSlack's
 * argument contract (the documented limits: blocks per message, section text, ids, modal title,
 * private_metadata), and the per-message pacing of live updates.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bar, elapsed, liveStatusMessage } from '../../bots/slack/views/liveStatus.js';
import { decodeMetadata, encodeMetadata, guidanceModal, rejectModal } from '../../bots/slack/views/modals.js';
import { ACTIONS, reportWithButtons, withoutButtons } from '../../bots/slack/views/runButtons.js';
import { temporalRunLink } from '../../bots/slack/views/links.js';
import { MessageThrottle } from '../../activities/slack/throttle.js';
import { checkArgs, MAX_SECTION_TEXT } from '../../devstack/slackContract.js';
import { parseConfig } from '../../worker/config.js';
import type { LiveStatusInput } from '../../workflows/activityTypes.js';
import { ZERO_SPEND } from '../../workflows/types.js';

const WF = 'slack-C0LIVE-1712345678.000100';

function snap(over: Partial<LiveStatusInput> = {}): LiveStatusInput {
  return {
    workflowId: WF,
    channel: 'C0LIVE',
    ts: '1712345678.000100',
    requester: 'U1',
    repo: 'calculator',
    title: 'Fix add()',
    phase: 'running_agent',
    attempt: 2,
    maxAttempts: 3,
    spend: { ...ZERO_SPEND, tokens: 400_000, usd: 1 },
    budget: { wallClockMs: 600_000, tokens: 2_000_000, usd: 2 },
    elapsedMs: 3_725_000,
    lastEvents: ['Bash python3 -m unittest → exit 1', 'Edit calc.py'],
    seq: 1,
    ...over,
  };
}

const texts = (blocks: unknown[]): string => JSON.stringify(blocks);

describe('Slack views', () => {
  it('bar and elapsed', () => {
    assert.equal(bar(1, 2), '`[█████░░░░░]` 50%');
    assert.equal(bar(5, 2), '`[██████████]` 100%');
    assert.equal(bar(0, 0), '`[░░░░░░░░░░]` 0%');
    assert.equal(elapsed(3_725_000), '1h 02m');
    assert.equal(elapsed(185_000), '3m 05s');
    assert.equal(elapsed(12_400), '12s');
  });

  it('the running message shows phase, attempt, spend bars, elapsed, last events, links and a Cancel button carrying only the workflow id', () => {
    const link = temporalRunLink(parseConfig({ gateway: { prices: {} }, repos: { api: { url: '/tmp/x.git', github: 'acme/api', testCommand: 'true', budget: { minutes: 30, tokens: 1_000_000, usd: 5 } } }, temporal: { webUiUrl: 'http://localhost:8233' } }), WF);
    assert.equal(link, `http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(WF)}`);
    const m = liveStatusMessage(snap(), { temporal: link });
    assert.equal(checkArgs('chat.update', { channel: 'C0LIVE', ts: '1712345678.000100', text: m.text, blocks: m.blocks }), undefined);
    const all = texts(m.blocks);
    assert.match(all, /The agent is working\* · attempt 2\/3 · 1h 02m/);
    assert.match(all, /\$1\.00 of \$2\.00/);
    assert.match(all, /400k of 2\.0M/);
    assert.match(all, /`\[█████░░░░░\]` 50%/);
    assert.match(all, /`\[██░░░░░░░░\]` 20%/);
    assert.match(all, /Edit calc\.py/);
    assert.ok(all.includes(`<${link}|Run in Temporal>`));
    const actions = m.blocks.filter((b) => (b as { type: string }).type === 'actions') as { elements: { action_id: string; value: string }[] }[];
    assert.equal(actions.length, 1);
    assert.deepEqual(actions[0]!.elements.map((e) => [e.action_id, e.value]), [[ACTIONS.cancel, WF]]);
    assert.match(m.text, /^Nightshift run on calculator: The agent is working · attempt 2\/3$/);
  });

  it('the final message shows the outcome and the PR, and has no button', () => {
    const m = liveStatusMessage(snap({ phase: 'done', outcome: { kind: 'pr_opened', prUrl: 'http://gh.test/acme/calculator/pull/1', branch: 'nightshift/fix' } }));
    const all = texts(m.blocks);
    assert.match(all, /Pull request opened/);
    assert.ok(all.includes('<http://gh.test/acme/calculator/pull/1|Pull request>'));
    assert.ok(!m.blocks.some((b) => (b as { type: string }).type === 'actions'));
    assert.match(m.text, /pull\/1$/);
  });

  it('huge and hostile inputs stay within the contract and are escaped', () => {
    const m = liveStatusMessage(snap({ title: '<!channel> ' + 'x'.repeat(5_000), repo: 'r&d', lastEvents: Array.from({ length: 5 }, () => '`'.repeat(200)) }));
    assert.equal(checkArgs('chat.update', { channel: 'C0LIVE', ts: '1712345678.000100', text: m.text, blocks: m.blocks }), undefined);
    assert.ok(!texts(m.blocks).includes('<!channel>'));
    assert.ok(texts(m.blocks).includes('r&amp;d'));
  });

  it('escalation and approval replies: the report in sections of at most 3,000 characters, then their buttons', () => {
    const long = Array.from({ length: 400 }, (_, i) => `line ${i} ${'y'.repeat(40)}`).join('\n');
    const esc = reportWithButtons('escalation', WF, long);
    assert.equal(checkArgs('chat.postMessage', { channel: 'C0LIVE', thread_ts: '1712345678.000100', text: esc.text, blocks: esc.blocks }), undefined);
    const sections = esc.blocks.filter((b) => (b as { type: string }).type === 'section') as { text: { text: string } }[];
    assert.ok(sections.length > 5 && sections.every((s) => s.text.text.length <= MAX_SECTION_TEXT));
    assert.equal(sections.map((s) => s.text.text).join('\n'), long, 'nothing of the report is lost');
    const buttons = (b: unknown[]) => (b.find((x) => (x as { type: string }).type === 'actions') as { elements: { action_id: string; value: string }[] }).elements;
    assert.deepEqual(buttons(esc.blocks).map((e) => e.action_id), [ACTIONS.guidance, ACTIONS.takeOver, ACTIONS.cancel]);
    const appr = reportWithButtons('approval', WF, '*Approval needed*\n• `.github/workflows/ci.yml`: built-in risky path');
    assert.deepEqual(buttons(appr.blocks).map((e) => [e.action_id, e.value]), [[ACTIONS.approve, WF], [ACTIONS.reject, WF]]);
    assert.ok(texts(appr.blocks).includes('.github/workflows/ci.yml'));
    const done = withoutButtons(appr.blocks, '<@U9> approved the change');
    assert.ok(!done.some((b) => (b as { type: string }).type === 'actions'));
    assert.match(texts(done), /<@U9> approved the change/);
    assert.equal(withoutButtons(done, 'again').filter((b) => (b as { block_id?: string }).block_id === 'nightshift_decided').length, 1);
  });

  it('modals pass views.open and carry the run and the message in private_metadata', () => {
    const meta = { workflowId: WF, channel: 'C0LIVE', ts: '1712345679.000200', threadTs: '1712345678.000100' };
    for (const view of [guidanceModal(meta), rejectModal(meta)]) {
      assert.equal(checkArgs('views.open', { trigger_id: '123.456', view }), undefined);
      assert.deepEqual(decodeMetadata(view.private_metadata as string), meta);
    }
    assert.equal(decodeMetadata('{"x":1}'), undefined);
    assert.equal(decodeMetadata('not json'), undefined);
    assert.ok(encodeMetadata(meta).length < 3_000);
  });
});

describe('live message pacing', () => {
  it('at most one update a second per message; a waiting update is superseded by a newer one; an older one is never sent', async () => {
    let now = 0;
    const sleeps: number[] = [];
    const gates: (() => void)[] = [];
    const throttle = new MessageThrottle(1_000, () => now, (ms) => {
      sleeps.push(ms);
      return new Promise<void>((r) => gates.push(() => { now += ms; r(); }));
    });
    const sent: number[] = [];
    const send = (n: number) => async () => void sent.push(n);
    assert.equal(await throttle.run('C:1', 1, send(1)), 'sent');
    now += 200;
    const second = throttle.run('C:1', 2, send(2));
    const third = throttle.run('C:1', 3, send(3));
    assert.deepEqual(sleeps, [800, 800], 'both wait for the interval after the first send');
    gates.shift()!();
    assert.equal(await second, 'superseded');
    gates.shift()!();
    assert.equal(await third, 'sent');
    assert.equal(await throttle.run('C:1', 2, send(2)), 'superseded');
    assert.equal(await throttle.run('C:2', 1, send(9)), 'sent', 'other messages are not held back');
    assert.deepEqual(sent, [1, 3, 9]);
  });

  it('counts the interval from the end of a slow send, so updates never land less than a second apart', async () => {
    let now = 0;
    const sleeps: number[] = [];
    const throttle = new MessageThrottle(1_000, () => now, async (ms) => {
      sleeps.push(ms);
      now += ms;
    });
    const sent: Array<[number, number]> = [];
    // The first update takes 700 ms to be answered (a loaded host): Slack saw it at the end, not the start.
    let releaseFirst!: () => void;
    const first = throttle.run('C:1', 1, () => new Promise<void>((r) => (releaseFirst = () => { now += 700; sent.push([1, now]); r(); })));
    now += 300;
    const second = throttle.run('C:1', 2, async () => void sent.push([2, now]));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, [], 'the second waits while the first is in flight');
    releaseFirst();
    assert.equal(await first, 'sent');
    assert.equal(await second, 'sent');
    assert.deepEqual(sleeps, [1_000], 'a full interval after the first was answered');
    assert.equal(sent[1]![1] - sent[0]![1], 1_000);
  });
});
