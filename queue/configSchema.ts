/**
 * Configuration schemas of the overnight queue (zod): run windows, team settings, spend caps and
 * the morning digest. `worker/config.ts` places them in the file's schema.
 */
import { z } from 'zod';
import { isValidZone, WEEKDAYS } from './window.js';

/** An IANA zone name (`Europe/Berlin`); unknown names are refused with the name in the message. */
export const zoneSchema = z.string().refine(isValidZone, { message: 'expected an IANA time zone such as Europe/Berlin or UTC' });

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time HH:MM (24-hour)');

/**
 * A run window: `{ tz, start: '22:00', end: '06:00', days: [mon, …] }` (local times; `end` at or
 * before `start` is the next day; `days` are the days the window opens, default every day), or
 * the old form `{ startHourUtc, endHourUtc }`.
 */
export const windowConfigSchema = z.union([
  z.strictObject({ startHourUtc: z.number().int().min(0).max(23), endHourUtc: z.number().int().min(0).max(23) }),
  z.strictObject({
    tz: zoneSchema,
    start: clock,
    end: clock,
    days: z.array(z.enum(WEEKDAYS)).min(1).optional(),
  }),
]);

/** One spend cap, USD; days and months are local to `tz`. */
export const spendCapSchema = z
  .strictObject({
    dailyUsd: z.number().positive().optional(),
    monthlyUsd: z.number().positive().optional(),
    tz: zoneSchema.default('UTC'),
  })
  .refine((c) => c.dailyUsd !== undefined || c.monthlyUsd !== undefined, { message: 'set dailyUsd, monthlyUsd or both' });

/** `spendCaps: { teams: { KEY: cap }, repos: { name: cap } }`. */
export const spendCapsSchema = z
  .strictObject({
    teams: z.record(z.string(), spendCapSchema).default({}),
    repos: z.record(z.string(), spendCapSchema).default({}),
  })
  .prefault({});

/** A team (key: the Linear team key, e.g. `CALC`): its run window. */
export const teamSchema = z.strictObject({
  /** Run window of every run of the team (in addition to the repository's). */
  window: windowConfigSchema.optional(),
});

/** `digest: { teams: { KEY: { channel, at: '08:00', tz } } }`: the morning digest per team. */
export const digestSchema = z
  .strictObject({
    teams: z
      .record(
        z.string(),
        z.strictObject({
          /** Slack channel id (`C…`) the digest is posted to. */
          channel: z.string().min(1),
          /** Local time of the digest, `HH:MM`. */
          at: clock.default('08:00'),
          tz: zoneSchema.default('UTC'),
          /** Hours the digest looks back. */
          sinceHours: z.number().positive().default(24),
        }),
      )
      .default({}),
  })
  .prefault({});
