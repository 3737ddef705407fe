#!/usr/bin/env node
/**
 * Health checks of the deployment's Nightshift containers (docker-compose.yml `healthcheck:`):
 *
 *   node dist/worker/healthcheck.js worker     # this host's worker polls its task queue
 *   node dist/worker/healthcheck.js webhooks   # the webhook receiver answers GET /healthz
 *
 * Both read the same configuration as the service (`--config`, else $NIGHTSHIFT_CONFIG, else
 * ./nightshift.config.yaml). Exit 0 when healthy; 1 with one line on stderr saying why not
 * (Docker keeps the last lines in `docker inspect`'s .State.Health.Log); 2 for a bad configuration.
 */
import { hostname } from 'node:os';
import { Command } from 'commander';
// A CommonJS module: its namespaces are properties of the default export.
import proto from '@temporalio/proto';
import { ConfigError, loadConfig, type Config } from './config.js';
import { connectClient } from './temporal.js';

/** Why a health check failed. `code` names the check; `details` what it saw. */
export class HealthCheckError extends Error {
  constructor(
    readonly code: 'WORKER_NOT_POLLING' | 'WEBHOOKS_UNHEALTHY',
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HealthCheckError';
  }
}

/** A poller of a task queue as the server reports it (DescribeTaskQueue). */
export interface PollerSeen {
  identity: string;
  /** When the server last saw it poll, ms since the epoch. */
  lastAccessMs: number;
}

/**
 * The pollers of `taskQueue` (workflow tasks) whose identity is the SDK's default for a process
 * on `host` (`<pid>@<hostname>`) and that polled within `maxAgeMs` of `nowMs`.
 */
export function pollersOfHost(pollers: readonly PollerSeen[], host: string, nowMs: number, maxAgeMs: number): PollerSeen[] {
  return pollers.filter((p) => p.identity.endsWith(`@${host}`) && nowMs - p.lastAccessMs <= maxAgeMs);
}

/**
 * Checks that a worker of this host polls the configured task queue: DescribeTaskQueue on
 * `temporal.taskQueue` lists a poller `<pid>@<this hostname>` seen within `maxAgeMs` (default
 * 2 minutes; the server keeps pollers it saw in the last few minutes).
 * https://docs.temporal.io/references/commands#describetaskqueue (the API behind
 * `temporal task-queue describe`).
 * @throws HealthCheckError WORKER_NOT_POLLING when there is none; connection errors as thrown by the client
 */
export async function checkWorker(config: Config, opts: { host?: string; maxAgeMs?: number } = {}): Promise<PollerSeen> {
  const host = opts.host ?? hostname();
  const maxAgeMs = opts.maxAgeMs ?? 120_000;
  const client = await connectClient(config);
  try {
    const res = await client.workflowService.describeTaskQueue({
      namespace: config.temporal.namespace,
      taskQueue: { name: config.temporal.taskQueue, kind: proto.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const seen: PollerSeen[] = (res.pollers ?? []).map((p) => ({
      identity: p.identity ?? '',
      lastAccessMs: Number(p.lastAccessTime?.seconds ?? 0) * 1000 + Math.floor((p.lastAccessTime?.nanos ?? 0) / 1e6),
    }));
    const mine = pollersOfHost(seen, host, Date.now(), maxAgeMs);
    if (mine.length === 0) {
      throw new HealthCheckError('WORKER_NOT_POLLING', `no worker of host ${host} polled task queue ${config.temporal.taskQueue} in the last ${maxAgeMs / 1000} s`, {
        host,
        taskQueue: config.temporal.taskQueue,
        pollers: seen.map((p) => p.identity),
      });
    }
    return mine[0]!;
  } finally {
    await client.connection.close();
  }
}

/**
 * Checks that the webhook receiver answers `GET /healthz` with 200 on `http.port` (on 127.0.0.1
 * when `http.host` is a wildcard address).
 * @throws HealthCheckError WEBHOOKS_UNHEALTHY on another status, no answer within `timeoutMs` (default 3000) or a refused connection
 */
export async function checkWebhooks(config: Config, opts: { timeoutMs?: number } = {}): Promise<void> {
  const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? '127.0.0.1' : config.http.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}/healthz`;
  let status: number;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 3000) });
    status = res.status;
    await res.body?.cancel();
  } catch (err) {
    throw new HealthCheckError('WEBHOOKS_UNHEALTHY', `${url} did not answer`, { url }, { cause: err });
  }
  if (status !== 200) throw new HealthCheckError('WEBHOOKS_UNHEALTHY', `${url} answered ${status}`, { url, status });
}

function main(): void {
  const program = new Command('nightshift-healthcheck')
    .description('health checks of the deployment containers (docker-compose.yml)')
    .option('-c, --config <path>', 'configuration file (default $NIGHTSHIFT_CONFIG or ./nightshift.config.yaml)');
  const config = (): Config => loadConfig((program.opts() as { config?: string }).config ?? process.env.NIGHTSHIFT_CONFIG ?? 'nightshift.config.yaml');
  program
    .command('worker')
    .description("exit 0 when a worker of this host polls the configuration's task queue")
    .action(async () => {
      const p = await checkWorker(config());
      process.stdout.write(`ok: ${p.identity} polls\n`);
    });
  program
    .command('webhooks')
    .description('exit 0 when the webhook receiver answers GET /healthz')
    .action(async () => {
      await checkWebhooks(config());
      process.stdout.write('ok\n');
    });
  program.parseAsync(process.argv).catch((err: unknown) => {
    const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
    process.stderr.write(`unhealthy: ${err instanceof Error ? err.message : String(err)}${cause}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) main();
