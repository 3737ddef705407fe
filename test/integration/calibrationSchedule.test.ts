/**
 * The weekly calibration report by a Temporal Schedule, on the real dev server: the schedule is
 * created (and updated, not duplicated, on a second start) with a weekly calendar at the configured
 * local time in its zone; triggering it runs `calibrationReportWorkflow`, whose
 * `postCalibrationReport` activity reads the real ledger (SQLite, seeded with the test fortnight)
 * and posts the Markdown to the Slack fake, which checks the Web API contract.
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
import { createCalibrationActivities } from '../../activities/calibration.js';
import { FakeSlack } from '../../devstack/slack.js';
import { openLedger } from '../../ledger/open.js';
import type { Ledger } from '../../ledger/types.js';
import { parseConfig, type Config } from '../../worker/config.js';
import { ensureReportSchedules, REPORT_SCHEDULE_ID } from '../../worker/reportSchedules.js';
import { startDevServer } from '../../worker/temporal.js';
import { NOW, seedFortnight } from '../helpers/calibrationFortnight.js';

const TOKEN = 'xoxb-calibration-test';
let temporal: TestWorkflowEnvironment;
let slack: FakeSlack;
let ledger: Ledger;
let stateDir: string;

before(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'ns-calibration-'));
  temporal = await startDevServer({});
  slack = await FakeSlack.start({ token: TOKEN });
  ledger = await openLedger({ stateDir });
  await seedFortnight(ledger);
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
    repos: { calculator: { url: '/tmp/none', github: 'acme/calculator', testCommand: 'true', budget: { minutes: 10, tokens: 1000, usd: 1 } } },
    report: { schedule: { channel: 'C0REPORTS', day: 'monday', at, tz: 'Europe/Berlin' }, sinceDays: 7 },
    prTracking: { poll: false },
  });
}

test('a weekly Schedule at its local time; triggered, it posts the calibration report to Slack', { timeout: 120_000 }, async () => {
  const client = temporal.client;
  const taskQueue = `calibration-${Date.now()}`;
  const worker = await Worker.create({
    connection: temporal.nativeConnection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('../../workflows/calibrationReport.js', import.meta.url)),
    activities: createCalibrationActivities({ config: config('09:00'), ledger, slack: new WebClient(TOKEN, { slackApiUrl: slack.apiUrl }), now: () => NOW }),
  });
  const running = worker.run();
  const handle = client.schedule.getHandle(REPORT_SCHEDULE_ID);
  try {
    assert.deepEqual(await ensureReportSchedules(client, config('08:30'), taskQueue), [REPORT_SCHEDULE_ID]);
    // A second start with another time updates the same schedule.
    await ensureReportSchedules(client, config('09:00'), taskQueue);
    const d = await handle.describe();
    assert.equal(d.spec.timezone, 'Europe/Berlin');
    assert.ok(d.action.type === 'startWorkflow' && d.action.workflowType === 'calibrationReportWorkflow' && d.action.taskQueue === taskQueue);
    // The next run is a Monday, 09:00 Berlin time.
    const next = d.info.nextActionTimes[0]!;
    const berlin = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', weekday: 'long', hour: '2-digit', minute: '2-digit' }).format(next);
    assert.equal(berlin, 'Monday 09:00');

    await handle.trigger();
    const deadline = Date.now() + 60_000;
    while (slack.callsOf('chat.postMessage').length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const [call] = slack.callsOf('chat.postMessage');
    assert.ok(call, 'the report was posted');
    assert.equal(call.outcome, 'ok', 'the fake accepted the call (Web API contract)');
    assert.equal(call.args.channel, 'C0REPORTS');
    const blocks = (typeof call.args.blocks === 'string' ? JSON.parse(call.args.blocks) : call.args.blocks) as Array<{ type: string; text?: string }>;
    assert.equal(blocks[0]!.type, 'markdown');
    const md = blocks[0]!.text!;
    assert.match(md, /^# Nightshift calibration report/);
    assert.match(md, /\*\*20 runs\*\* · PR opened 80% · merged 50% · escalated 15%/, 'the fortnight\'s figures');
    assert.match(md, /Route docs to the small tier/, 'the routing suggestion the data supports');
    assert.ok(md.length <= 12_000, 'within the markdown block limit');
    const after = await handle.describe();
    assert.equal(after.info.numActionsTaken, 1);
    assert.equal((await client.workflow.getHandle(after.info.recentActions[0]!.action.workflow.workflowId).result()).channel, 'C0REPORTS');
  } finally {
    await handle.delete().catch(() => undefined);
    worker.shutdown();
    await running;
  }
});
