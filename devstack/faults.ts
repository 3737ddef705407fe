/**
 * Fault injection for the local stand-ins (model, GitHub, Linear, Slack): a per-route queue of
 * faults that the next matching requests receive instead of their normal answer. The stand-ins
 * are product stand-ins, so the faults are those the real services produce: a 5xx, a 429 with
 * `Retry-After` (seconds), a response cut after some bytes (an SSE stream broken mid-message), a
 * request that is never answered, or one held until the test releases it.
 *
 * Each stand-in names its routes (see its `faults` field's doc): the model `POST /v1/messages`
 * and `POST /v1/responses`; GitHub `<METHOD> <route>` with the repository left out (`POST pulls`,
 * `POST issues/:n/comments`); Linear the GraphQL field (`commentCreate`); Slack the method
 * (`chat.postMessage`).
 */
import type { ServerResponse } from 'node:http';

/** What a request receives instead of its normal answer. */
export type Fault =
  /** An HTTP error status; `retryAfterSec` adds `Retry-After`; `headers` more headers; `body` the JSON body (else the stand-in's own error shape). */
  | { kind: 'status'; status: number; retryAfterSec?: number; headers?: Record<string, string>; body?: unknown }
  /** The normal answer, but the connection is destroyed after `afterBytes` bytes of body were written. */
  | { kind: 'cut'; afterBytes: number }
  /** No answer at all: the request stays open until the client gives up or the stand-in stops. */
  | { kind: 'hang' }
  /** The request is held (unanswered) until `release` resolves, then answered normally. */
  | { kind: 'hold'; release: Promise<void> };

/** One fault a request received, for the test's assertions. */
export interface InjectedFault {
  route: string;
  fault: Fault['kind'];
  at: number;
}

interface Pending {
  route: string | RegExp;
  fault: Fault;
  remaining: number;
  onTaken?: () => void;
  match?: (request: unknown) => boolean;
}

/** The queue of a stand-in; see the module comment. */
export class FaultQueue {
  /** Every fault handed out, in order. */
  readonly injected: InjectedFault[] = [];
  private readonly pending: Pending[] = [];
  private readonly hung = new Set<ServerResponse>();

  /**
   * Makes the next `times` requests whose route is `route` (or matches it) receive `fault`.
   * `onTaken` runs each time a request takes it (e.g. to kill a worker while a message is held);
   * `match`, when given, narrows the requests to those whose parsed body it accepts (e.g. a model
   * request that carries tools: an agent's turn, not a side request).
   */
  inject(route: string | RegExp, fault: Fault, times = 1, onTaken?: () => void, match?: (request: unknown) => boolean): void {
    if (!Number.isInteger(times) || times < 1) throw new Error(`FaultQueue.inject: times must be a positive integer, not ${times}`);
    this.pending.push({ route, fault, remaining: times, ...(onTaken ? { onTaken } : {}), ...(match ? { match } : {}) });
  }

  /** Drops every fault not yet taken. */
  clear(): void {
    this.pending.length = 0;
  }

  /** Faults still waiting for a request. */
  get waiting(): number {
    return this.pending.reduce((n, p) => n + p.remaining, 0);
  }

  /** The fault the request on `route` (with parsed body `request`, when known) receives, if any (taking it from the queue). */
  take(route: string, request?: unknown): Fault | undefined {
    const i = this.pending.findIndex((p) => (typeof p.route === 'string' ? p.route === route : p.route.test(route)) && (!p.match || p.match(request)));
    if (i < 0) return undefined;
    const p = this.pending[i]!;
    if (--p.remaining <= 0) this.pending.splice(i, 1);
    this.injected.push({ route, fault: p.fault.kind, at: Date.now() });
    p.onTaken?.();
    return p.fault;
  }

  /** Keeps `res` open with no answer; {@link FaultQueue.endHung} destroys it (call it when the stand-in stops). */
  hang(res: ServerResponse): Promise<void> {
    this.hung.add(res);
    return new Promise((ok) => {
      res.on('close', () => {
        this.hung.delete(res);
        ok();
      });
    });
  }

  /** Destroys every response kept open by {@link FaultQueue.hang}. */
  endHung(): void {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
  }
}

/**
 * Wraps `res` so that the connection is destroyed once `afterBytes` bytes of body were written
 * (the headers go out whole): what a client sees when a proxy or the provider drops a stream.
 */
export function cutAfter(res: ServerResponse, afterBytes: number): void {
  let sent = 0;
  const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  const cut = (): void => {
    res.socket?.destroy();
    res.destroy();
  };
  const push = (chunk: unknown): boolean => {
    if (res.destroyed) return false;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    const room = afterBytes - sent;
    if (buf.length < room) {
      sent += buf.length;
      return write(buf);
    }
    if (room > 0) write(buf.subarray(0, room));
    sent = afterBytes;
    // Let the partial bytes leave before the connection drops.
    setImmediate(cut);
    return false;
  };
  res.write = ((chunk: unknown) => push(chunk)) as typeof res.write;
  res.end = ((chunk?: unknown) => {
    if (chunk !== undefined && typeof chunk !== 'function') push(chunk);
    if (!res.destroyed && sent < afterBytes) return end();
    return res;
  }) as typeof res.end;
}
