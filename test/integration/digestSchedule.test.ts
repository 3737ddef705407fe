/**
 * The morning digest by a Temporal Schedule, on the real dev server: the schedule is created (and
 * updated, not duplicated, on a second start) with a calendar at the team's local time in its zone;
 * triggering it runs `digestWorkflow`, whose `postDigest` activity reads the real ledger (SQLite)
 * and posts Block Kit to the Slack fake, which checks the Web API contract.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { WebClient } from '@slack/web-api';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createDigestActivities } from '../../activities/digest.js';
import { FakeSlack } from '../../devstack/slack.js';
import { openLedger } from '../../ledger/open.js';
import type { Ledger } from '../../ledger/types.js';
import { parseConfig, type Config } from '../../worker/config.js';
import { digestScheduleId, ensureDigestSchedules } from '../../worker/schedules.js';
import { startDevServer } from '../../worker/temporal.js';
import { night } from '../helpers/digestNight.js';

const TOKEN = 'xoxb-digest-test';
const H = 3_600_000;
let temporal: TestWorkflowEnvironment;
let slack: FakeSlack;
let ledger: Ledger;
let stateDir: string;

before(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'ns-digest-'));
  temporal = await startDevServer({});
  slack = await FakeSlack.start({ token: TOKEN });
  ledger = await openLedger({ stateDir });
  const now = Date.now();
  for (const r of night(now - 12 * H, now)) {
    const { lastValidation, updatedAt: _u, ...row } = r;
    await ledger.upsertRun(row);
    if (lastValidation) {
      await ledger.recordValidation({ workflowId: r.workflowId, attempt: 1, ts: now, passed: lastValidation.passed, exitCode: 0, command: 'pytest', durationMs: 1000, failingTests: [], counts: lastValidation.counts, outputTail: '' });
    }
  }
});
after(async () => {
  await ledger?.close().catch(() => undefined);
  await slack?.close().catch(() => undefined);
  await temporal?.teardown().catch(() => undefined);
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

function config(at: string): Config {
  return parseConfig({
    gateway: { prices: {} },
    repos: { calculator: { url: '/tmp/none', github: 'acme/calculator', testCommand: 'true', budget: { minutes: 10, tokens: 1000, usd: 1 }, team: 'CALC' } },
    spendCaps: { teams: { CALC: { dailyUsd: 20, tz: 'Europe/Berlin' } } },
    digest: { teams: { CALC: { channel: 'C0DIGEST', at, tz: 'Europe/Berlin' } } },
  });
}

test('a Schedule per team at its local time; triggered, it posts the digest to Slack', { timeout: 120_000 }, async () => {
  const client = temporal.client;
  const taskQueue = `digest-${Date.now()}`;
  const worker = await Worker.create({
    connection: temporal.nativeConnection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('../../workflows/digest.js', import.meta.url)),
    activities: createDigestActivities({ config: config('08:00'), ledger, slack: new WebClient(TOKEN, { slackApiUrl: slack.apiUrl }) }),
  });
  const running = worker.run();
  const handle = client.schedule.getHandle(digestScheduleId('CALC'));
  try {
    assert.deepEqual(await ensureDigestSchedules(client, config('07:30'), taskQueue), ['nightshift-digest-CALC']);
    // A second start with another time updates the same schedule.
    await ensureDigestSchedules(client, config('08:00'), taskQueue);
    const d = await handle.describe();
    assert.equal(d.spec.timezone, 'Europe/Berlin');
    assert.deepEqual(
      d.spec.calendars?.map((c) => [c.hour, c.minute]),
      [[[{ start: 8, end: 8, step: 1 }], [{ start: 0, end: 0, step: 1 }]]],
    );
    assert.ok(d.action.type === 'startWorkflow' && d.action.workflowType === 'digestWorkflow' && d.action.taskQueue === taskQueue);
    // The next run is 08:00 Berlin time.
    const next = d.info.nextActionTimes[0]!;
    const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit' }).format(next);
    assert.equal(berlin, '08:00');

    await handle.trigger();
    const deadline = Date.now() + 60_000;
    while (slack.callsOf('chat.postMessage').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const [call] = slack.callsOf('chat.postMessage');
    assert.ok(call, 'the digest was posted');
    assert.equal(call.outcome, 'ok', 'the fake accepted the call (Web API contract)');
    assert.equal(call.args.channel, 'C0DIGEST');
    const blocks = (typeof call.args.blocks === 'string' ? JSON.parse(call.args.blocks) : call.args.blocks) as Array<{ type: string; text?: { text: string }; accessory?: { url: string } }>;
    assert.equal(blocks[0]!.type, 'header');
    assert.match(blocks[0]!.text!.text, /^Nightshift digest — CALC/);
    assert.deepEqual(blocks.flatMap((b) => (b.accessory ? [b.accessory.url] : [])), ['https://slack.com/archives/C0DEMO/p1736900000000100', 'https://linear.app/acme/issue/CALC-9']);
    const all = JSON.stringify(blocks);
    assert.ok(all.includes('<https://github.com/acme/calculator/pull/1|Fix add()>'), 'the PR with its link');
    assert.ok(all.includes('tests: 12 passed, 1 skipped'), 'its tests, from the ledger validation');
    assert.ok(!all.includes('pull/9') && !all.includes('pull/0'), "another team's run and last week's are left out");
    assert.match(all, /of \$20\.00 today \(Europe\/Berlin\)/);
    // The schedule recorded the action it took.
    const after = await handle.describe();
    assert.equal(after.info.numActionsTaken, 1);
    assert.equal((await client.workflow.getHandle(after.info.recentActions[0]!.action.workflow.workflowId).result()).channel, 'C0DIGEST');
  } finally {
    await handle.delete().catch(() => undefined);
    worker.shutdown();
    await running;
  }
});
