/**
 * The webhook receiver: one HTTP server (Bolt's `HTTPReceiver`, see bots/http.ts) serving
 * `POST /webhooks/linear`, `GET /healthz` and, in Slack's `http` mode, `POST /slack/events`
 * (slash commands, interactivity, events). In Slack's `socket` mode the Slack app connects out
 * over Socket Mode and the server serves the other routes. Each delivery is verified, starts a
 * run once, and is answered within the sender's deadline; the work happens in the workflow.
 */
import type { Client } from '@temporalio/client';
import type { App } from '@slack/bolt';
import { createReceiver, listen, type RouteHandler } from '../bots/http.js';
import { createLinearWebhookHandler, temporalLinearRuns } from '../bots/linear/webhook.js';
import { buildSlackApp, type Registrar } from '../bots/slack/app.js';
import { temporalRuns } from '../bots/slack/runs.js';
import type { Config, Secrets } from './config.js';
import type { Logger } from './logger.js';
import { createGitHubWebhookHandler, temporalPrTracking } from './githubWebhook.js';

/** `linear.appUserId` (comments by the app never reach a run), read so that it works before and after the key is in the schema. */
function linearAppUser(config: Config): { appUserId?: string } {
  const id = (config.linear as { appUserId?: unknown }).appUserId;
  return typeof id === 'string' && id ? { appUserId: id } : {};
}

/** A listening webhook server. */
export interface WebhookServer {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** The Slack app, when Slack is configured. */
  slack?: App;
  close(): Promise<void>;
}

/** Options beyond the fixed four (tests and part B). */
export interface WebhookServerExtras {
  /** Slack handler registrars (default: bots/slack/app.ts `DEFAULT_REGISTRARS`). */
  slackRegistrars?: Registrar[];
  /** Slack Web API retries (tests: 0). */
  slackWebApiRetries?: number;
}

/**
 * Starts the receiver on `config.http`. A front end whose secrets are missing is not mounted (and
 * that is logged), so a misconfigured deployment fails closed for that front end only.
 * @throws SlackConfigError (socket mode without SLACK_APP_TOKEN); listen errors (EADDRINUSE).
 */
export async function startWebhookServer(
  opts: { config: Config; secrets: Secrets; client: Client; logger: Logger } & WebhookServerExtras,
): Promise<WebhookServer> {
  const { config, secrets, client, logger } = opts;
  const routes: Record<string, RouteHandler> = {};
  if (secrets.linearWebhookSecret) {
    routes['POST /webhooks/linear'] = createLinearWebhookHandler({
      webhookSecret: secrets.linearWebhookSecret,
      triggerLabel: config.linear.triggerLabel,
      resolveRepo: (teamKey) => (teamKey && config.linear.teams[teamKey]) || config.linear.defaultRepo,
      runs: temporalLinearRuns(client, config.temporal.taskQueue),
      ...linearAppUser(config),
      logger,
    });
  } else {
    logger.warn('LINEAR_WEBHOOK_SECRET is not set: /webhooks/linear is not mounted');
  }
  // PR tracking by GitHub webhooks (worker/githubWebhook.ts); without a secret, the polling Schedule alone follows PRs.
  if (secrets.githubWebhookSecret) {
    const trackedRepos = new Set(Object.values(config.repos).map((r) => r.github.toLowerCase()));
    routes['POST /webhooks/github'] = createGitHubWebhookHandler({ secret: secrets.githubWebhookSecret, starter: temporalPrTracking(client, config.temporal.taskQueue), logger, trackedRepos });
  }
  const socket = config.slack.mode === 'socket';
  const missing = [
    ...(secrets.slackBotToken ? [] : ['SLACK_BOT_TOKEN']),
    ...(socket ? (secrets.slackAppToken ? [] : ['SLACK_APP_TOKEN']) : secrets.slackSigningSecret ? [] : ['SLACK_SIGNING_SECRET']),
  ];
  const slackReady = missing.length === 0;
  if (!slackReady) logger.warn({ missing }, 'Slack is not configured: no Slack endpoint (commands and mentions are not served)');
  const { receiver, server } = createReceiver(routes, {
    logger,
    ...(slackReady && !socket && secrets.slackSigningSecret ? { slackSigningSecret: secrets.slackSigningSecret } : {}),
  });
  let slack: App | undefined;
  if (slackReady) {
    slack = buildSlackApp({
      config,
      secrets,
      logger,
      runs: temporalRuns(client, config.temporal.taskQueue),
      ...(socket ? {} : { receiver }),
      ...(opts.slackRegistrars ? { registrars: opts.slackRegistrars } : {}),
      ...(opts.slackWebApiRetries !== undefined ? { webApiRetries: opts.slackWebApiRetries } : {}),
    }).app;
    if (socket) await slack.start();
  }
  const url = await listen(server, config.http.port, config.http.host);
  logger.info({ url, slack: slackReady ? config.slack.mode : 'off' }, 'webhook receiver listening');
  return {
    url,
    ...(slack ? { slack } : {}),
    close: async () => {
      if (slack && socket) await slack.stop();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
