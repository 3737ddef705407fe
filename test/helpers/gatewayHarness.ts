/** Shared pieces of the model gateway tests: a silent logger, a price table, a gateway on loopback, requests. */
import { pino } from 'pino';
import type { PriceTable } from '../../worker/config.js';
import { ModelGateway, type GatewayOptions } from '../../worker/gateway/index.js';
import type { Logger } from '../../worker/logger.js';

/** USD per million tokens. */
export const TEST_PRICES: PriceTable = {
  'claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'gpt-5': { input: 1.25, output: 10, cacheRead: 0.125 },
  'gpt-5.5': { input: 1.25, output: 10, cacheRead: 0.125 },
};

/** A logger that writes nothing (set LOG_LEVEL to see the gateway's lines). */
export function testLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'silent' });
}

/** Starts a gateway on 127.0.0.1 with both upstreams at `upstream` (overridable). */
export async function startGateway(upstream: string, opts: Partial<GatewayOptions> = {}): Promise<ModelGateway> {
  const gw = new ModelGateway({
    host: '127.0.0.1',
    port: 0,
    upstreams: { anthropic: upstream, openai: upstream },
    prices: TEST_PRICES,
    logger: testLogger(),
    ...opts,
  });
  await gw.start();
  return gw;
}

/** USD of a usage at a price (the test's own arithmetic, independent of the gateway's). */
export function expectedUsd(u: { input: number; output: number; cacheRead?: number; cacheWrite?: number }, model: string): number {
  const p = TEST_PRICES[model];
  if (!p) throw new Error('no test price for ' + model);
  return (u.input * p.input + u.output * p.output + (u.cacheRead ?? 0) * (p.cacheRead ?? p.input) + (u.cacheWrite ?? 0) * (p.cacheWrite ?? p.input * 1.25)) / 1e6;
}

export interface PostResult {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/**
 * POSTs a JSON body to the gateway the way the CLIs do: Anthropic routes with `x-api-key`,
 * OpenAI routes with `Authorization: Bearer`.
 */
export async function post(base: string, path: string, token: string | undefined, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<PostResult> {
  const h: Record<string, string> = { 'content-type': 'application/json', ...headers };
  if (token !== undefined) {
    if (path.startsWith('/v1/responses')) h.authorization = `Bearer ${token}`;
    else h['x-api-key'] = token;
  }
  const res = await fetch(base + path, { method: 'POST', headers: h, body: typeof body === 'string' ? body : JSON.stringify(body), signal });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Polls `cond` every 5 ms until it holds or `ms` pass. */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
