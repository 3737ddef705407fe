/**
 * pino JSON logging. Every line about a run carries `workflowId`, `runId` and `attempt`;
 * secrets are redacted by key name wherever they appear, and by value (every registered secret,
 * see `redact.ts`) in the finished line, whatever key or message carries it.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { redact } from './redact.js';

export type { Logger } from 'pino';

/** Keys whose values are never written to a log. */
export const REDACTED_KEYS = [
  'token',
  'apiKey',
  'authorization',
  'Authorization',
  'secret',
  'password',
  '*.token',
  '*.apiKey',
  '*.authorization',
  '*.secret',
  'headers.authorization',
  'headers["x-api-key"]',
];

/**
 * The root logger. Level from `LOG_LEVEL` (default `info`); writes JSON lines to stderr
 * so that stdout stays free for command output.
 */
export function createRootLogger(level = process.env.LOG_LEVEL ?? 'info', destination: DestinationStream = pino.destination(2)): Logger {
  return pino({ level, base: { service: 'nightshift' }, redact: { paths: REDACTED_KEYS, censor: '[redacted]' } }, redactingStream(destination));
}

/** A destination that writes each finished log line with every registered secret value redacted. */
export function redactingStream(destination: DestinationStream): DestinationStream {
  return { write: (line: string) => destination.write(redact(line)) };
}

let root: Logger | undefined;

/** The process-wide logger (created on first use). */
export function rootLogger(): Logger {
  root ??= createRootLogger();
  return root;
}

/** Identity of a run that every log line about it carries. */
export interface RunLogContext {
  workflowId: string;
  runId: string;
  /** Nightshift attempt (agent attempt) number; 0 for run-level work (scope, clone, delivery). */
  attempt: number;
  /** Temporal's retry count of the activity writing the line, when it is an activity. */
  activityAttempt?: number;
}

/** A child logger bound to a run's `workflowId`, `runId` and `attempt` (and `activityAttempt`). */
export function runLogger(ctx: RunLogContext, parent: Logger = rootLogger()): Logger {
  return parent.child({ workflowId: ctx.workflowId, runId: ctx.runId, attempt: ctx.attempt, activityAttempt: ctx.activityAttempt });
}

/**
 * Routes the Temporal SDK's own logs (worker state, workflow `log.*` calls with their workflowId
 * and runId) into pino, at `level` and above (default `warn`; `TEMPORAL_LOG_LEVEL` overrides).
 * Must run before the first Temporal connection or worker is created; later calls are no-ops.
 */
export async function installTemporalLogging(logger: Logger, level = process.env.TEMPORAL_LOG_LEVEL ?? 'WARN'): Promise<void> {
  if (temporalLoggingInstalled) return;
  temporalLoggingInstalled = true;
  const { DefaultLogger, Runtime } = await import('@temporalio/worker');
  const child = logger.child({ component: 'temporal' });
  const toPino = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
  Runtime.install({
    logger: new DefaultLogger(level.toUpperCase() as keyof typeof toPino, (entry) => {
      child[toPino[entry.level]]({ ...(entry.meta ?? {}) }, entry.message);
    }),
    telemetryOptions: { logging: { filter: { core: level.toUpperCase() as keyof typeof toPino, other: level.toUpperCase() as keyof typeof toPino }, forward: {} } },
  });
}
let temporalLoggingInstalled = false;
