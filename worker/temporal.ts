/**
 * Temporal connection: an existing server (`temporal.address`), or the Temporal CLI dev server
 * started by Nightshift itself with its SQLite database under the state directory, so that runs
 * survive restarts.
 *
 * The CLI binary: `temporal.cliPath`, else `$TEMPORAL_CLI`, else `$(go env GOPATH)/bin/temporal`
 * (installed by scripts/setup.sh with `go install`, pinned), else the SDK's cached download
 * (needs internet). https://typescript.temporal.io/api/namespaces/testing
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ConfigError, secretsFromEnv, type Config, type Secrets } from './config.js';
import { registerSecret } from './redact.js';
import { installTemporalLogging, rootLogger } from './logger.js';
import { RUN_SEARCH_ATTRIBUTES } from '../workflows/searchAttributes.js';

/** The pinned Temporal CLI version scripts/setup.sh installs. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

/**
 * Dynamic config the dev servers run with (`temporal server start-dev --dynamic-config-value K=V`;
 * docker-compose.yml's Temporal reads the same from deploy/temporal/dynamicconfig/nightshift.yaml):
 * - eager activity execution: an activity a workflow task schedules comes back to the worker in the
 *   task's completion response instead of through a poll (the server's default is off; the worker
 *   reserves up to 3 slots a task by default, WorkerOptions.maxEagerActivityReservationsPerWorkflowTask).
 *   https://docs.temporal.io/develop/worker-performance
 * - the history service's transfer and timer queue readers may read more than 20 times
 *   a second per shard (the server's default `history.*ProcessorMaxPollRPS` is 20). The dev server
 *   has one history shard, so at the default every workflow task, signal and activity a run
 *   schedules waits for the transfer queue's next read: measured here, a workflow task's
 *   schedule-to-start was 17 ms on average and an activity hop 33 ms; with these values, 1.2 ms
 *   and 13.5 ms (bench/queue.bench.ts prints the handoff it buys). They raise a ceiling, not a
 *   steady cost (an idle reader sleeps); at 4 shards (compose) that is ~2k reads a second, under
 *   the history service's default persistence limit (`history.persistenceMaxQPS`, 9,000). The
 *   visibility reader keeps its default: at 100 a second a run's upserted search attributes
 *   sometimes stayed out of visibility queries for over 30 s (2 of 10 runs of
 *   test/workflow/searchAttributes; 0 of 10 at the default).
 *   https://github.com/temporalio/temporal/blob/main/common/dynamicconfig/constants.go
 * Eager workflow start is on by default.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: readonly string[] = [
  'system.enableActivityEagerExecution=true',
  'history.transferProcessorMaxPollRPS=200',
  'history.timerProcessorMaxPollRPS=200',
];

/** How the SDK finds the dev server binary. */
export type ServerExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

/** Finds the Temporal CLI: configured path, `$TEMPORAL_CLI`, `$GOPATH/bin/temporal`, or the SDK's download. */
export function resolveTemporalCli(configured?: string, env: NodeJS.ProcessEnv = process.env): ServerExecutable {
  const candidates = [configured, env.TEMPORAL_CLI, env.GOPATH ? join(env.GOPATH, 'bin', 'temporal') : undefined, join(homedir(), 'go', 'bin', 'temporal')];
  for (const c of candidates) {
    if (c && existsSync(c)) return { type: 'existing-path', path: c };
  }
  return { type: 'cached-download' };
}

/**
 * Starts the CLI dev server. `dbFile` persists history (omit for an in-memory server in tests);
 * `port` 0 or absent picks a free port; `dynamicConfig` (`key=JSON value` entries) replaces
 * {@link DEV_SERVER_DYNAMIC_CONFIG} (benchmarks compare with and without). Call `teardown()` to stop it.
 */
export async function startDevServer(opts: { dbFile?: string; port?: number; cliPath?: string; namespace?: string; dynamicConfig?: readonly string[] }): Promise<TestWorkflowEnvironment> {
  await installTemporalLogging(rootLogger());
  if (opts.dbFile) mkdirSync(join(opts.dbFile, '..'), { recursive: true });
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: resolveTemporalCli(opts.cliPath),
      dbFilename: opts.dbFile,
      ip: '127.0.0.1',
      port: opts.port || undefined,
      namespace: opts.namespace,
      ui: false,
      log: { format: 'json', level: 'warn' },
      // The runs' search attributes (workflows/searchAttributes.ts): every run upserts them.
      searchAttributes: [...RUN_SEARCH_ATTRIBUTES],
      extraArgs: (opts.dynamicConfig ?? DEV_SERVER_DYNAMIC_CONFIG).flatMap((v) => ['--dynamic-config-value', v]),
    },
  });
}

/** Address of the Temporal frontend a config points at (the dev server's when none is set). */
export function temporalAddress(config: Config): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.devServerPort}`;
}

/** TLS settings of the SDK's connections, from `temporal.tls` (the files read now). */
export interface TemporalTls {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}

/**
 * What both connections (client and worker) need besides the address: TLS (`temporal.tls`) and
 * the API key (`$TEMPORAL_API_KEY`, never in the config file).
 * https://typescript.temporal.io/api/interfaces/client.ConnectionOptions
 * @throws ConfigError when a TLS file cannot be read
 */
export function connectionOptions(config: Config, secrets: Pick<Secrets, 'temporalApiKey'> = secretsFromEnv()): { tls?: TemporalTls | boolean; apiKey?: string } {
  const t = config.temporal.tls;
  const read = (key: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (cause) {
      throw new ConfigError(`temporal.tls.${key}: cannot read ${path}`, [`temporal.tls.${key}: cannot read ${path}`], { cause });
    }
  };
  let tls: TemporalTls | boolean | undefined;
  if (t === true) tls = true;
  else if (t && typeof t === 'object') {
    tls = {
      ...(t.serverName ? { serverNameOverride: t.serverName } : {}),
      ...(t.caFile ? { serverRootCACertificate: read('caFile', t.caFile) } : {}),
      ...(t.certFile && t.keyFile ? { clientCertPair: { crt: read('certFile', t.certFile), key: read('keyFile', t.keyFile) } } : {}),
    };
  }
  if (secrets.temporalApiKey) registerSecret(secrets.temporalApiKey);
  return { ...(tls !== undefined ? { tls } : {}), ...(secrets.temporalApiKey ? { apiKey: secrets.temporalApiKey } : {}) };
}

/** A workflow client for the configured server (TLS and API key per {@link connectionOptions}). */
export async function connectClient(config: Config, secrets?: Pick<Secrets, 'temporalApiKey'>): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress(config), ...connectionOptions(config, secrets) });
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** A native connection for a worker (TLS and API key per {@link connectionOptions}). */
export async function connectWorker(config: Config, secrets?: Pick<Secrets, 'temporalApiKey'>): Promise<NativeConnection> {
  await installTemporalLogging(rootLogger());
  return NativeConnection.connect({ address: temporalAddress(config), ...connectionOptions(config, secrets) });
}
