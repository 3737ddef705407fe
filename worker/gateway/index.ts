/**
 * The model gateway: an HTTP server on the host that stands between the agents in their
 * sandboxes and the model APIs. It
 * - authenticates each request by the per-run token the container was given,
 * - enforces the run's token and dollar budget BEFORE forwarding (refusing the request, or
 *   lowering its output cap so that it cannot overshoot), with reservations so that concurrent
 *   requests cannot overshoot together ({@link ./budget.ts}),
 * - forwards only what it can meter and what cannot leave: an allow-list of fields, tools, content
 *   sources and headers per API ({@link ./allowList.ts}); the rest is refused with HTTP 400,
 * - caps the requests one run has in flight (HTTP 429 above `maxInFlightPerRun`),
 * - forwards to the real upstream with the real key, streaming the answer back unchanged
 *   ({@link ./proxy.ts}), and
 * - meters the tokens the upstream reports in the stream as it passes through, priced by model
 *   ({@link ./meter.ts}).
 *
 * Invariant: with an honest upstream (one that reports no more input tokens than the request
 * has bytes ÷ `minBytesPerToken`, and no more output tokens than the output cap), a run's spend
 * never exceeds its budget, in tokens or in USD. A report above the reservation is recorded as an
 * overrun ({@link ModelGateway.status}).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { BudgetBreach, Spend } from '../../workflows/types.js';
import { ZERO_SPEND } from '../../workflows/types.js';
import type { PriceTable } from '../config.js';
import type { Logger } from '../logger.js';
import { BODY_EDIT_SLACK, fitOutput, fitThinking, fmtUsd, notify, reservedOf, spendOf, type InFlight, type RunState } from './budget.js';
import { checkBody, DEFAULT_ALLOW, forwardedHeaders, type AllowPolicy, type CheckContext, type Refusal } from './allowList.js';
import { BUDGET_STATUS, GatewayError, sendError } from './errors.js';
import { EgressProxy, type EgressOptions } from './egress.js';
import { PICO_PER_USD, picoPrice, worstPrices } from './meter.js';
import { resolvePrice } from './priceTable.js';
import { forward, readBody } from './proxy.js';
import { isObj, type GatewayApi, type ModelPrice, type RunGatewayStatus, type SpendListener } from './types.js';

export { ANTHROPIC_BETAS, DEFAULT_ALLOW, type AllowPolicy, type Refusal } from './allowList.js';
export { BODY_EDIT_SLACK } from './budget.js';
export { EgressError, type EgressOptions, type EgressRunStatus } from './egress.js';
export { GatewayError, type GatewayErrorCode } from './errors.js';
export { findPrice, priceTokens, UsageMeter } from './meter.js';
export { resolvePrice, tablePrice, type ResolvedPrice } from './priceTable.js';
export type { GatewayApi, ModelPrice, RunGatewayStatus, SpendListener, TokenCounts } from './types.js';

export interface GatewayOptions {
  /** Address to bind (the sandbox network's gateway address; `127.0.0.1` in tests). */
  host: string;
  /** Port; 0 = any free port. */
  port: number;
  /** Base URLs of the upstream APIs, without `/v1` (e.g. `https://api.anthropic.com`). */
  upstreams: { anthropic: string; openai: string };
  /** Real API keys added to forwarded requests (never logged, never seen by the agent). */
  upstreamKeys?: { anthropic?: string; openai?: string };
  /**
   * Price overrides by model name (config `gateway.prices`), over the bundled price table of
   * `@pydantic/genai-prices` (priceTable.ts). A request for a model neither knows is refused.
   */
  prices: PriceTable;
  logger: Logger;
  /** Lower bound of bytes per input token used for the worst-case estimate; default 1. */
  minBytesPerToken?: number;
  /** Extra input tokens added to every worst-case estimate (hidden prompt overhead); default 0. */
  inputOverheadTokens?: number;
  /** A request whose output cap would have to be lowered below this many tokens is refused instead; default 1024. */
  minOutputTokens?: number;
  /** Output cap (tokens) set on a request that carries none (`max_tokens` / `max_output_tokens`); default 32000. */
  defaultMaxOutputTokens?: number;
  /** Largest accepted request body, bytes; default 32 MiB. */
  maxBodyBytes?: number;
  /** Requests (metered or not) one run may have in flight at once; above it, HTTP 429. Default 4. */
  maxInFlightPerRun?: number;
  /** Features refused by default that the operator enabled (config `gateway.allow`). */
  allow?: Partial<AllowPolicy>;
  /** The agent egress proxy (CONNECT on this same port; {@link ./egress.ts}). */
  egress?: EgressOptions;
}

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * The model gateway. See the module comment for what it enforces.
 *
 * Routes: `HEAD /`, `GET /` → 200; `POST /v1/messages` (query string ignored for routing, kept
 * upstream) and `POST /v1/messages/count_tokens` → Anthropic; `POST /v1/responses` (and
 * `/v1/responses/compact`) → OpenAI. `count_tokens` is free, so it is forwarded without metering.
 */
export class ModelGateway {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly runs = new Map<string, RunState>();
  /** Hex SHA-256 of a run token → run key. */
  private readonly tokens = new Map<string, string>();
  private readonly log: Logger;
  private readonly minBytesPerToken: number;
  private readonly inputOverheadTokens: number;
  private readonly minOutputTokens: number;
  private readonly defaultMaxOutputTokens: number;
  private readonly maxBodyBytes: number;
  private readonly maxInFlightPerRun: number;
  private readonly allow: AllowPolicy;
  private readonly egress: EgressProxy;
  private listening = false;

  constructor(private readonly opts: GatewayOptions) {
    this.log = opts.logger.child({ component: 'gateway' });
    this.minBytesPerToken = opts.minBytesPerToken ?? 1;
    this.inputOverheadTokens = opts.inputOverheadTokens ?? 0;
    this.minOutputTokens = opts.minOutputTokens ?? 1024;
    this.defaultMaxOutputTokens = opts.defaultMaxOutputTokens ?? 32000;
    this.maxBodyBytes = opts.maxBodyBytes ?? 32 * 1024 * 1024;
    this.maxInFlightPerRun = opts.maxInFlightPerRun ?? 4;
    this.allow = { ...DEFAULT_ALLOW, ...(opts.allow ?? {}) };
    if (!(this.maxInFlightPerRun >= 1)) throw new RangeError('maxInFlightPerRun must be >= 1');
    if (!(this.minBytesPerToken > 0)) throw new RangeError('minBytesPerToken must be > 0');
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log.error({ err }, 'gateway request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end();
      });
    });
    this.egress = new EgressProxy(this.log, (token) => this.runOfToken(token), opts.egress);
    this.server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => this.egress.handleConnect(req, socket, head));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  /** Starts listening on `host:port`. */
  async start(): Promise<void> {
    await new Promise<void>((ok, fail) => {
      this.server.once('error', fail);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', fail);
        ok();
      });
    });
    this.listening = true;
    this.log.info({ url: this.url }, 'model gateway listening');
  }

  /** `http://host:port` of the listening server. @throws GatewayError `not_started` */
  get url(): string {
    const a = this.server.address() as AddressInfo | null;
    if (!a || typeof a === 'string') throw new GatewayError('not_started', 'the model gateway is not listening');
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  /** Stops listening, aborts in-flight upstream requests and closes every connection. */
  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    for (const run of this.runs.values()) for (const f of run.inFlight) f.abort.abort();
    this.egress.stop();
    const closed = new Promise<void>((ok) => this.server.close(() => ok()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /**
   * Registers (or re-registers after a worker restart) a run; returns the per-run token the
   * container gets. `limits`: tokens and USD. `initialSpend` carries spend already recorded (e.g.
   * from activity heartbeat details) and is used when this gateway does not know the run yet; a run
   * it knows keeps its own (live) spend. Re-registering revokes the previous token and clears the
   * recorded breach and upstream error. `egressAllow`: hosts (`*.suffix` patterns) the run may
   * reach through the egress proxy; absent or empty = none.
   */
  openRun(runKey: string, limits: { tokens: number; usd: number }, initialSpend?: Spend, logContext?: Record<string, unknown>, egressAllow?: readonly string[]): { token: string } {
    const token = 'nsr_' + randomBytes(32).toString('base64url');
    const tokenDigest = digest(token);
    let run = this.runs.get(runKey);
    if (run) {
      this.tokens.delete(run.tokenDigest.toString('hex'));
      run.tokenDigest = tokenDigest;
      run.closed = false;
      run.breach = undefined;
      run.lastUpstreamError = undefined;
    } else {
      const s = initialSpend ?? ZERO_SPEND;
      run = {
        runKey,
        log: this.log,
        tokenDigest,
        limits,
        limitPico: 0,
        settled: {
          input: s.inputTokens,
          output: s.outputTokens,
          cacheRead: s.cacheReadTokens,
          cacheWrite: s.cacheWriteTokens,
          pico: Math.round(s.usd * PICO_PER_USD),
          requests: s.requests,
          refusals: s.refusals,
        },
        inFlight: new Set(),
        active: 0,
        overruns: 0,
        listeners: new Set(),
        closed: false,
      };
      this.runs.set(runKey, run);
    }
    run.log = this.log.child({ runKey, ...(logContext ?? {}) });
    run.limits = { ...limits };
    run.limitPico = Math.floor(limits.usd * PICO_PER_USD);
    this.tokens.set(tokenDigest.toString('hex'), runKey);
    this.egress.open(runKey, egressAllow ?? []);
    run.log.info({ limits, egress: egressAllow ?? [] }, 'run registered with the gateway');
    return { token };
  }

  /** The run's spend so far, including what in-flight requests have reported; readable at any moment. @throws GatewayError `unknown_run` */
  spend(runKey: string): Spend {
    return spendOf(this.run(runKey));
  }

  /** Set when a request of the run was refused for budget (the last such refusal). @throws GatewayError `unknown_run` */
  breach(runKey: string): BudgetBreach | undefined {
    return this.run(runKey).breach;
  }

  /** The last `upstream_unreachable` condition of the run, if any: an infrastructure failure to escalate. @throws GatewayError `unknown_run` */
  lastUpstreamError(runKey: string): GatewayError | undefined {
    return this.run(runKey).lastUpstreamError;
  }

  /** Everything the gateway knows of a run. @throws GatewayError `unknown_run` */
  status(runKey: string): RunGatewayStatus {
    const run = this.run(runKey);
    const reserved = reservedOf(run);
    return {
      spend: spendOf(run),
      limits: { ...run.limits },
      inFlight: run.inFlight.size,
      reserved: { tokens: reserved.tokens, usd: reserved.pico / PICO_PER_USD },
      breach: run.breach,
      lastUpstreamError: run.lastUpstreamError,
      overruns: run.overruns,
      closed: run.closed,
      egress: this.egress.status(runKey) ?? { allow: [], refusals: 0, tunnels: 0 },
    };
  }

  /** Calls `listener` after each metered request of the run and after each budget refusal; returns the unsubscribe function. */
  onSpend(runKey: string, listener: SpendListener): () => void {
    const run = this.run(runKey);
    run.listeners.add(listener);
    return () => run.listeners.delete(listener);
  }

  /**
   * Revokes the run's token, aborts its in-flight requests and returns its spend (what those
   * requests reported before the abort included). The run stays readable (`spend`, `breach`, ...).
   * @throws GatewayError `unknown_run`
   */
  closeRun(runKey: string): Spend {
    const run = this.run(runKey);
    run.closed = true;
    this.tokens.delete(run.tokenDigest.toString('hex'));
    for (const f of run.inFlight) f.abort.abort();
    this.egress.close(runKey);
    const spend = spendOf(run);
    run.log.info({ spend }, 'run closed at the gateway');
    return spend;
  }

  private run(runKey: string): RunState {
    const run = this.runs.get(runKey);
    if (!run) throw new GatewayError('unknown_run', `no run "${runKey}" is registered with the gateway`);
    return run;
  }

  /** Finds the run of a presented token, comparing digests in constant time. */
  private authenticate(req: IncomingMessage): RunState | undefined {
    const xKey = req.headers['x-api-key'];
    const auth = req.headers.authorization;
    let token: string | undefined;
    if (typeof xKey === 'string' && xKey) token = xKey;
    else if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) token = auth.replace(/^Bearer\s+/i, '').trim();
    return token ? this.runOfToken(token) : undefined;
  }

  /** The open run a token belongs to (digests compared in constant time); undefined when unknown, revoked or closed. */
  private runOfToken(token: string): RunState | undefined {
    const d = digest(token);
    const runKey = this.tokens.get(d.toString('hex'));
    if (!runKey) return undefined;
    const run = this.runs.get(runKey);
    if (!run || run.closed || !timingSafeEqual(d, run.tokenDigest)) return undefined;
    return run;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    // An absolute URI is a forward-proxy request: only CONNECT tunnels are served (403).
    if (!url.startsWith('/')) {
      this.egress.refuseProxyRequest(req, res);
      return;
    }
    const path = url.split('?')[0] ?? '/';
    if ((req.method === 'HEAD' || req.method === 'GET') && path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(req.method === 'GET' ? 'nightshift model gateway\n' : undefined);
      return;
    }
    let api: GatewayApi;
    let metered = true;
    if (path === '/v1/messages') api = 'anthropic';
    else if (path === '/v1/messages/count_tokens') {
      api = 'anthropic';
      metered = false;
    } else if (path === '/v1/responses' || path === '/v1/responses/compact') api = 'openai';
    else {
      req.resume();
      sendError(res, path.startsWith('/v1/responses') || path.startsWith('/v1/chat') ? 'openai' : 'anthropic', 404, 'not_found', `Nightshift gateway: no route for ${req.method} ${path}`);
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      sendError(res, api, 405, 'method_not_allowed', `Nightshift gateway: ${req.method} is not allowed on ${path}`);
      return;
    }
    const run = this.authenticate(req);
    if (!run) {
      req.resume();
      this.log.warn({ path, remote: req.socket.remoteAddress }, 'request with an unknown run token refused');
      sendError(res, api, 401, 'unauthorized', 'Nightshift gateway: invalid or revoked run token');
      return;
    }

    const raw = await readBody(req, this.maxBodyBytes);
    if (raw === 'too_large') {
      sendError(res, api, 413, 'request_too_large', `Nightshift gateway: request body over ${this.maxBodyBytes} bytes`);
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      sendError(res, api, 400, 'invalid_request', 'Nightshift gateway: request body is not JSON');
      return;
    }
    if (!isObj(body)) {
      sendError(res, api, 400, 'invalid_request', 'Nightshift gateway: request body must be a JSON object');
      return;
    }
    if (run.closed) {
      sendError(res, api, 401, 'unauthorized', 'Nightshift gateway: the run was closed');
      return;
    }
    const model = typeof body.model === 'string' ? body.model : '';
    const price = resolvePrice(this.opts.prices, model, api)?.price;
    const ctx: CheckContext = { policy: this.allow, longContextPriced: price?.longContext !== undefined };
    const fwd = forwardedHeaders(api, req.headers, ctx);
    const refused = fwd.ok ? checkBody(api, body, ctx) : fwd.refusal;
    if (refused || !fwd.ok) {
      this.refuseFeature(run, api, res, refused as Refusal);
      return;
    }
    if (run.active >= this.maxInFlightPerRun) {
      run.log.warn({ active: run.active, max: this.maxInFlightPerRun }, 'request refused: too many in flight');
      sendError(res, api, 429, 'too_many_in_flight', `Nightshift gateway: this run already has ${run.active} model requests in flight (at most ${this.maxInFlightPerRun}); retry when one finishes`, { retry: true });
      return;
    }
    run.active++;
    try {
      await this.admit(run, api, url, fwd.headers, res, raw, body, metered, model, price);
    } finally {
      run.active--;
    }
  }

  /** Budgets an allowed request (refusing it, or lowering its output cap) and forwards it. */
  private async admit(
    run: RunState,
    api: GatewayApi,
    url: string,
    headers: Record<string, string>,
    res: ServerResponse,
    raw: Buffer,
    body: Record<string, unknown>,
    metered: boolean,
    model: string,
    price: ModelPrice | undefined,
  ): Promise<void> {
    const up = { urls: this.opts.upstreams, keys: this.opts.upstreamKeys };
    if (!metered) {
      await forward(up, run, api, url, headers, res, raw, undefined, model);
      return;
    }
    if (!price) {
      run.log.warn({ model }, 'request for a model without a price refused');
      sendError(
        res,
        api,
        400,
        'unknown_model',
        `Nightshift gateway: model "${model}" has no price in gateway.prices nor in the price table, so it cannot be budgeted; add it to the configuration or use a priced model`,
      );
      return;
    }
    const p = picoPrice(price);

    // Worst case of this request, before forwarding: every input token at the highest input
    // price that can apply, the whole output cap at the highest output price.
    const capField = api === 'anthropic' ? 'max_tokens' : 'max_output_tokens';
    const given = body[capField];
    const requested = typeof given === 'number' && Number.isInteger(given) && given > 0 ? given : this.defaultMaxOutputTokens;
    const inputBound = Math.ceil((raw.length + BODY_EDIT_SLACK) / this.minBytesPerToken) + this.inputOverheadTokens;
    const worst = worstPrices(p, { api, inputBound, ttl1h: api === 'anthropic' && asksLongCacheTtl(body) });
    const inputPico = inputBound * worst.input;
    const fit = fitOutput(run, inputBound, inputPico, requested, worst.output, this.minOutputTokens);
    if (!fit.ok) {
      this.refuse(run, api, res, fit.kind, inputBound, requested, worst);
      return;
    }
    const cap = fit.cap;
    if (fit.lowered) {
      run.settled.refusals++;
      run.log.info({ model, requested, cap }, 'output cap lowered to fit the budget');
    }
    let forwardBody: Buffer = raw;
    if (cap !== given) {
      body[capField] = cap;
      if (api === 'anthropic') fitThinking(body, cap);
      forwardBody = Buffer.from(JSON.stringify(body), 'utf8');
    }
    const flight: InFlight = {
      reservedPico: inputPico + cap * worst.output,
      reservedTokens: inputBound + cap,
      reservedUsage: { input: inputBound, output: cap, cacheRead: 0, cacheWrite: 0 },
      price: p,
      abort: new AbortController(),
    };
    run.inFlight.add(flight);
    run.settled.requests++;
    await forward(up, run, api, url, headers, res, forwardBody, flight, model);
  }

  /** Refuses a request for a part the gateway does not forward (HTTP 400, in the API's format). */
  private refuseFeature(run: RunState, api: GatewayApi, res: ServerResponse, r: Refusal): void {
    run.log.warn({ kind: r.kind, path: r.path }, 'model request refused: not on the allow-list');
    sendError(res, api, 400, 'not_forwarded', r.message, { param: r.path });
  }

  /** Refuses a request for budget, records the breach and answers in the API's error format. */
  private refuse(run: RunState, api: GatewayApi, res: ServerResponse, kind: 'tokens' | 'usd', inputBound: number, requested: number, worst: { input: number; output: number }): void {
    const spend = spendOf(run);
    run.settled.refusals++;
    const worstUsd = (inputBound * worst.input + Math.min(requested, this.minOutputTokens) * worst.output) / PICO_PER_USD;
    let message: string;
    if (kind === 'usd') {
      run.breach = { kind: 'usd', spent: spend.usd, cap: run.limits.usd };
      message = `Nightshift budget exhausted: spent $${fmtUsd(spend.usd)} of $${fmtUsd(run.limits.usd)}; the next model request could cost up to $${fmtUsd(worstUsd)}`;
    } else {
      run.breach = { kind: 'tokens', spent: spend.tokens, cap: run.limits.tokens };
      message = `Nightshift budget exhausted: spent ${spend.tokens} of ${run.limits.tokens} tokens; the next model request could use up to ${inputBound + Math.min(requested, this.minOutputTokens)}`;
    }
    run.log.warn({ breach: run.breach }, 'model request refused: budget exhausted');
    sendError(res, api, BUDGET_STATUS[api], 'budget_exhausted', message);
    notify(run);
  }
}

/**
 * Whether an Anthropic request asks for a cache TTL other than the default 5 minutes anywhere
 * (`cache_control: {type: "ephemeral", ttl: "1h"}`): then its cache writes may be billed at the
 * 1-hour price. https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#1-hour-cache-duration
 */
export function asksLongCacheTtl(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(asksLongCacheTtl);
  if (!isObj(v)) return false;
  for (const [k, x] of Object.entries(v)) {
    if (k === 'cache_control' && isObj(x) && x.ttl !== undefined && x.ttl !== '5m') return true;
    if (typeof x === 'object' && x !== null && asksLongCacheTtl(x)) return true;
  }
  return false;
}
