/**
 * The webhook receiver's HTTP server: a tiny exact-match router on `node:http`.
 *
 * Routes are keyed `"METHOD /path"` (query strings ignored). `GET /healthz` answers 200 `ok`
 * unless a route replaces it; a known path with another method answers 405 with `Allow`;
 * anything else 404. A declared `content-length` above `maxBodyBytes` is refused with 413 before
 * the handler runs; handlers that read a chunked body enforce the same limit themselves (the
 * Linear handler passes it to the SDK as `maxBodyBytes`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rootLogger, type Logger } from '../worker/logger.js';

/** A route handler; it must answer the request. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/** Default request body limit: 1 MiB (Linear and Slack payloads are a few KiB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface HttpServerOptions {
  /** Largest accepted declared body, in bytes. Default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
  /** Where handler failures are logged. Default: the process-wide logger. */
  logger?: Logger;
}

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * Creates (does not start) the server. Example:
 * `createHttpServer({ 'POST /webhooks/linear': linearHandler }, { logger })`.
 */
export function createHttpServer(routes: Record<string, RouteHandler>, opts: HttpServerOptions = {}): Server {
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const table = new Map<string, RouteHandler>([['GET /healthz', (_req, res) => sendText(res, 200, 'ok')]]);
  for (const [key, handler] of Object.entries(routes)) {
    const m = /^([A-Z]+) (\/\S*)$/.exec(key);
    if (!m) throw new TypeError(`route "${key}" must look like "POST /path"`);
    table.set(key, handler);
  }
  const methodsByPath = new Map<string, string[]>();
  for (const key of table.keys()) {
    const [method = '', path = ''] = key.split(' ');
    methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), method]);
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const handler = table.get(`${req.method ?? ''} ${path}`);
    if (!handler) {
      const allowed = methodsByPath.get(path);
      if (allowed) sendText(res, 405, 'Method not allowed', { allow: allowed.join(', ') });
      else sendText(res, 404, 'Not found');
      req.resume();
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      sendText(res, 413, 'Payload too large', { connection: 'close' });
      req.resume();
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        (opts.logger ?? rootLogger()).error({ err, method: req.method, path }, 'HTTP handler failed');
        if (!res.headersSent) sendText(res, 500, 'Internal server error', { connection: 'close' });
        else res.destroy();
      });
  });
  // Webhook senders wait a few seconds at most; do not hold slow clients for minutes.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return server;
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
