/**
 * The webhook receiver: `POST /webhooks/linear` (and `GET /healthz`). Verifies, starts the run
 * once, answers within the sender's deadline; the work happens in the workflow.
 */
import type { Client } from '@temporalio/client';
import { createHttpServer, listen } from '../bots/http.js';
import { createLinearWebhookHandler } from '../bots/linear/webhook.js';
import type { RouteHandler } from '../bots/http.js';
import type { Config, Secrets } from './config.js';
import type { Logger } from './logger.js';
import { startRun } from './runs.js';

/** A listening webhook server. */
export interface WebhookServer {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the receiver on `config.http`. A front end whose secret is missing is not mounted (and
 * that is logged), so a misconfigured deployment fails closed.
 */
export async function startWebhookServer(opts: { config: Config; secrets: Secrets; client: Client; logger: Logger }): Promise<WebhookServer> {
  const { config, secrets, client, logger } = opts;
  const routes: Record<string, RouteHandler> = {};
  if (secrets.linearWebhookSecret) {
    routes['POST /webhooks/linear'] = createLinearWebhookHandler({
      webhookSecret: secrets.linearWebhookSecret,
      triggerLabel: config.linear.triggerLabel,
      resolveRepo: (teamKey) => (teamKey && config.linear.teams[teamKey]) || config.linear.defaultRepo,
      startRun: (workflowId, req) => startRun(client, config.temporal.taskQueue, workflowId, req),
      logger,
    });
  } else {
    logger.warn('LINEAR_WEBHOOK_SECRET is not set: /webhooks/linear is not mounted');
  }
  const server = createHttpServer(routes, { logger });
  const url = await listen(server, config.http.port, config.http.host);
  logger.info({ url }, 'webhook receiver listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
