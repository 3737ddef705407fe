/**
 * Forwarding: sends an admitted request to the real upstream with the real key and streams the
 * answer back unchanged, metering it as it passes through.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { settle, type InFlight, type RunState } from './budget.js';
import { describe, GatewayError, sendError } from './errors.js';
import { UsageMeter } from './meter.js';
import type { GatewayApi } from './types.js';

/** Where and with what key requests of each API go. */
export interface Upstreams {
  /** Base URLs without `/v1`. */
  urls: { anthropic: string; openai: string };
  /** Real API keys (never logged, never seen by the agent). */
  keys?: { anthropic?: string; openai?: string };
}

/** Headers never copied back to the client. */
const DROP_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'trailer', 'upgrade']);

/**
 * Forwards a request upstream with `headers` (already filtered: the caller passes only what may
 * leave) plus the real key, and streams the answer back, metering it when `flight` is set.
 */
export async function forward(
  up: Upstreams,
  run: RunState,
  api: GatewayApi,
  url: string,
  headers: Record<string, string>,
  res: ServerResponse,
  body: Buffer,
  flight: InFlight | undefined,
  model: string,
): Promise<void> {
  const started = Date.now();
  const abort = flight?.abort ?? new AbortController();
  const onClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.on('close', onClose);
  const out: Record<string, string> = { ...headers, 'accept-encoding': 'identity' };
  const key = up.keys?.[api];
  if (key) {
    if (api === 'anthropic') out['x-api-key'] = key;
    else out.authorization = `Bearer ${key}`;
  }
  const target = up.urls[api].replace(/\/+$/, '') + url;

  let upstream: Response;
  try {
    upstream = await fetch(target, { method: 'POST', headers: out, body, signal: abort.signal, redirect: 'manual' });
  } catch (cause) {
    // Aborted by us (client gone, run closed): the request may have reached the provider and be
    // billed, so it is charged its reservation. A connection error: it never got there.
    if (flight) settle(run, flight, model, 0, started, abort.signal.aborted);
    if (abort.signal.aborted) {
      // The client went away (nothing to answer), or the run was closed / the gateway stopped.
      if (!res.destroyed && !res.headersSent) sendError(res, api, 401, 'unauthorized', 'Nightshift gateway: the run was closed');
      return;
    }
    res.off('close', onClose);
    const err = new GatewayError('upstream_unreachable', `upstream ${api} API unreachable at ${up.urls[api]}: ${describe(cause)}`, api, { cause });
    run.lastUpstreamError = err;
    run.log.error({ api, upstream: up.urls[api], err: err.message }, 'upstream unreachable');
    sendError(res, api, 502, 'upstream_unreachable', `Nightshift gateway: ${err.message}`);
    return;
  }

  const outHeaders: Record<string, string> = {};
  upstream.headers.forEach((v, k) => {
    if (!DROP_RESPONSE_HEADERS.has(k)) outHeaders[k] = v;
  });
  const meter = flight ? new UsageMeter(api, upstream.headers.get('content-type') ?? '') : undefined;
  if (flight) flight.meter = meter;
  res.writeHead(upstream.status, outHeaders);
  try {
    if (upstream.body) {
      for await (const chunk of upstream.body as unknown as AsyncIterable<Uint8Array>) {
        meter?.feed(chunk);
        if (!res.write(chunk)) await waitDrain(res, abort.signal);
      }
    }
    meter?.end();
    res.end();
  } catch (err) {
    meter?.end();
    if (!abort.signal.aborted) run.log.warn({ api, err: describe(err) }, 'upstream stream broke off');
    res.destroy();
  } finally {
    res.off('close', onClose);
    if (flight) settle(run, flight, model, upstream.status, started, upstream.status >= 200 && upstream.status < 300 && !(flight.meter?.complete ?? false));
  }
}

/** Reads a request body up to `max` bytes; `'too_large'` (rest drained) past it. */
export async function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too_large'> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    const b = c as Buffer;
    size += b.length;
    if (size > max) {
      req.resume();
      return 'too_large';
    }
    parts.push(b);
  }
  return Buffer.concat(parts);
}

function waitDrain(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((ok) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      signal.removeEventListener('abort', done);
      ok();
    };
    res.on('drain', done);
    res.on('close', done);
    signal.addEventListener('abort', done);
  });
}
