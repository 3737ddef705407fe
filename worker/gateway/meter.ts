/**
 * Prices and metering: the price of a model, the cost of a usage, and the {@link UsageMeter} that
 * reads the usage a response reports as its bytes pass through.
 *
 * Wire formats:
 * - Anthropic Messages: https://docs.anthropic.com/en/api/messages-streaming
 *   (`message_start.message.usage`, cumulative `message_delta.usage`)
 * - OpenAI Responses: https://platform.openai.com/docs/api-reference/responses-streaming
 *   (`response.completed.response.usage`)
 */
import type { PriceTable } from '../config.js';
import { isObj, type GatewayApi, type ModelPrice, type TokenCounts } from './types.js';

/** Picodollars (1e-12 USD) per token for 1 USD per million tokens: prices become integers. */
export const PICO_PER_USD = 1e12;

/** One price tier in picodollars per token. */
export interface PicoTier {
  input: number;
  output: number;
  cacheRead: number;
  /** 5-minute cache writes. */
  cacheWrite: number;
  /** 1-hour cache writes. */
  cacheWrite1h: number;
}

/** A model's prices in picodollars per token, with its long-context tier when it has one. */
export interface PicoPrice extends PicoTier {
  /** Applies to a whole request whose input (uncached + cache read + cache write) exceeds `thresholdTokens`. */
  long?: PicoTier & { thresholdTokens: number };
}

/**
 * USD per million tokens → picodollars per token (× 1e12 / 1e6). Defaults: cache reads at the
 * input price, 5-minute cache writes at 1.25 × input, 1-hour cache writes at 2 × input
 * (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#pricing); a long-context
 * tier's missing cache prices scale from its own input price the same way.
 */
export function picoPrice(p: ModelPrice): PicoPrice {
  const r = (usdPerM: number) => Math.round(usdPerM * 1e6);
  const tier = (t: { input: number; output: number; cacheRead?: number; cacheWrite?: number; cacheWrite1h?: number }): PicoTier => ({
    input: r(t.input),
    output: r(t.output),
    cacheRead: r(t.cacheRead ?? t.input),
    cacheWrite: r(t.cacheWrite ?? t.input * 1.25),
    cacheWrite1h: r(t.cacheWrite1h ?? t.input * 2),
  });
  const base: PicoPrice = tier(p);
  if (p.longContext) base.long = { ...tier(p.longContext), thresholdTokens: p.longContext.thresholdTokens };
  return base;
}

/** The tier a usage is billed at: the long-context tier when its input exceeds the threshold. */
export function tierOf(t: TokenCounts, p: PicoPrice): PicoTier {
  return p.long && t.input + t.cacheRead + t.cacheWrite > p.long.thresholdTokens ? p.long : p;
}

/** Cost of a usage, picodollars (cache writes split by TTL; long-context tier when it applies). */
export function costPico(t: TokenCounts, p: PicoPrice): number {
  const tier = tierOf(t, p);
  const w1h = Math.min(t.cacheWrite1h ?? 0, t.cacheWrite);
  return t.input * tier.input + t.output * tier.output + t.cacheRead * tier.cacheRead + (t.cacheWrite - w1h) * tier.cacheWrite + w1h * tier.cacheWrite1h;
}

/**
 * The highest prices (picodollars per token) a request can be billed at, for the worst-case
 * reservation: per input token the highest input price that applies (cache writes only on
 * Anthropic, which reports them; the 1-hour write price only when the request asks for a 1-hour
 * TTL), and the long-context tier's prices when the input bound exceeds its threshold.
 */
export function worstPrices(p: PicoPrice, opts: { api: GatewayApi; inputBound: number; ttl1h: boolean }): { input: number; output: number } {
  const tiers: PicoTier[] = [p];
  if (p.long && opts.inputBound > p.long.thresholdTokens) tiers.push(p.long);
  let input = 0;
  let output = 0;
  for (const t of tiers) {
    const writes = opts.api === 'anthropic' ? [t.cacheWrite, ...(opts.ttl1h ? [t.cacheWrite1h] : [])] : [];
    input = Math.max(input, t.input, t.cacheRead, ...writes);
    output = Math.max(output, t.output);
  }
  return { input, output };
}

/** All tokens of a usage (input of every kind + output). */
export function totalTokens(t: TokenCounts): number {
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
   * keep the largest value of each field (never add). `cache_creation` splits cache writes by TTL
   * (https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#1-hour-cache-duration). OpenAI's `input_tokens` includes
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
      if (isObj(u.cache_creation)) {
        const w5 = n(u.cache_creation.ephemeral_5m_input_tokens) ?? 0;
        const w1 = n(u.cache_creation.ephemeral_1h_input_tokens) ?? 0;
        next.cacheWrite1h = w1;
        next.cacheWrite = Math.max(next.cacheWrite ?? 0, w5 + w1);
      }
    } else {
      const input = n(u.input_tokens);
      const cached = isObj(u.input_tokens_details) ? (n(u.input_tokens_details.cached_tokens) ?? 0) : 0;
      if (input !== undefined) {
        next.cacheRead = Math.min(cached, input);
        next.input = input - next.cacheRead;
      }
      next.output = n(u.output_tokens);
    }
    for (const k of ['input', 'output', 'cacheRead', 'cacheWrite', 'cacheWrite1h'] as const) {
      const v = next[k];
      if (v === undefined) continue;
      this.usage[k] = cumulative ? Math.max(this.usage[k] ?? 0, v) : v;
      this.seen = true;
    }
  }
}
