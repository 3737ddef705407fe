/**
 * Temporal connection: an existing server (`temporal.address`), or the Temporal CLI dev server
 * started by Nightshift itself with its SQLite database under the state directory, so that runs
 * survive restarts.
 *
 * The CLI binary: `temporal.cliPath`, else `$TEMPORAL_CLI`, else `$(go env GOPATH)/bin/temporal`
 * (installed by scripts/setup.sh with `go install`, pinned), else the SDK's cached download
 * (needs internet). https://typescript.temporal.io/api/namespaces/testing
 */
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Config } from './config.js';
import { installTemporalLogging, rootLogger } from './logger.js';

/** The pinned Temporal CLI version scripts/setup.sh installs. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

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
 * `port` 0 or absent picks a free port. Call `teardown()` to stop it.
 */
export async function startDevServer(opts: { dbFile?: string; port?: number; cliPath?: string; namespace?: string }): Promise<TestWorkflowEnvironment> {
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
    },
  });
}

/** Address of the Temporal frontend a config points at (the dev server's when none is set). */
export function temporalAddress(config: Config): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.devServerPort}`;
}

/** A workflow client for the configured server. */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress(config) });
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** A native connection for a worker. */
export async function connectWorker(config: Config): Promise<NativeConnection> {
  await installTemporalLogging(rootLogger());
  return NativeConnection.connect({ address: temporalAddress(config) });
}
