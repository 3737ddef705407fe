/**
 * The one HTTP server of the receiver: Bolt's `HTTPReceiver` (https://docs.slack.dev/tools/bolt-js/reference#receivers)
 * serves Slack at `/slack/events` (Bolt verifies the signing secret: 401 on a bad or stale
 * signature) and every other webhook as a Bolt custom route (`POST /webhooks/linear`,
 * `GET /healthz`). There is no router of ours: Bolt matches the paths; we only answer what Bolt
 * leaves unmatched (405 with `Allow` on a known path, else 404) and refuse a declared body above
 * `maxBodyBytes` with 413 before a custom route runs.
 *
 * Without a Slack signing secret the receiver mounts no Slack endpoint (fail closed for Slack
 * only): `/slack/events` is then a 404 and the other routes work as before.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPReceiver, ErrorCode, type CustomRoute } from '@slack/bolt';
import { rootLogger, type Logger } from '../worker/logger.js';
import { boltLogger } from './slack/boltLogger.js';

/** A route handler; it must answer the request. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/** Default request body limit: 1 MiB (Linear and Slack payloads are a few KiB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Path Slack posts slash commands, interactivity and events to. */
export const SLACK_EVENTS_PATH = '/slack/events';

export interface HttpServerOptions {
  /** Largest accepted body, in bytes (custom routes and Slack). Default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
  /** Where handler failures are logged. Default: the process-wide logger. */
  logger?: Logger;
  /** Slack's signing secret; absent: no Slack endpoint is mounted. */
  slackSigningSecret?: string;
}

/** The receiver and the (not yet listening) server built on its request listener. */
export interface Receiver {
  /** Pass to `new App({ receiver })` to serve Slack; unused when Slack is not configured. */
  receiver: HTTPReceiver;
  server: Server;
  /** True when `/slack/events` is mounted (a signing secret was given). */
  slackMounted: boolean;
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Builds Bolt's receiver with `routes` (keys `"METHOD /path"`, e.g. `'POST /webhooks/linear'`) as
 * custom routes plus `GET /healthz` (200 `ok` unless replaced), and a `node:http` server around
 * its request listener. Call `listen(server, port)` to start it.
 * @throws TypeError when a route key is malformed.
 */
export function createReceiver(routes: Record<string, RouteHandler>, opts: HttpServerOptions = {}): Receiver {
  const logger = opts.logger ?? rootLogger();
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const table: Record<string, RouteHandler> = { 'GET /healthz': (_req, res) => sendText(res, 200, 'ok'), ...routes };
  const methodsByPath = new Map<string, string[]>();
  const customRoutes: CustomRoute[] = Object.entries(table).map(([key, handler]) => {
    const m = /^([A-Z]+) (\/\S*)$/.exec(key);
    if (!m) throw new TypeError(`route "${key}" must look like "POST /path"`);
    const [, method = '', path = ''] = m;
    methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), method]);
    return { path, method, handler: guarded(handler, maxBodyBytes, logger) };
  });
  const slackMounted = Boolean(opts.slackSigningSecret);
  if (slackMounted) methodsByPath.set(SLACK_EVENTS_PATH, ['POST']);
  const receiver = new HTTPReceiver({
    // Without a secret no endpoint is mounted; the random secret only satisfies the constructor.
    signingSecret: opts.slackSigningSecret ?? randomBytes(32).toString('hex'),
    endpoints: slackMounted ? [SLACK_EVENTS_PATH] : [],
    customRoutes,
    bodyLimit: maxBodyBytes,
    logger: boltLogger(logger),
  });
  // What Bolt leaves unmatched throws HTTPReceiverDeferredRequestError from its listener.
  const unmatched = (error: unknown, request: IncomingMessage, response: ServerResponse): void => {
    if (!(error instanceof Error) || !('code' in error) || error.code !== ErrorCode.HTTPReceiverDeferredRequestError) {
      logger.error({ err: error, path: request.url }, 'HTTP dispatch failed');
      if (!response.headersSent) sendText(response, 500, 'Internal server error', { connection: 'close' });
      return;
    }
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const allowed = methodsByPath.get(path);
    if (allowed) sendText(response, 405, 'Method not allowed', { allow: allowed.join(', ') });
    else sendText(response, 404, 'Not found');
    request.resume();
  };
  const server = createServer((req, res) => {
    try {
      receiver.requestListener(req, res);
    } catch (err) {
      unmatched(err, req, res);
    }
  });
  // Webhook senders wait a few seconds at most; do not hold slow clients for minutes.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return { receiver, server, slackMounted };
}

/** A custom route with the declared-size check (413) and failures answered 500 and logged. */
function guarded(handler: RouteHandler, maxBodyBytes: number, logger: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      sendText(res, 413, 'Payload too large', { connection: 'close' });
      req.resume();
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        logger.error({ err, method: req.method, path: req.url }, 'HTTP handler failed');
        if (!res.headersSent) sendText(res, 500, 'Internal server error', { connection: 'close' });
        else res.destroy();
      });
  };
}

/**
 * The server of {@link createReceiver} without Slack. Example:
 * `createHttpServer({ 'POST /webhooks/linear': linearHandler }, { logger })`.
 */
export function createHttpServer(routes: Record<string, RouteHandler>, opts: HttpServerOptions = {}): Server {
  return createReceiver(routes, opts).server;
}

/** Starts listening; resolves to the base URL, e.g. `http://127.0.0.1:3000`. */
export async function listen(server: Server, port: number, host = '127.0.0.1'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${h}:${addr.port}`;
}
