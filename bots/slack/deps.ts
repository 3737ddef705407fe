/**
 * What every Slack handler receives besides Bolt's own arguments. Handlers are plain functions of
 * (deps, Bolt args); registration lives in `app.ts`, so a test calls a handler with a fake
 * `ack` / `respond` / `client` and a {@link SlackDeps} of its choosing.
 */
import type { Config } from '../../worker/config.js';
import type { Logger } from '../../worker/logger.js';
import type { Roles } from './roles.js';
import type { LastRuns, RunsPort } from './runs.js';
import type { PendingRuns } from './pending.js';

/** Dependencies of the Slack handlers. */
export interface SlackDeps {
  config: Config;
  logger: Logger;
  runs: RunsPort;
  roles: Roles;
  lastRuns: LastRuns;
  /** Run requests waiting for the requester to pick a repository. */
  pending: PendingRuns;
  /** Link of a run in the Temporal Web UI, when one is configured. */
  runLink?: (workflowId: string) => string | undefined;
  /** Clock, Unix ms (tests). */
  now?: () => number;
}
