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

/** A model's prices in picodollars per token. */
export interface PicoPrice {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** USD per million tokens → picodollars per token (× 1e12 / 1e6). */
export function picoPrice(p: ModelPrice): PicoPrice {
  const r = (usdPerM: number) => Math.round(usdPerM * 1e6);
  return { input: r(p.input), output: r(p.output), cacheRead: r(p.cacheRead ?? p.input), cacheWrite: r(p.cacheWrite ?? p.input) };
}

/** Cost of a usage, picodollars. */
export function costPico(t: TokenCounts, p: PicoPrice): number {
  return t.input * p.input + t.output * p.output + t.cacheRead * p.cacheRead + t.cacheWrite * p.cacheWrite;
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
