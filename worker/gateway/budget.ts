/**
 * Per-run budget state and reservations. Before a request is forwarded its worst case (input
 * bound × the highest input price + output cap × the output price) is reserved against what the
 * run has left, so that concurrent requests cannot overshoot together; when it ends the
 * reservation is replaced by what the upstream reported (or kept whole when the response may have
 * been billed for more than was metered).
 */
import type { BudgetBreach, Spend } from '../../workflows/types.js';
import type { Logger } from '../logger.js';
import type { GatewayError } from './errors.js';
import { costPico, PICO_PER_USD, totalTokens, type PicoPrice, type UsageMeter } from './meter.js';
import { isObj, type SpendListener, type TokenCounts } from './types.js';

/** One forwarded, metered request and the worst case it holds. */
export interface InFlight {
  reservedPico: number;
  reservedTokens: number;
  /** The worst case the reservation priced: input bound and output cap. */
  reservedUsage: TokenCounts;
  meter?: UsageMeter;
  price: PicoPrice;
  abort: AbortController;
}

/** A registered run. */
export interface RunState {
  runKey: string;
  /** Logger bound to the run's identity (workflowId, runId, attempt) when the caller gave one. */
  log: Logger;
  tokenDigest: Buffer;
  limits: { tokens: number; usd: number };
  limitPico: number;
  settled: TokenCounts & { pico: number; requests: number; refusals: number };
  inFlight: Set<InFlight>;
  /** Requests of the run being handled (metered or not), for the in-flight cap. */
  active: number;
  breach?: BudgetBreach;
  lastUpstreamError?: GatewayError;
  overruns: number;
  listeners: Set<SpendListener>;
  closed: boolean;
}

/**
 * Bytes added to the request size in the input bound: the gateway may add or lengthen
 * `max_output_tokens` / `max_tokens` / `budget_tokens`, so the forwarded body can be a little
 * longer than the one received.
 */
export const BODY_EDIT_SLACK = 64;

/** Sum of the reservations of a run's in-flight requests: picodollars and tokens. */
export function reservedOf(run: RunState): { pico: number; tokens: number } {
  let pico = 0;
  let tokens = 0;
  for (const f of run.inFlight) {
    pico += f.reservedPico;
    tokens += f.reservedTokens;
  }
  return { pico, tokens };
}

/** The run's spend: settled requests plus what in-flight requests have reported so far. */
export function spendOf(run: RunState): Spend {
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

/** Calls the run's spend listeners with its live spend; a throwing listener is logged. */
export function notify(run: RunState): void {
  const spend = spendOf(run);
  for (const l of run.listeners) {
    try {
      l(spend);
    } catch (err) {
      run.log.warn({ err }, 'spend listener threw');
    }
  }
}

/** What a request may use at most: output tokens that fit, or a refusal and its kind. */
export type Fit = { ok: true; cap: number; lowered: boolean } | { ok: false; kind: 'tokens' | 'usd' };

/**
 * The output cap that fits what the run has left, given the request's input bound (tokens), its
 * worst input price (`inputPico`, picodollars for the whole input), its requested output cap and
 * the worst output price (`outputPico`, picodollars per token).
 * A cap that would have to go below `minOutputTokens` is a refusal.
 */
export function fitOutput(run: RunState, inputBound: number, inputPico: number, requested: number, outputPico: number, minOutputTokens: number): Fit {
  const others = reservedOf(run);
  const leftPico = run.limitPico - run.settled.pico - others.pico;
  const leftTokens = run.limits.tokens - totalTokens(run.settled) - others.tokens;
  const byUsd = outputPico === 0 ? (leftPico >= inputPico ? Infinity : -1) : Math.floor((leftPico - inputPico) / outputPico);
  const byTokens = leftTokens - inputBound;
  const affordable = Math.min(byUsd, byTokens);
  if (affordable >= requested) return { ok: true, cap: requested, lowered: false };
  if (affordable >= minOutputTokens) return { ok: true, cap: affordable, lowered: true };
  return { ok: false, kind: byTokens < Math.min(requested, minOutputTokens) ? 'tokens' : 'usd' };
}

/**
 * Replaces a request's reservation by what the upstream reported. A request that may have been
 * billed for more than was metered — sent and then abandoned (the client or the run went away),
 * or accepted (2xx) and ended before its final usage — is charged its whole reservation
 * (`incomplete`), so that spend never under-counts what the provider bills.
 */
export function settle(run: RunState, flight: InFlight, model: string, status: number, started: number, incomplete: boolean): void {
  if (!run.inFlight.delete(flight)) return;
  const metered = flight.meter?.usage ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  const u: TokenCounts = incomplete
    ? {
        input: Math.max(metered.input + metered.cacheRead + metered.cacheWrite, flight.reservedUsage.input) - metered.cacheRead - metered.cacheWrite,
        output: Math.max(metered.output, flight.reservedUsage.output),
        cacheRead: metered.cacheRead,
        cacheWrite: metered.cacheWrite,
        cacheWrite1h: metered.cacheWrite1h,
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
  run.log.info({ model, status, usage: u, usd: pico / PICO_PER_USD, ms: Date.now() - started, complete: flight.meter?.seen ?? false }, 'model request metered');
  notify(run);
}

/**
 * Extended thinking needs `budget_tokens` < `max_tokens` (and ≥ 1024): lower it with a trimmed
 * cap, or turn thinking off when no valid budget remains.
 * https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking
 */
export function fitThinking(body: Record<string, unknown>, cap: number): void {
  const t = body.thinking;
  if (!isObj(t) || t.type !== 'enabled' || typeof t.budget_tokens !== 'number') return;
  if (t.budget_tokens < cap) return;
  if (cap - 1 >= 1024) t.budget_tokens = cap - 1;
  else delete body.thinking;
}

/** USD for messages: 4 decimals under $1, else 2. */
export function fmtUsd(usd: number): string {
  return usd < 1 ? usd.toFixed(4) : usd.toFixed(2);
}
