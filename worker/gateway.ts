/**
 * The model gateway: an HTTP server on the host that stands between the agents in their
 * sandboxes and the model APIs. It
 * - authenticates each request by the per-run token the container was given,
 * - enforces the run's token and dollar budget BEFORE forwarding (refusing the request, or
 *   lowering its output cap so that it cannot overshoot), with reservations so that concurrent
 *   requests cannot overshoot together,
 * - forwards to the real upstream with the real key, streaming the answer back unchanged, and
 * - meters the tokens the upstream reports in the stream as it passes through, priced by model.
 *
 * Wire formats:
 * - Anthropic Messages: https://docs.anthropic.com/en/api/messages-streaming
 *   (`message_start.message.usage`, cumulative `message_delta.usage`; errors
 *   `{type: "error", error: {type, message}}`: https://docs.anthropic.com/en/api/errors)
 * - OpenAI Responses: https://platform.openai.com/docs/api-reference/responses-streaming
 *   (`response.completed.response.usage`; errors `{error: {message, type, code, param}}`)
 *
 * Invariant: with an honest upstream (one that reports no more input tokens than the request
 * has bytes ÷ `minBytesPerToken`, and no more output tokens than the output cap), a run's spend
 * never exceeds its budget, in tokens or in USD. A report above the reservation is recorded as an
 * overrun ({@link ModelGateway.status}).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { BudgetBreach, Spend } from '../workflows/types.js';
import { ZERO_SPEND } from '../workflows/types.js';
import type { PriceTable } from './config.js';
import type { Logger } from './logger.js';

/** One model's prices, USD per million tokens (see `PriceTable`). */
export type ModelPrice = PriceTable[string];

/** Which API a request speaks. */
export type GatewayApi = 'anthropic' | 'openai';

/** Token counts of one response, split the way {@link Spend} is. */
export interface TokenCounts {
  /** Uncached input tokens. */
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

export interface GatewayOptions {
  /** Address to bind (the sandbox network's gateway address; `127.0.0.1` in tests). */
  host: string;
  /** Port; 0 = any free port. */
  port: number;
  /** Base URLs of the upstream APIs, without `/v1` (e.g. `https://api.anthropic.com`). */
  upstreams: { anthropic: string; openai: string };
  /** Real API keys added to forwarded requests (never logged, never seen by the agent). */
  upstreamKeys?: { anthropic?: string; openai?: string };
  /** Prices by model name. A request for a model absent from the table is refused. */
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
}

/** Codes of {@link GatewayError}. */
export type GatewayErrorCode =
  /** The upstream API could not be reached (connection refused, DNS, TLS, reset before headers). */
  | 'upstream_unreachable'
  /** No run is registered under that key. */
  | 'unknown_run'
  /** The gateway is not listening. */
  | 'not_started';

/** A typed gateway error. `upstream_unreachable` is an infrastructure failure, not the agent's. */
export class GatewayError extends Error {
  /** Unix ms when it happened. */
  readonly at = Date.now();
  constructor(
    readonly code: GatewayErrorCode,
    message: string,
    readonly upstream?: GatewayApi,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }
}

/** Called after each metered request settles and after each budget refusal, with the run's live spend. */
export type SpendListener = (spend: Spend) => void;

/** What the gateway knows of a run (for `status` and diagnostics). */
export interface RunGatewayStatus {
  spend: Spend;
  limits: { tokens: number; usd: number };
  /** Requests forwarded and not yet finished. */
  inFlight: number;
  /** Worst case held by in-flight requests: tokens and USD. */
  reserved: { tokens: number; usd: number };
  breach?: BudgetBreach;
  lastUpstreamError?: GatewayError;
  /** Responses whose reported usage exceeded their reservation (a dishonest or misestimated upstream). */
  overruns: number;
  closed: boolean;
}

/** Picodollars (1e-12 USD) per token for 1 USD per million tokens: prices become integers. */
const PICO_PER_USD = 1e12;

interface PicoPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

function picoPrice(p: ModelPrice): PicoPrice {
  // USD per million tokens → picodollars per token: × 1e12 / 1e6.
  const r = (usdPerM: number) => Math.round(usdPerM * 1e6);
  return { input: r(p.input), output: r(p.output), cacheRead: r(p.cacheRead ?? p.input), cacheWrite: r(p.cacheWrite ?? p.input) };
}

function costPico(t: TokenCounts, p: PicoPrice): number {
  return t.input * p.input + t.output * p.output + t.cacheRead * p.cacheRead + t.cacheWrite * p.cacheWrite;
}

function totalTokens(t: TokenCounts): number {
  return t.input + t.output + t.cacheRead + t.cacheWrite;
}

/** Price of `tokens` at `price` (USD per million tokens), in USD. */
export function priceTokens(tokens: TokenCounts, price: ModelPrice): number {
  return costPico(tokens, picoPrice(price)) / PICO_PER_USD;
}

/**
 * The price of `model`: an exact key of the table, else a key of which `model` is a dated
 * snapshot (`claude-sonnet-4-5-20250929` of `claude-sonnet-4-5`, `gpt-5-2025-08-07` of `gpt-5`).
 * Nothing else matches: `gpt-5-mini` is not priced as `gpt-5`.
 */
export function findPrice(prices: PriceTable, model: string): ModelPrice | undefined {
  const exact = prices[model];
  if (exact) return exact;
  const m = /^(.+)-(?:\d{8}|\d{4}-\d{2}-\d{2})$/.exec(model);
  return m?.[1] ? prices[m[1]] : undefined;
}

/** Accumulates the usage reported in a response body (SSE or JSON) as the bytes pass through. */
export class UsageMeter {
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private json: Buffer[] = [];
  private jsonBytes = 0;
  private readonly sse: boolean;
  /** Token counts reported so far. */
  readonly usage: TokenCounts = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  /** Whether any usage was reported. */
  seen = false;
  /** Whether the response reached its end (`message_stop`, `response.completed`, a whole JSON body). */
  complete = false;

  constructor(
    private readonly api: GatewayApi,
    contentType: string,
  ) {
    this.sse = contentType.includes('text/event-stream');
  }

  /** Feeds the next chunk of the response body. */
  feed(chunk: Uint8Array): void {
    if (!this.sse) {
      if (this.jsonBytes < 16 * 1024 * 1024) {
        this.json.push(Buffer.from(chunk));
        this.jsonBytes += chunk.byteLength;
      }
      return;
    }
    this.buffer += this.decoder.decode(chunk, { stream: true });
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.buffer);
      if (!m) break;
      const event = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      this.onEvent(event);
    }
  }

  /** Ends the body; parses a JSON body or a last unterminated event. */
  end(): TokenCounts {
    if (this.sse) {
      this.buffer += this.decoder.decode();
      if (this.buffer.trim()) this.onEvent(this.buffer);
      this.buffer = '';
    } else if (this.json.length) {
      try {
        const body: unknown = JSON.parse(Buffer.concat(this.json).toString('utf8'));
        if (isObj(body) && isObj(body.usage)) {
          this.take(body.usage, false);
          this.complete = true;
        }
      } catch {
        // not JSON: no usage to meter
      }
      this.json = [];
    }
    return this.usage;
  }

  private onEvent(raw: string): void {
    const data = raw
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, ''))
      .join('\n');
    if (!data || data === '[DONE]') return;
    let ev: unknown;
    try {
      ev = JSON.parse(data);
    } catch {
      return;
    }
    if (!isObj(ev)) return;
    if (this.api === 'anthropic') {
      if (ev.type === 'message_start' && isObj(ev.message) && isObj(ev.message.usage)) this.take(ev.message.usage, true);
      else if (ev.type === 'message_delta' && isObj(ev.usage)) this.take(ev.usage, true);
      else if (ev.type === 'message_stop') this.complete = true;
    } else if (isObj(ev.response) && isObj(ev.response.usage)) {
      // response.completed / response.incomplete / response.failed carry the final usage.
      this.take(ev.response.usage, false);
      this.complete = true;
    }
  }

  /**
   * Anthropic counts are cumulative and newer APIs repeat the input fields in `message_delta`:
   * keep the largest value of each field (never add). OpenAI's `input_tokens` includes
   * `input_tokens_details.cached_tokens`.
   */
  private take(u: Record<string, unknown>, cumulative: boolean): void {
    const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined);
    const next: Partial<TokenCounts> = {};
    if (this.api === 'anthropic') {
      next.input = n(u.input_tokens);
      next.output = n(u.output_tokens);
      next.cacheRead = n(u.cache_read_input_tokens);
      next.cacheWrite = n(u.cache_creation_input_tokens);
    } else {
      const input = n(u.input_tokens);
      const cached = isObj(u.input_tokens_details) ? (n(u.input_tokens_details.cached_tokens) ?? 0) : 0;
      if (input !== undefined) {
        next.cacheRead = Math.min(cached, input);
        next.input = input - next.cacheRead;
      }
      next.output = n(u.output_tokens);
    }
    for (const k of ['input', 'output', 'cacheRead', 'cacheWrite'] as const) {
      const v = next[k];
      if (v === undefined) continue;
      this.usage[k] = cumulative ? Math.max(this.usage[k], v) : v;
      this.seen = true;
    }
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface InFlight {
  reservedPico: number;
  reservedTokens: number;
  /** The worst case the reservation priced: input bound and output cap. */
  reservedUsage: TokenCounts;
  meter?: UsageMeter;
  price: PicoPrice;
  abort: AbortController;
}

interface RunState {
  runKey: string;
  /** Logger bound to the run's identity (workflowId, runId, attempt) when the caller gave one. */
  log: Logger;
  tokenDigest: Buffer;
  limits: { tokens: number; usd: number };
  limitPico: number;
  settled: TokenCounts & { pico: number; requests: number; refusals: number };
  inFlight: Set<InFlight>;
  breach?: BudgetBreach;
  lastUpstreamError?: GatewayError;
  overruns: number;
  listeners: Set<SpendListener>;
  closed: boolean;
}

/** Headers never forwarded upstream: hop-by-hop, recomputed, or the run token. */
const DROP_REQUEST_HEADERS = new Set([
  'host', 'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'transfer-encoding', 'te', 'trailer',
  'upgrade', 'expect', 'content-length', 'accept-encoding', 'authorization', 'x-api-key',
]);
/** Headers never copied back to the client. */
const DROP_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'trailer', 'upgrade']);

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
  private listening = false;

  constructor(private readonly opts: GatewayOptions) {
    this.log = opts.logger.child({ component: 'gateway' });
    this.minBytesPerToken = opts.minBytesPerToken ?? 1;
    this.inputOverheadTokens = opts.inputOverheadTokens ?? 0;
    this.minOutputTokens = opts.minOutputTokens ?? 1024;
    this.defaultMaxOutputTokens = opts.defaultMaxOutputTokens ?? 32000;
    this.maxBodyBytes = opts.maxBodyBytes ?? 32 * 1024 * 1024;
    if (!(this.minBytesPerToken > 0)) throw new RangeError('minBytesPerToken must be > 0');
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log.error({ err }, 'gateway request failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end();
      });
    });
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

  /** `http://host:port` of the listening server. */
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
    const closed = new Promise<void>((ok) => this.server.close(() => ok()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /**
   * Registers (or re-registers after a worker restart) a run; returns the per-run token the
   * container gets. `limits`: tokens and USD. `initialSpend` carries spend already recorded (e.g.
   * from activity heartbeat details) and is used when this gateway does not know the run yet; a run
   * it knows keeps its own (live) spend. Re-registering revokes the previous token and clears the
   * recorded breach and upstream error.
   */
  openRun(runKey: string, limits: { tokens: number; usd: number }, initialSpend?: Spend, logContext?: Record<string, unknown>): { token: string } {
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
    run.log.info({ limits }, 'run registered with the gateway');
    return { token };
  }

  /** The run's spend so far, including what in-flight requests have reported; readable at any moment. */
  spend(runKey: string): Spend {
    return this.spendOf(this.run(runKey));
  }

  /** Set when a request of the run was refused for budget (the last such refusal). */
  breach(runKey: string): BudgetBreach | undefined {
    return this.run(runKey).breach;
  }

  /** The last `upstream_unreachable` condition of the run, if any: an infrastructure failure to escalate. */
  lastUpstreamError(runKey: string): GatewayError | undefined {
    return this.run(runKey).lastUpstreamError;
  }

  /** Everything the gateway knows of a run. */
  status(runKey: string): RunGatewayStatus {
    const run = this.run(runKey);
    let reservedPico = 0;
    let reservedTokens = 0;
    for (const f of run.inFlight) {
      reservedPico += f.reservedPico;
      reservedTokens += f.reservedTokens;
    }
    return {
      spend: this.spendOf(run),
      limits: { ...run.limits },
      inFlight: run.inFlight.size,
      reserved: { tokens: reservedTokens, usd: reservedPico / PICO_PER_USD },
      breach: run.breach,
      lastUpstreamError: run.lastUpstreamError,
      overruns: run.overruns,
      closed: run.closed,
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
   */
  closeRun(runKey: string): Spend {
    const run = this.run(runKey);
    run.closed = true;
    this.tokens.delete(run.tokenDigest.toString('hex'));
    for (const f of run.inFlight) f.abort.abort();
    const spend = this.spendOf(run);
    run.log.info({ spend }, 'run closed at the gateway');
    return spend;
  }

  private run(runKey: string): RunState {
    const run = this.runs.get(runKey);
    if (!run) throw new GatewayError('unknown_run', `no run "${runKey}" is registered with the gateway`);
    return run;
  }

  private spendOf(run: RunState): Spend {
    const t = { ...run.settled };
    for (const f of run.inFlight) {
      if (!f.meter) continue;
      const u = f.meter.usage;
      t.input += u.input;
      t.output += u.output;
      t.cacheRead += u.cacheRead;
      t.cacheWrite += u.cacheWrite;
      t.pico += costPico(u, f.price);
    }
    return {
      inputTokens: t.input,
      outputTokens: t.output,
      cacheReadTokens: t.cacheRead,
      cacheWriteTokens: t.cacheWrite,
      tokens: totalTokens(t),
      usd: t.pico / PICO_PER_USD,
      requests: t.requests,
      refusals: t.refusals,
    };
  }

  private notify(run: RunState): void {
    const spend = this.spendOf(run);
    for (const l of run.listeners) {
      try {
        l(spend);
      } catch (err) {
        run.log.warn({ err }, 'spend listener threw');
      }
    }
  }

  /** Finds the run of a presented token, comparing digests in constant time. */
  private authenticate(req: IncomingMessage): RunState | undefined {
    const xKey = req.headers['x-api-key'];
    const auth = req.headers.authorization;
    let token: string | undefined;
    if (typeof xKey === 'string' && xKey) token = xKey;
    else if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) token = auth.replace(/^Bearer\s+/i, '').trim();
    if (!token) return undefined;
    const d = digest(token);
    const runKey = this.tokens.get(d.toString('hex'));
    if (!runKey) return undefined;
    const run = this.runs.get(runKey);
    if (!run || run.closed || !timingSafeEqual(d, run.tokenDigest)) return undefined;
    return run;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
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
    if (!metered) {
      await this.forward(run, api, url, req, res, raw, undefined, model);
      return;
    }

    const price = findPrice(this.opts.prices, model);
    if (!price) {
      run.log.warn({ model }, 'request for a model without a price refused');
      sendError(
        res,
        api,
        400,
        'unknown_model',
        `Nightshift gateway: model "${model}" has no price in gateway.prices, so it cannot be budgeted; add it to the configuration or use a priced model`,
      );
      return;
    }
    const p = picoPrice(price);

    // Worst case of this request, before forwarding.
    const capField = api === 'anthropic' ? 'max_tokens' : 'max_output_tokens';
    const given = body[capField];
    const requested = typeof given === 'number' && Number.isInteger(given) && given > 0 ? given : this.defaultMaxOutputTokens;
    const inputBound = Math.ceil((raw.length + BODY_EDIT_SLACK) / this.minBytesPerToken) + this.inputOverheadTokens;
    const inputPico = inputBound * Math.max(p.input, p.cacheRead, p.cacheWrite);
    let reservedPicoOthers = 0;
    let reservedTokensOthers = 0;
    for (const f of run.inFlight) {
      reservedPicoOthers += f.reservedPico;
      reservedTokensOthers += f.reservedTokens;
    }
    const leftPico = run.limitPico - run.settled.pico - reservedPicoOthers;
    const leftTokens = run.limits.tokens - totalTokens(run.settled) - reservedTokensOthers;
    const byUsd = p.output === 0 ? (leftPico >= inputPico ? Infinity : -1) : Math.floor((leftPico - inputPico) / p.output);
    const byTokens = leftTokens - inputBound;
    const affordable = Math.min(byUsd, byTokens);
    let cap = requested;
    if (affordable < requested) {
      if (affordable >= this.minOutputTokens) {
        cap = affordable;
        run.settled.refusals++;
        run.log.info({ model, requested, cap }, 'output cap lowered to fit the budget');
      } else {
        this.refuse(run, api, res, byTokens < Math.min(requested, this.minOutputTokens) ? 'tokens' : 'usd', inputBound, requested, p);
        return;
      }
    }
    let forwardBody: Buffer = raw;
    if (cap !== given) {
      body[capField] = cap;
      if (api === 'anthropic') fitThinking(body, cap);
      forwardBody = Buffer.from(JSON.stringify(body), 'utf8');
    }
    const flight: InFlight = {
      reservedPico: inputPico + cap * p.output,
      reservedTokens: inputBound + cap,
      reservedUsage: { input: inputBound, output: cap, cacheRead: 0, cacheWrite: 0 },
      price: p,
      abort: new AbortController(),
    };
    run.inFlight.add(flight);
    run.settled.requests++;
    await this.forward(run, api, url, req, res, forwardBody, flight, model);
  }

  /** Refuses a request for budget, records the breach and answers in the API's error format. */
  private refuse(run: RunState, api: GatewayApi, res: ServerResponse, kind: 'tokens' | 'usd', inputBound: number, requested: number, p: PicoPrice): void {
    const spend = this.spendOf(run);
    run.settled.refusals++;
    const worstUsd = (inputBound * Math.max(p.input, p.cacheRead, p.cacheWrite) + Math.min(requested, this.minOutputTokens) * p.output) / PICO_PER_USD;
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
    this.notify(run);
  }

  /** Forwards a request upstream and streams the answer back, metering it when `flight` is set. */
  private async forward(
    run: RunState,
    api: GatewayApi,
    url: string,
    req: IncomingMessage,
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
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || DROP_REQUEST_HEADERS.has(k)) continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    headers['accept-encoding'] = 'identity';
    const key = this.opts.upstreamKeys?.[api];
    if (key) {
      if (api === 'anthropic') headers['x-api-key'] = key;
      else headers.authorization = `Bearer ${key}`;
    }
    const target = this.opts.upstreams[api].replace(/\/+$/, '') + url;

    let upstream: Response;
    try {
      upstream = await fetch(target, { method: 'POST', headers, body, signal: abort.signal, redirect: 'manual' });
    } catch (cause) {
      // Aborted by us (client gone, run closed): the request may have reached the provider and be
      // billed, so it is charged its reservation. A connection error: it never got there.
      if (flight) this.settle(run, flight, model, 0, started, abort.signal.aborted);
      if (abort.signal.aborted) {
        // The client went away (nothing to answer), or the run was closed / the gateway stopped.
        if (!res.destroyed && !res.headersSent) sendError(res, api, 401, 'unauthorized', 'Nightshift gateway: the run was closed');
        return;
      }
      res.off('close', onClose);
      const err = new GatewayError('upstream_unreachable', `upstream ${api} API unreachable at ${this.opts.upstreams[api]}: ${describe(cause)}`, api, { cause });
      run.lastUpstreamError = err;
      run.log.error({ api, upstream: this.opts.upstreams[api], err: err.message }, 'upstream unreachable');
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
      if (flight) this.settle(run, flight, model, upstream.status, started, upstream.status >= 200 && upstream.status < 300 && !(flight.meter?.complete ?? false));
    }
  }

  /**
   * Replaces a request's reservation by what the upstream reported. A request that may have been
   * billed for more than was metered — sent and then abandoned (the client or the run went away),
   * or accepted (2xx) and ended before its final usage — is charged its whole reservation
   * (`incomplete`), so that spend never under-counts what the provider bills.
   */
  private settle(run: RunState, flight: InFlight, model: string, status: number, started: number, incomplete: boolean): void {
    if (!run.inFlight.delete(flight)) return;
    const metered = flight.meter?.usage ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    const u: TokenCounts = incomplete
      ? {
          input: Math.max(metered.input + metered.cacheRead + metered.cacheWrite, flight.reservedUsage.input) - metered.cacheRead - metered.cacheWrite,
          output: Math.max(metered.output, flight.reservedUsage.output),
          cacheRead: metered.cacheRead,
          cacheWrite: metered.cacheWrite,
        }
      : metered;
    const pico = incomplete ? Math.max(costPico(metered, flight.price), flight.reservedPico) : costPico(u, flight.price);
    const tokens = totalTokens(u);
    if (incomplete) run.log.warn({ model, status, metered }, 'response ended before its final usage: charged at its reservation');
    run.settled.input += u.input;
    run.settled.output += u.output;
    run.settled.cacheRead += u.cacheRead;
    run.settled.cacheWrite += u.cacheWrite;
    run.settled.pico += pico;
    if (pico > flight.reservedPico || tokens > flight.reservedTokens) {
      run.overruns++;
      run.log.error(
        { model, usage: u, reservedTokens: flight.reservedTokens, reservedUsd: flight.reservedPico / PICO_PER_USD, usd: pico / PICO_PER_USD },
        'upstream reported more than the reservation',
      );
    }
    run.log.info(
      { model, status, usage: u, usd: pico / PICO_PER_USD, ms: Date.now() - started, complete: flight.meter?.seen ?? false },
      'model request metered',
    );
    this.notify(run);
  }
}

/**
 * Bytes added to the request size in the input bound: the gateway may add or lengthen
 * `max_output_tokens` / `max_tokens` / `budget_tokens`, so the forwarded body can be a little
 * longer than the one received.
 */
export const BODY_EDIT_SLACK = 64;

/** HTTP status of a budget refusal: not retried by either CLI (see the report in the module tests). */
const BUDGET_STATUS: Record<GatewayApi, number> = { anthropic: 402, openai: 402 };

type ErrorKind = 'budget_exhausted' | 'unknown_model' | 'unauthorized' | 'upstream_unreachable' | 'not_found' | 'method_not_allowed' | 'invalid_request' | 'request_too_large';

const ANTHROPIC_ERROR_TYPE: Record<ErrorKind, string> = {
  budget_exhausted: 'billing_error',
  unknown_model: 'invalid_request_error',
  unauthorized: 'authentication_error',
  upstream_unreachable: 'api_error',
  not_found: 'not_found_error',
  method_not_allowed: 'invalid_request_error',
  invalid_request: 'invalid_request_error',
  request_too_large: 'request_too_large',
};

const OPENAI_ERROR: Record<ErrorKind, { type: string; code: string }> = {
  budget_exhausted: { type: 'insufficient_quota', code: 'budget_exhausted' },
  unknown_model: { type: 'invalid_request_error', code: 'model_not_priced' },
  unauthorized: { type: 'invalid_request_error', code: 'invalid_api_key' },
  upstream_unreachable: { type: 'server_error', code: 'upstream_unreachable' },
  not_found: { type: 'invalid_request_error', code: 'not_found' },
  method_not_allowed: { type: 'invalid_request_error', code: 'method_not_allowed' },
  invalid_request: { type: 'invalid_request_error', code: 'invalid_request' },
  request_too_large: { type: 'invalid_request_error', code: 'request_too_large' },
};

/** Answers with an error body in the API's own format; `x-should-retry: false` tells Anthropic SDKs not to retry. */
function sendError(res: ServerResponse, api: GatewayApi, status: number, kind: ErrorKind, message: string): void {
  const body =
    api === 'anthropic'
      ? { type: 'error', error: { type: ANTHROPIC_ERROR_TYPE[kind], message } }
      : { error: { message, type: OPENAI_ERROR[kind].type, code: OPENAI_ERROR[kind].code, param: null } };
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-should-retry': 'false' });
  res.end(text);
}

/**
 * Extended thinking needs `budget_tokens` < `max_tokens` (and ≥ 1024): lower it with a trimmed
 * cap, or turn thinking off when no valid budget remains.
 */
function fitThinking(body: Record<string, unknown>, cap: number): void {
  const t = body.thinking;
  if (!isObj(t) || t.type !== 'enabled' || typeof t.budget_tokens !== 'number') return;
  if (t.budget_tokens < cap) return;
  if (cap - 1 >= 1024) t.budget_tokens = cap - 1;
  else delete body.thinking;
}

function fmtUsd(usd: number): string {
  return usd < 1 ? usd.toFixed(4) : usd.toFixed(2);
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too_large'> {
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
