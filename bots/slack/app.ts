/**
 * The Slack app: a Bolt `App` (https://docs.slack.dev/tools/bolt-js/) on our one HTTP receiver
 * (`mode: http`, `/slack/events`) or on Socket Mode (`mode: socket`, SLACK_APP_TOKEN), with the
 * handlers registered from their files (`commands/`, `events/`, `actions/`; one handler a file,
 * exported apart from its registration). Part B adds its registrars through `registrars`.
 *
 * The Web API goes to `slack.apiUrl` (the devstack fake in tests). When `slack.botUserId` and
 * `slack.botId` are set Bolt never calls `auth.test`; otherwise it does so at the first event.
 */
import { App, type HTTPReceiver } from '@slack/bolt';
import type { Config, Secrets } from '../../worker/config.js';
import type { Logger } from '../../worker/logger.js';
import { registerRunActions } from './actions/index.js';
import { registerActions } from './actions/pickRepo.js';
import { boltLogger } from './boltLogger.js';
import { registerCommands } from './commands/index.js';
import type { SlackDeps } from './deps.js';
import { registerEvents } from './events/appMention.js';
import { PendingRuns } from './pending.js';
import { createRoles } from './roles.js';
import { LastRuns, type RunsPort } from './runs.js';
import { temporalRunLink } from './views/links.js';

/** Registers some handlers on the app. */
export type Registrar = (app: App, deps: SlackDeps) => void;

/** The registrars: part A's (commands, mentions, repo picker), then the run buttons, modals and thread replies. */
export const DEFAULT_REGISTRARS: Registrar[] = [registerCommands, registerEvents, registerActions, registerRunActions];

/** Thrown when Slack is configured inconsistently (e.g. socket mode without an app token). */
export class SlackConfigError extends Error {
  readonly code = 'SLACK_CONFIG';
  constructor(
    message: string,
    readonly details: { missing: string[] },
  ) {
    super(message);
    this.name = 'SlackConfigError';
  }
}

export interface SlackAppOptions {
  config: Config;
  secrets: Pick<Secrets, 'slackBotToken' | 'slackAppToken'>;
  logger: Logger;
  runs: RunsPort;
  /** The HTTP receiver (mode `http`); ignored in socket mode. */
  receiver?: HTTPReceiver;
  registrars?: Registrar[];
  /** Link of a run in the Temporal Web UI. */
  runLink?: (workflowId: string) => string | undefined;
  /** Web API retries (default: the WebClient's, ten retries over about 30 min; tests pass 0). */
  webApiRetries?: number;
}

/**
 * Builds the app and registers the handlers. In socket mode, call `app.start()` to connect
 * (and `app.stop()` to close).
 * @throws SlackConfigError when the bot token, or in socket mode the app token, is missing.
 */
export function buildSlackApp(opts: SlackAppOptions): { app: App; deps: SlackDeps } {
  const { config, secrets, logger } = opts;
  if (!secrets.slackBotToken) throw new SlackConfigError('SLACK_BOT_TOKEN is not set', { missing: ['SLACK_BOT_TOKEN'] });
  const common = {
    token: secrets.slackBotToken,
    logger: boltLogger(logger),
    clientOptions: {
      slackApiUrl: config.slack.apiUrl,
      ...(opts.webApiRetries !== undefined ? { retryConfig: { retries: opts.webApiRetries } } : {}),
    },
    tokenVerificationEnabled: false,
    ...(config.slack.botId ? { botId: config.slack.botId } : {}),
    ...(config.slack.botUserId ? { botUserId: config.slack.botUserId } : {}),
  };
  let app: App;
  if (config.slack.mode === 'socket') {
    if (!secrets.slackAppToken) throw new SlackConfigError('slack.mode is socket but SLACK_APP_TOKEN is not set', { missing: ['SLACK_APP_TOKEN'] });
    // The Socket Mode client asks apps.connections.open through its own Web API client: the same
    // API URL (Enterprise Grid, GovSlack, the local stand-in).
    app = new App({ ...common, socketMode: true, appToken: secrets.slackAppToken, installerOptions: { clientOptions: common.clientOptions } });
  } else {
    if (!opts.receiver) throw new SlackConfigError('slack.mode is http but no HTTP receiver was given', { missing: ['receiver'] });
    app = new App({ ...common, receiver: opts.receiver });
  }
  const deps: SlackDeps = {
    config,
    logger: logger.child({ component: 'slack' }),
    runs: opts.runs,
    roles: createRoles(config, async (usergroup) => (await app.client.usergroups.users.list({ usergroup })).users ?? []),
    lastRuns: new LastRuns(),
    pending: new PendingRuns(),
    runLink: opts.runLink ?? ((id) => temporalRunLink(config, id)),
  };
  for (const register of opts.registrars ?? DEFAULT_REGISTRARS) register(app, deps);
  app.error(async (err) => {
    deps.logger.error({ err }, 'Slack listener failed');
  });
  return { app, deps };
}
