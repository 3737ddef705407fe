/**
 * `demo --night`: a simulated night of the overnight queue (issue 10) on one LocalStack with Slack.
 *
 *   two repositories (`calculator`; `abacus`, capped at 1 sandbox) of team CALC, a team window in
 *   Europe/Berlin opening a minute or two after the start, `queue.maxConcurrent: 2`, a team daily
 *   spend cap, the team's digest to a Slack channel;
 *   evening: eight tasks from the CLI (a Temporal client start, as `nightshift submit`), signed
 *   Linear webhooks (label added, issue priority) and signed Slack `/nightshift run … --priority`,
 *   all waiting for the window; one is stuck by construction (escalation), one has a budget above
 *   the cap (refused);
 *   the window opens: runs queue for the two sandboxes; an urgent Linear issue arrives while the
 *   queue is full and is admitted next;
 *   late: three more tasks once the team's spend leaves less than one run's budget: deferred to
 *   the next day, which they say at their origin;
 *   morning: the team's digest Schedule is triggered; its Markdown (as `nightshift digest`) is
 *   printed, and the Block Kit message posted to the Slack fake is counted.
 *
 * A line per state change of a run, with the sandboxes in use against the caps. Exit code 1 when an
 * invariant broke (caps exceeded, a run without its message at its origin, a lower priority
 * admitted before a waiting higher one, an outcome other than the one built in).
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { DateTime } from 'luxon';
import { nightScript } from '../devstack/nightScripts.js';
import { LINEAR_TEAM_OF, NIGHT_TASKS, nightIssueDelivery, slackCommandText, taskText, type NightTask } from '../devstack/nightTasks.js';
import { GITHUB_REPO, LocalStack, WEBHOOK_SECRET } from '../devstack/stack.js';
import { collectCalibration } from '../calibration/collect.js';
import { renderCalibrationHtml } from '../calibration/html.js';
import { renderCalibrationMarkdown } from '../calibration/markdown.js';
import { collectDigest } from '../digest/collect.js';
import { renderDigestMarkdown } from '../digest/markdown.js';
import { openLedger } from '../ledger/open.js';
import type { Ledger } from '../ledger/types.js';
import { periodBounds } from '../queue/spendCaps.js';
import { coordinatorIdFor } from '../workflows/queueCoordinator.js';
import { workflowIdFor } from '../workflows/types.js';
import { checkOrigins, countButtons } from './demoNightChecks.js';
import { NightWatch, type NightRun } from './demoNightWatch.js';
import type { Logger } from './logger.js';
import { startRun } from './runs.js';
import { digestScheduleId } from './schedules.js';
import { WORKFLOWS_PATH } from './worker.js';

/** The night's settings. */
export const NIGHT = {
  tz: 'Europe/Berlin',
  team: 'CALC',
  globalCap: 2,
  abacusCap: 1,
  /** Each run's dollar budget, USD (the repositories' `budget.usd`). */
  runUsd: 1.5,
  /** The team's daily cap, USD: above the evening's spend, below it plus one run's budget. */
  teamDailyUsd: 4,
  commandChannel: 'C0CALC',
  digestChannel: 'C0MORNING',
  slackUser: 'U0NIGHT',
  /** The whole night's deadline, ms. */
  deadlineMs: 12 * 60_000,
} as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The window: opens at the next whole minute at least 80 s from now; closes at 06:00, or 8 h later when 06:00 is under an hour away. */
export function nightWindow(nowMs: number, tz: string): { start: string; end: string; opensAtMs: number } {
  const t = DateTime.fromMillis(nowMs + 80_000, { zone: tz });
  const opens = t.second || t.millisecond ? t.startOf('minute').plus({ minutes: 1 }) : t;
  let closes = opens.set({ hour: 6, minute: 0 });
  if (closes <= opens) closes = closes.plus({ days: 1 });
  if (closes.diff(opens, 'hours').hours < 1) closes = opens.plus({ hours: 8 });
  return { start: opens.toFormat('HH:mm'), end: closes.toFormat('HH:mm'), opensAtMs: opens.toMillis() };
}

/** Runs the night; returns the process exit code (0: every invariant held). */
export async function runNightDemo(out: (line?: string) => void, logger: Logger): Promise<number> {
  const startedAt = Date.now();
  out('A simulated night: windows, caps, priorities, the ledger and the morning digest (issue 10)');
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
  const win = nightWindow(Date.now(), NIGHT.tz);
  const stack = await LocalStack.start({
    script: nightScript(),
    logger,
    workflowBundle,
    slack: true,
    maxConcurrentActivities: 6,
    budget: { minutes: 10, tokens: 2_000_000, usd: NIGHT.runUsd },
    extraGithubRepos: ['acme/abacus'],
    configure: (raw) => {
      const calc = raw.repos.calculator!;
      calc.team = NIGHT.team;
      raw.repos.abacus = { ...calc, github: 'acme/abacus', maxConcurrent: NIGHT.abacusCap };
      raw.teams = { [NIGHT.team]: { window: { tz: NIGHT.tz, start: win.start, end: win.end } } };
      raw.queue = { maxConcurrent: NIGHT.globalCap, reclaimEverySeconds: 30 };
      raw.spendCaps = { teams: { [NIGHT.team]: { dailyUsd: NIGHT.teamDailyUsd, tz: NIGHT.tz } } };
      raw.digest = { teams: { [NIGHT.team]: { channel: NIGHT.digestChannel, at: '08:00', tz: NIGHT.tz } } };
      (raw.linear as Record<string, unknown>).teams = Object.fromEntries(Object.entries(LINEAR_TEAM_OF).map(([repo, key]) => [key, repo]));
    },
  });
  const ledger = await openLedger(stack.config);
  try {
    out(`window:         team ${NIGHT.team}, ${NIGHT.tz} ${win.start}–${win.end} (opens in ${Math.round((win.opensAtMs - Date.now()) / 1000)} s)`);
    out(`repositories:   calculator (${GITHUB_REPO}), abacus (acme/abacus, at most ${NIGHT.abacusCap} sandbox); both team ${NIGHT.team}`);
    out(`caps:           queue.maxConcurrent ${NIGHT.globalCap}; team ${NIGHT.team} $${NIGHT.teamDailyUsd.toFixed(2)} a day (${NIGHT.tz}); each run's budget $${NIGHT.runUsd.toFixed(2)}`);
    out(`digest:         team ${NIGHT.team} at 08:00 ${NIGHT.tz} to Slack ${NIGHT.digestChannel} (a Temporal Schedule)`);
    out('sources:        CLI (Temporal client), Linear (signed webhooks), Slack (signed /nightshift commands); the scripted model drives the real Claude Code CLI');
    out('');
    const watch = new NightWatch(stack.client, out, { global: NIGHT.globalCap, repos: { abacus: NIGHT.abacusCap } }, NIGHT.tz, startedAt, coordinatorIdFor(stack.config.temporal.taskQueue));
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await watch.sample();
        await sleep(1000);
      }
    })();
    const deadline = startedAt + NIGHT.deadlineMs;
    const until = async (what: string, ok: () => boolean | Promise<boolean>, everyMs = 1000): Promise<void> => {
      while (!(await ok())) {
        if (Date.now() > deadline) throw new Error(`the night ran past its deadline waiting for ${what}`);
        await sleep(everyMs);
      }
    };
    try {
      for (const t of NIGHT_TASKS.filter((x) => x.wave === 'evening')) watch.add(...(await send(stack, t)));
      // The urgent issue arrives once the window is open and the sandboxes are busy with others waiting.
      await until('a full queue', async () => {
        if (Date.now() < win.opensAtMs) return false;
        const q = await stack.client.workflow.getHandle('nightshift-queue').query<{ running: unknown[]; waiting: unknown[] }>('queue').catch(() => undefined);
        return (q !== undefined && q.running.length >= NIGHT.globalCap && q.waiting.length >= 2) || Date.now() > win.opensAtMs + 90_000;
      });
      for (const t of NIGHT_TASKS.filter((x) => x.wave === 'urgent')) watch.add(...(await send(stack, t)));
      // Late tasks once what the cap leaves is less than one run's budget (the cap check counts this).
      const { startMs, endMs } = periodBounds(Date.now(), NIGHT.tz, 'day');
      const early = watch.allRuns();
      const spent = async (): Promise<number> => (await ledger.spendBetween({ team: NIGHT.team }, startMs, endMs)).usd;
      await until('the team spend', async () => (await spent()) + NIGHT.runUsd > NIGHT.teamDailyUsd || early.every((r) => settled(watch, r)), 2000);
      out(`--- team ${NIGHT.team} has spent $${(await spent()).toFixed(2)} of $${NIGHT.teamDailyUsd.toFixed(2)} today: late tasks arrive ---`);
      for (const t of NIGHT_TASKS.filter((x) => x.wave === 'late')) watch.add(...(await send(stack, t)));
      await until('every run to settle', () => watch.allRuns().every((r) => settled(watch, r)));
      await sleep(1500);
    } finally {
      sampling = false;
      await sampler;
    }
    await watch.sample();
    const problems = [...watch.violations];
    const pairs = watch.checkPriority();
    problems.push(...watch.violations.filter((v) => !problems.includes(v)));
    problems.push(...checkOrigins(stack, watch));
    const totalUsd = (await ledger.spendBetween({ team: NIGHT.team }, ...Object.values(periodBounds(Date.now(), NIGHT.tz, 'day')) as [number, number])).usd;
    if (totalUsd > NIGHT.teamDailyUsd) problems.push(`team ${NIGHT.team} spent $${totalUsd.toFixed(2)}, above its daily cap of $${NIGHT.teamDailyUsd.toFixed(2)}`);
    out('');
    out(`night over after ${Math.round((Date.now() - startedAt) / 1000)} s: peak ${watch.peak.global}/${NIGHT.globalCap} sandboxes (abacus ${watch.peak.repos.abacus ?? 0}/${NIGHT.abacusCap}); ${watch.holders.size} runs admitted; ${pairs} priority pairs checked; team spend $${totalUsd.toFixed(2)} of $${NIGHT.teamDailyUsd.toFixed(2)}`);
    await morning(stack, ledger, out, problems);
    await calibration(stack, ledger, out, problems);
    out('');
    if (problems.length > 0) {
      out(`INVARIANTS BROKEN (${problems.length}):`);
      for (const p of problems) out(`  - ${p}`);
      return 1;
    }
    out('every invariant held: caps never exceeded, every run has its message at its origin, the urgent task went first, outcomes as built');
    return 0;
  } finally {
    await ledger.close();
    await stack.stop();
  }
}

/** Whether a run has reached where the night leaves it (done, escalated, deferred). */
function settled(watch: NightWatch, run: NightRun): boolean {
  const s = watch.stateOf(run.workflowId).state;
  return s === 'done' || s === 'escalated' || s === 'deferred';
}

/** Sends a task by its channel; returns the run and the note for its first line. */
async function send(stack: LocalStack, t: NightTask): Promise<[NightRun, string]> {
  if (t.via === 'cli') {
    const workflowId = workflowIdFor({ kind: 'cli' }, randomUUID());
    const overrides = t.usd !== undefined ? { budget: { usd: t.usd } } : undefined;
    await startRun(stack.client, stack.config.temporal.taskQueue, workflowId, { source: { kind: 'cli' }, requester: 'night-demo', repo: t.repo, title: t.title, task: taskText(t), priority: t.priority, ...(overrides ? { overrides } : {}) });
    return [{ task: t, workflowId }, `nightshift submit --repo ${t.repo}${t.usd ? ` --usd ${t.usd}` : ''} "${t.title}" → ${workflowId}`];
  }
  if (t.via === 'linear') {
    const d = nightIssueDelivery(WEBHOOK_SECRET, t);
    const res = await stack.sendLinearDelivery(d);
    if (res.status !== 200) throw new Error(`the Linear webhook for ${t.label} was refused: ${res.status}`);
    return [{ task: t, workflowId: `linear-${d.issueId}`, issueId: d.issueId }, `Linear ${t.label} (team ${LINEAR_TEAM_OF[t.repo]}, priority ${t.priority}) labeled "nightshift" → ${res.status}`];
  }
  const slack = stack.slack!;
  const channel = NIGHT.commandChannel;
  const seen = new Set(slack.messages.filter((m) => m.channel === channel && !m.thread_ts).map((m) => m.ts));
  const text = slackCommandText(t);
  const res = await stack.slackSigner!.slashCommand({ text, user: NIGHT.slackUser, channel });
  if (res.status !== 200) throw new Error(`the Slack command for ${t.label} was refused: ${res.status}`);
  for (let i = 0; i < 200; i++) {
    const root = slack.messages.find((m) => m.channel === channel && m.bot_id && !m.thread_ts && !seen.has(m.ts));
    if (root) return [{ task: t, workflowId: `slack-${channel}-${root.ts}`, slack: { channel, rootTs: root.ts } }, `/nightshift ${text.split('. Done when')[0]} … ${text.slice(text.indexOf('--priority'))} → ${res.status}`];
    await sleep(100);
  }
  throw new Error(`no root message was posted for ${t.label}`);
}

/**
 * The calibration report over the night's ledger, as `nightshift report --since 24h --html F`
 * prints it (issue 12): the Markdown, and the HTML page written to the working directory.
 */
async function calibration(stack: LocalStack, ledger: Ledger, out: (line?: string) => void, problems: string[]): Promise<void> {
  const nowMs = Date.now();
  const { report: r } = stack.config;
  const report = await collectCalibration(ledger, {
    sinceMs: nowMs - 24 * 3_600_000,
    nowMs,
    temporalUiUrl: r.temporalUiUrl,
    namespace: stack.config.temporal.namespace,
    minSamples: r.minSamples,
    margin: r.margin,
    topFailures: r.topFailures,
  });
  const htmlPath = resolve('nightshift-report.html');
  await writeFile(htmlPath, await renderCalibrationHtml(report));
  out('');
  out('---- nightshift report --since 24h --html nightshift-report.html ----');
  out(renderCalibrationMarkdown(report, Number.POSITIVE_INFINITY).trimEnd());
  out('---- end of report ----');
  out(`calibration page (charts, no network): ${htmlPath}`);
  if (report.totals.runs === 0) problems.push('the calibration report counted no runs of the night');
}

/** Triggers the team's digest Schedule, prints the Markdown and what Slack received. */
async function morning(stack: LocalStack, ledger: Ledger, out: (line?: string) => void, problems: string[]): Promise<void> {
  const slack = stack.slack!;
  const before = slack.messages.filter((m) => m.channel === NIGHT.digestChannel).length;
  out(`morning: triggering the Schedule ${digestScheduleId(NIGHT.team)} (client.schedule.getHandle(id).trigger())`);
  await stack.client.schedule.getHandle(digestScheduleId(NIGHT.team)).trigger();
  let posted = slack.messages.filter((m) => m.channel === NIGHT.digestChannel).slice(before);
  for (let i = 0; i < 600 && posted.length === 0; i++) {
    await sleep(100);
    posted = slack.messages.filter((m) => m.channel === NIGHT.digestChannel).slice(before);
  }
  const nowMs = Date.now();
  const digest = await collectDigest(ledger, stack.config, { team: NIGHT.team, sinceMs: nowMs - 24 * 3_600_000, nowMs });
  out('');
  out(`---- nightshift digest --team ${NIGHT.team} ----`);
  out(renderDigestMarkdown(digest, NIGHT.tz).trimEnd());
  out('---- end of digest ----');
  const msg = posted.at(-1);
  if (!msg) {
    problems.push(`the digest Schedule posted nothing to ${NIGHT.digestChannel} within 60 s`);
    return;
  }
  out(`Slack ${NIGHT.digestChannel}: the Block Kit digest was posted by digestWorkflow: ${msg.blocks?.length ?? 0} blocks, ${countButtons(msg.blocks)} button(s) ("Open thread", one per escalation)`);
}
