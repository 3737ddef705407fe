/**
 * Temporal Schedules of Nightshift, created or updated idempotently at worker start: one morning
 * digest per team (`digest.teams.KEY`: `at` local time in `tz`), each starting `digestWorkflow`.
 * https://docs.temporal.io/develop/typescript/schedules
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { Config } from './config.js';
import type { digestWorkflow } from '../workflows/digest.js';

/** Id of a team's digest schedule. */
export const digestScheduleId = (team: string): string => `nightshift-digest-${team}`;

/** The schedule options of one team's digest (calendar at `HH:MM` every day in `tz`). */
export function digestScheduleOptions(team: string, settings: Config['digest']['teams'][string], taskQueue: string): ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof digestWorkflow>> {
  const [hour, minute] = settings.at.split(':').map(Number) as [number, number];
  return {
    scheduleId: digestScheduleId(team),
    spec: { calendars: [{ hour, minute, comment: `digest of ${team} at ${settings.at} ${settings.tz}` }], timezone: settings.tz },
    action: { type: 'startWorkflow', workflowType: 'digestWorkflow', taskQueue, args: [{ team }], workflowId: `digest-${team}`, workflowExecutionTimeout: '1 hour' },
    // A missed digest (server down at 08:00) is still posted within 2 hours, never twice at once.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '2 hours' },
  };
}

/**
 * Creates each configured team's digest schedule, or updates it to the configuration (time, zone,
 * task queue) when it exists. Returns the schedule ids. Schedules of teams no longer configured
 * are left alone (delete them with `temporal schedule delete`).
 * @throws the client's error when the server refuses (other than "already exists")
 */
export async function ensureDigestSchedules(client: Client, config: Pick<Config, 'digest'>, taskQueue: string): Promise<string[]> {
  const ids: string[] = [];
  for (const [team, settings] of Object.entries(config.digest.teams)) {
    const opts = digestScheduleOptions(team, settings, taskQueue);
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
