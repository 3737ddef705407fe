/**
 * Temporal's time-skipping test environment with the Java test server that scripts/setup.sh
 * installs from Maven Central (step "test server"): the SDK would otherwise download it from
 * temporal.download, which is not reachable everywhere.
 *
 * The SDK runs `<launcher> <port>` and waits up to 5 s for the server to answer; with time skipping,
 * a workflow's timers fire as soon as nothing else is pending (an 8-hour sleep takes milliseconds
 * while the client waits for a result). https://typescript.temporal.io/api/classes/testing.TestWorkflowEnvironment#createtimeskipping
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { RUN_SEARCH_ATTRIBUTES } from '../../workflows/searchAttributes.js';

/**
 * Path of the test server launcher: `$NIGHTSHIFT_TEST_SERVER`, else the setup step's default
 * (`$TEMPORAL_TEST_SERVER_DIR` or ~/.cache/nightshift/temporal-test-server, file temporal-test-server);
 * undefined when it is not installed.
 */
export function testServerLauncher(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.TEMPORAL_TEST_SERVER_DIR ?? join(homedir(), '.cache', 'nightshift', 'temporal-test-server');
  const candidates = [env.NIGHTSHIFT_TEST_SERVER, join(dir, 'temporal-test-server')];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

/** Why time-skipping tests are skipped on this machine, or undefined when they can run. */
export function timeSkippingUnavailable(): string | undefined {
  return testServerLauncher() ? undefined : 'the Temporal test server is not installed (scripts/setup.sh, step "test server": needs java and mvn)';
}

/**
 * Starts a time-skipping environment on the installed test server. Call `teardown()` when done.
 * @throws Error when the test server is not installed (see {@link timeSkippingUnavailable})
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = testServerLauncher();
  if (!path) throw new Error(timeSkippingUnavailable());
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  // The runs' search attributes (the Java server has no ListSearchAttributes: added blind, once).
  await env.connection.operatorService
    .addSearchAttributes({ namespace: 'default', searchAttributes: Object.fromEntries(RUN_SEARCH_ATTRIBUTES.map((k) => [k.name, INDEXED[k.type]!])) })
    .catch(async (err: unknown) => {
      await env.teardown();
      throw err;
    });
  return env;
}

/** `IndexedValueType` numbers of the search attribute types (temporal.api.enums.v1). */
const INDEXED: Record<string, number> = { KEYWORD: 2, INT: 3, DOUBLE: 4 };
