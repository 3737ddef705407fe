/**
 * Configuration of the calibration report (`report`) and of PR tracking (`prTracking`), merged
 * into the worker's schema (worker/config.ts).
 */
import { z } from 'zod';
import { zoneSchema } from '../queue/configSchema.js';

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time HH:MM (24-hour)');
const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;

/**
 * `report`: the weekly calibration report. With `schedule`, a Temporal Schedule per deployment
 * (`nightshift-calibration-report`) posts its Markdown to the Slack `channel` each week.
 */
export const reportSchema = z
  .strictObject({
    /** Weekly posting; absent: no Schedule (`nightshift report` still works). */
    schedule: z
      .strictObject({
        /** Slack channel id (`C…`) the report is posted to. */
        channel: z.string().min(1),
        /** Day of the week, e.g. `MONDAY`. */
        day: z.string().transform((d) => d.toUpperCase()).pipe(z.enum(DAYS)).default('MONDAY'),
        /** Local time, `HH:MM`. */
        at: clock.default('09:00'),
        tz: zoneSchema.default('UTC'),
      })
      .optional(),
    /** Days the report looks back (the previous period, as long, feeds week-over-week changes). */
    sinceDays: z.number().positive().default(7),
    /** Base of the Temporal Web UI for trace links. */
    temporalUiUrl: z.url().default('http://localhost:8233'),
    /** Routing suggestions: least runs per model tier compared. */
    minSamples: z.number().int().positive().default(5),
    /** Routing suggestions: how much lower (0…1) a cheaper tier's success may be. */
    margin: z.number().min(0).max(1).default(0.05),
    /** Most expensive failures listed. */
    topFailures: z.number().int().positive().max(50).default(5),
  })
  .prefault({});

/**
 * `prTracking`: following the PRs Nightshift opened. `POST /webhooks/github` is mounted when
 * $GITHUB_WEBHOOK_SECRET is set; the polling Schedule runs unless `poll` is false (keep it on
 * as a catch-up even with webhooks: deliveries can be lost).
 */
export const prTrackingSchema = z
  .strictObject({
    /** Poll open tracked PRs with a Temporal Schedule. */
    poll: z.boolean().default(true),
    /** Minutes between two polls. */
    everyMinutes: z.number().int().min(1).max(1440).default(30),
    /** GitHub logins whose commits and reviews are Nightshift's own (besides `github.botName`/`botEmail`). */
    botLogins: z.array(z.string().min(1)).default([]),
  })
  .prefault({});

export type ReportConfig = z.infer<typeof reportSchema>;
export type PrTrackingConfig = z.infer<typeof prTrackingSchema>;
