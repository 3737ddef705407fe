/**
 * Temporal Schedules of the calibration report (weekly, `report.schedule`) and of PR tracking
 * (every `prTracking.everyMinutes`), created or updated idempotently at worker start like the
 * digest's (schedules.ts). https://docs.temporal.io/develop/typescript/schedules
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from './config.js';

/** Id of the weekly report's schedule. */
export const REPORT_SCHEDULE_ID = 'nightshift-calibration-report';
/** Id of the PR-tracking poll's schedule. */
export const PR_TRACKING_SCHEDULE_ID = 'nightshift-pr-tracking';

/** The weekly report's schedule (calendar: `day` at `at` in `tz`), or undefined when not configured. */
export function reportScheduleOptions(config: Pick<Config, 'report'>, taskQueue: string): ScheduleOptions | undefined {
  const s = config.report.schedule;
  if (!s) return undefined;
  const [hour, minute] = s.at.split(':').map(Number) as [number, number];
  return {
    scheduleId: REPORT_SCHEDULE_ID,
    spec: { calendars: [{ dayOfWeek: s.day, hour, minute, comment: `calibration report, ${s.day} ${s.at} ${s.tz}` }], timezone: s.tz },
    action: { type: 'startWorkflow', workflowType: 'calibrationReportWorkflow', taskQueue, args: [], workflowId: 'calibration-report', workflowExecutionTimeout: '1 hour' },
    // A missed report (server down) is still posted within a day, never twice at once.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
  };
}

/** The PR-tracking poll's schedule, or undefined when polling is off. */
export function prTrackingScheduleOptions(config: Pick<Config, 'prTracking'>, taskQueue: string): ScheduleOptions | undefined {
  if (!config.prTracking.poll) return undefined;
  return {
    scheduleId: PR_TRACKING_SCHEDULE_ID,
    spec: { intervals: [{ every: `${config.prTracking.everyMinutes} minutes` }] },
    action: { type: 'startWorkflow', workflowType: 'prTrackingWorkflow', taskQueue, args: [{ event: 'poll' }], workflowId: 'pr-tracking-poll', workflowExecutionTimeout: '1 hour' },
    // A poll that outlasts the interval is not doubled; missed polls are not replayed (the next one catches up).
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
  };
}

/**
 * Creates or updates the report and PR-tracking schedules the configuration asks for; returns
 * their ids. A schedule no longer asked for is left alone (`temporal schedule delete`).
 * @throws the client's error when the server refuses (other than "already exists")
 */
export async function ensureReportSchedules(client: Client, config: Pick<Config, 'report' | 'prTracking'>, taskQueue: string): Promise<string[]> {
  const ids: string[] = [];
  for (const opts of [reportScheduleOptions(config, taskQueue), prTrackingScheduleOptions(config, taskQueue)]) {
    if (!opts) continue;
    try {
      await client.schedule.create(opts);
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(opts.scheduleId).update((prev) => ({ ...prev, spec: opts.spec, action: opts.action, policies: { ...prev.policies, ...opts.policies } }));
    }
    ids.push(opts.scheduleId);
  }
  return ids;
}
