/**
 * The morning digest from a night of mixed outcomes: its data, its Markdown, and its Block Kit
 * structure (buttons per escalation, Slack's limits kept with many runs).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBlocks } from '../../devstack/slackContract.js';
import { buildDigest, type DigestRun } from '../../digest/build.js';
import { renderDigestBlocks } from '../../digest/blocks.js';
import { renderDigestMarkdown } from '../../digest/markdown.js';
import { capPeriods, type SpendCapsConfig } from '../../queue/spendCaps.js';
import { night as nightOf } from '../helpers/digestNight.js';

const night = (): DigestRun[] => nightOf(since, now);

const at = (iso: string): number => Date.parse(iso);
const since = at('2025-01-14T19:00:00Z');
const now = at('2025-01-15T07:00:00Z');
const H = 3_600_000;

const caps: SpendCapsConfig = { teams: { CALC: { dailyUsd: 20, monthlyUsd: 200, tz: 'Europe/Berlin' } }, repos: { calculator: { dailyUsd: 5 } } };
const usage = capPeriods(caps, { repo: 'calculator', team: 'CALC' }, now).map((c) => ({ ...c, spentUsd: c.scope === 'team' ? 2.52 : 1.42 }));

test("digest data: the team's night, sorted into PRs, escalations, ended and open runs, with spend and totals", () => {
  const d = buildDigest(night(), caps, usage, since, now, { team: 'CALC' });
  assert.deepEqual(d.prs.map((p) => [p.workflowId, p.tests]), [['pr1', '12 passed, 1 skipped'], ['pr2', 'passed']]);
  assert.deepEqual(d.escalations.map((e) => [e.workflowId, e.ageMs, e.url]), [
    ['esc1', 5 * H, 'https://slack.com/archives/C0DEMO/p1736900000000100'],
    ['esc2', 30 * 60_000, 'https://linear.app/acme/issue/CALC-9'],
  ]);
  assert.deepEqual(d.ended.map((e) => e.outcome), ['rejected', 'failed']);
  assert.deepEqual(d.open.map((o) => [o.workflowId, o.status]), [['q1', 'queued'], ['w1', 'waiting_for_window']]);
  assert.equal(d.totals.runs, 8);
  assert.equal(d.totals.usd.toFixed(2), '3.02'); // 0.42 + 1.10 + 0.50 × 3 (two escalations, the failure; the rejection and the open runs spent nothing)
  const team = d.spend.find((s) => s.scope === 'team' && s.key === 'CALC')!;
  assert.equal(team.caps.length, 2);
  assert.ok(d.spend.some((s) => s.scope === 'repo' && s.key === 'web'));
});

test('digest Markdown: PR links, tests and cost; escalations with age, reason and thread; spend against caps; totals', () => {
  const md = renderDigestMarkdown(buildDigest(night(), caps, usage, since, now, { team: 'CALC' }), 'Europe/Berlin');
  assert.match(md, /^# Nightshift digest — CALC: Tue 14 Jan 20:00 → Wed 15 Jan 08:00 \(Europe\/Berlin\)/);
  assert.match(md, /\*\*The night:\*\* 8 runs · 2 PRs opened · 2 waiting for a human · 2 rejected or failed · 2 still queued or running · \$3\.02 · 29\.4k tokens/);
  assert.match(md, /## Pull requests opened \(2\)\n- \[Fix add\(\)\]\(https:\/\/github\.com\/acme\/calculator\/pull\/1\) — calculator · tests: 12 passed, 1 skipped · \$0\.42/);
  assert.match(md, /- \*\*Flaky test_div\*\* \(calculator\) — waiting 5 h — stuck: the same failing command 3 times \(pytest -k div\) · \[open the thread\]\(https:\/\/slack\.com\/archives\/C0DEMO\/p1736900000000100\)/);
  assert.match(md, /- Rewrite everything \(calculator\) — rejected: not bounded/);
  assert.match(md, /- Refactor parser \(calculator\) — waiting for window: spend cap/);
  assert.match(md, /\| team CALC \| \$\d+\.\d\d \| \$2\.52 of \$20\.00 today \(Europe\/Berlin\), \$17\.48 left; \$2\.52 of \$200\.00 this month/);
  assert.match(md, /\| repo calculator \| .* \$1\.42 of \$5\.00 today \(UTC\), \$3\.58 left \|/);
  assert.ok(!md.includes('pull/0') && !md.includes('pull/9'), 'last week and other teams are left out');
});

test('digest Block Kit: header, totals, a URL button per escalation opening its thread, valid for Slack', () => {
  const m = renderDigestBlocks(buildDigest(night(), caps, usage, since, now, { team: 'CALC' }), 'Europe/Berlin');
  assert.equal(checkBlocks(m.blocks, 50), undefined);
  assert.equal(m.blocks[0]!.type, 'header');
  assert.equal(m.blocks[1]!.type, 'context');
  const buttons = m.blocks.flatMap((b) => (b.type === 'section' && b.accessory ? [b.accessory] : []));
  assert.deepEqual(buttons.map((b) => b.url), ['https://slack.com/archives/C0DEMO/p1736900000000100', 'https://linear.app/acme/issue/CALC-9']);
  assert.ok(buttons.every((b) => b.text.text === 'Open thread' && b.action_id.startsWith('digest_open_')));
  const text = JSON.stringify(m.blocks);
  assert.ok(text.includes('<https://github.com/acme/calculator/pull/1|Fix add()>'));
  assert.ok(text.includes('Migrate &lt;config&gt; &amp; env'), 'mrkdwn escaped');
  assert.match(m.text, /8 runs · 2 PRs opened/);
});

test('a very busy night stays within 50 blocks and 3,000 characters per section, and says entries were left out', () => {
  const run = (id: string, p: Partial<DigestRun>): DigestRun => ({ ...nightOf(since, now)[0]!, lastValidation: undefined, workflowId: id, ...p });
  const many: DigestRun[] = [];
  for (let i = 0; i < 300; i++) {
    many.push(run(`e${i}`, { status: 'awaiting_human', originKind: 'slack', originLink: `C1/17369${String(i).padStart(5, '0')}.000100`, reason: 'x'.repeat(500), title: 'y'.repeat(200), finishedAt: undefined }));
    many.push(run(`p${i}`, { outcome: 'pr_opened', prUrl: `https://github.com/acme/calculator/pull/${i}`, title: 'z'.repeat(150) }));
    many.push(run(`f${i}`, { outcome: 'failed', reason: 'w'.repeat(300) }));
  }
  const m = renderDigestBlocks(buildDigest(many, caps, usage, since, now, { team: 'CALC' }));
  assert.ok(m.blocks.length <= 50, `${m.blocks.length} blocks`);
  assert.equal(checkBlocks(m.blocks, 50), undefined);
  for (const b of m.blocks) if (b.type === 'section') assert.ok(b.text.text.length <= 3000);
  assert.equal(m.blocks.at(-1)!.type, 'context');
  assert.ok(JSON.stringify(m.blocks).includes('Spend'), 'spend is always shown');
});
