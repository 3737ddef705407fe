/** Types shared by the model gateway's modules (no side effects). */
import type { BudgetBreach, Spend } from '../../workflows/types.js';
import type { PriceTable } from '../config.js';
import type { EgressRunStatus } from './egress.js';
import type { GatewayError } from './errors.js';

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
  /** Cache-write tokens of every TTL. */
  cacheWrite: number;
  /** Of `cacheWrite`, the tokens written with a 1-hour TTL (priced higher); absent = 0. */
  cacheWrite1h?: number;
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
  /** The run's agent egress: allow-list, refused CONNECTs / proxy requests, open tunnels. */
  egress: EgressRunStatus;
}

/** `true` for a plain JSON object (not an array, not null). */
export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
