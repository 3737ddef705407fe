/**
 * Model prices: the configuration's `gateway.prices` (overrides, they win) over the price table
 * bundled with `@pydantic/genai-prices` (https://github.com/pydantic/genai-prices), read OFFLINE:
 * only its bundled data is used (`updatePrices`, which fetches, is never called), so a price does
 * not change while a worker runs and no request leaves the host.
 *
 * The table's prices are USD per million tokens (`input_mtok`, `output_mtok`, `cache_read_mtok`,
 * `cache_write_mtok`, `cache_write_1h_mtok`), each a number or tiered by the request's total input
 * tokens (`{ base, tiers: [{ start, price }] }`, a tier applying above `start`); they become our
 * {@link ModelPrice} with its `longContext` tier (see worker/gateway/meter.ts for how it is billed).
 */
import { calcPrice, type ModelPrice as TablePrice } from '@pydantic/genai-prices';
import type { PriceTable } from '../config.js';
import { findPrice } from './meter.js';
import type { ModelPrice } from './types.js';

/** The provider whose prices apply: the gateway's API, or the agent's (claude-code → anthropic, codex → openai). */
export type PriceProvider = 'anthropic' | 'openai';

/** A model's price and where it came from. */
export interface ResolvedPrice {
  price: ModelPrice;
  /** `config`: `gateway.prices`; `table`: the bundled price table. */
  source: 'config' | 'table';
}

type TableValue = TablePrice[string];

const baseOf = (v: TableValue): number | undefined => (typeof v === 'number' ? v : v ? v.base : undefined);

/**
 * The long-context tier of a table price: the lowest threshold of its tiered fields, each field at
 * its highest tier price (several tiers are folded into one, so a request above the first threshold
 * is never billed below its real price: the budget stays an upper bound).
 */
function longTier(p: TablePrice): ModelPrice['longContext'] {
  const tiered = (['input_mtok', 'output_mtok', 'cache_read_mtok', 'cache_write_mtok', 'cache_write_1h_mtok'] as const).filter((k) => {
    const v = p[k];
    return typeof v === 'object' && v.tiers.length > 0;
  });
  if (tiered.length === 0) return undefined;
  const top = (v: TableValue): number | undefined => (typeof v === 'number' ? v : v ? Math.max(v.base, ...v.tiers.map((t) => t.price)) : undefined);
  const threshold = Math.min(...tiered.flatMap((k) => (typeof p[k] === 'object' ? p[k].tiers.map((t) => t.start) : [])));
  const input = top(p.input_mtok);
  const output = top(p.output_mtok);
  if (input === undefined || output === undefined) return undefined;
  const cacheRead = top(p.cache_read_mtok);
  const cacheWrite = top(p.cache_write_mtok);
  const cacheWrite1h = top(p.cache_write_1h_mtok);
  return {
    thresholdTokens: Math.max(1, Math.floor(threshold)),
    input,
    output,
    ...(cacheRead !== undefined ? { cacheRead } : {}),
    ...(cacheWrite !== undefined ? { cacheWrite } : {}),
    ...(cacheWrite1h !== undefined ? { cacheWrite1h } : {}),
  };
}

/** A table price as our {@link ModelPrice}; undefined when it has no input or output token price. Pure. */
export function fromTablePrice(p: TablePrice): ModelPrice | undefined {
  const input = baseOf(p.input_mtok);
  const output = baseOf(p.output_mtok);
  if (input === undefined || output === undefined) return undefined;
  const cacheRead = baseOf(p.cache_read_mtok);
  const cacheWrite = baseOf(p.cache_write_mtok);
  const cacheWrite1h = baseOf(p.cache_write_1h_mtok);
  const longContext = longTier(p);
  return {
    input,
    output,
    ...(cacheRead !== undefined ? { cacheRead } : {}),
    ...(cacheWrite !== undefined ? { cacheWrite } : {}),
    ...(cacheWrite1h !== undefined ? { cacheWrite1h } : {}),
    ...(longContext ? { longContext } : {}),
  };
}

const tableCache = new Map<string, ModelPrice | null>();

/** The bundled table's price of `model` (a dated snapshot matches its model), memoized; undefined when unknown. */
export function tablePrice(model: string, provider?: PriceProvider): ModelPrice | undefined {
  if (!model) return undefined;
  const key = `${provider ?? ''}:${model}`;
  let hit = tableCache.get(key);
  if (hit === undefined) {
    // Zero usage: only the matched model and its prices are wanted.
    const r = calcPrice({ input_tokens: 0, output_tokens: 0 }, model, provider ? { providerId: provider } : undefined);
    hit = (r && fromTablePrice(r.model_price)) ?? null;
    tableCache.set(key, hit);
  }
  return hit ?? undefined;
}

/**
 * The price of `model`: `gateway.prices` first (exact name or dated snapshot, see `findPrice`),
 * else the bundled table (for `provider` when given). Undefined when neither knows it: such a
 * model cannot be budgeted and is refused (at scope, and by the gateway).
 */
export function resolvePrice(overrides: PriceTable, model: string, provider?: PriceProvider): ResolvedPrice | undefined {
  const configured = findPrice(overrides, model);
  if (configured) return { price: configured, source: 'config' };
  const table = tablePrice(model, provider);
  return table ? { price: table, source: 'table' } : undefined;
}

/** The provider of an agent's models. */
export function providerOfAgent(agent: 'claude-code' | 'codex'): PriceProvider {
  return agent === 'codex' ? 'openai' : 'anthropic';
}
