/**
 * A minimal scripted model upstream for the gateway's allow-list and pricing tests: it records
 * every request (headers and parsed body) and answers each with the usage a callback chooses, in
 * the API's own format, streamed (SSE) or as one JSON body, including usage fields the devstack
 * scripted model does not produce (Anthropic `cache_creation` TTL split).
 * Formats: https://docs.anthropic.com/en/api/messages-streaming,
 * https://platform.openai.com/docs/api-reference/responses-streaming
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Usage one answer reports. `cacheWrite5m` + `cacheWrite1h` are Anthropic cache writes by TTL. */
export interface RawUsage {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite5m?: number;
  cacheWrite1h?: number;
}

/** A request the upstream received. */
export interface RawRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  bytes: number;
}

/** Decides the usage of an answer; `'stall'` keeps the response open until the client goes. */
export type RawAnswer = (req: RawRequest) => RawUsage | 'stall';

/** The upstream server. */
export class RawUpstream {
  readonly requests: RawRequest[] = [];
  private server?: Server;
  private readonly open = new Set<import('node:http').ServerResponse>();

  /** `delayMs`: how long each answer waits before its headers (to hold requests in flight). */
  constructor(
    private readonly answer: RawAnswer,
    private readonly opts: { delayMs?: number } = {},
  ) {}

  /** Starts on 127.0.0.1, any free port. */
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(parts);
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
        } catch {
          // recorded as empty
        }
        const rec: RawRequest = { path, headers: req.headers, body, bytes: raw.length };
        this.requests.push(rec);
        const u = this.answer(rec);
        if (u === 'stall') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          this.open.add(res);
          res.on('close', () => this.open.delete(res));
          return;
        }
        const stream = body.stream === true;
        const text = path.startsWith('/v1/messages') ? anthropic(u, stream) : openai(u, stream);
        const send = () => {
          if (res.destroyed) return;
          res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
          res.end(text);
        };
        if (this.opts.delayMs) setTimeout(send, this.opts.delayMs);
        else send();
      });
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
  }

  /** `http://127.0.0.1:port`. */
  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Ends stalled responses and stops. */
  async stop(): Promise<void> {
    for (const r of this.open) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }
}

function anthropic(u: RawUsage, stream: boolean): string {
  const w5 = u.cacheWrite5m ?? 0;
  const w1 = u.cacheWrite1h ?? 0;
  const usage = {
    input_tokens: u.input,
    output_tokens: u.output,
    cache_read_input_tokens: u.cacheRead ?? 0,
    cache_creation_input_tokens: w5 + w1,
    cache_creation: { ephemeral_5m_input_tokens: w5, ephemeral_1h_input_tokens: w1 },
  };
  const message = { id: 'msg_raw', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'ok' }], stop_reason: 'end_turn', usage };
  if (!stream) return JSON.stringify(message);
  const ev = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  return (
    ev('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }) +
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
    ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'ok' } }) +
    ev('content_block_stop', { type: 'content_block_stop', index: 0 }) +
    ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: u.output } }) +
    ev('message_stop', { type: 'message_stop' })
  );
}

function openai(u: RawUsage, stream: boolean): string {
  const usage = { input_tokens: u.input + (u.cacheRead ?? 0), input_tokens_details: { cached_tokens: u.cacheRead ?? 0 }, output_tokens: u.output, total_tokens: u.input + (u.cacheRead ?? 0) + u.output };
  const response = { id: 'resp_raw', object: 'response', status: 'completed', output: [], usage };
  if (!stream) return JSON.stringify(response);
  return `event: response.created\ndata: ${JSON.stringify({ type: 'response.created', response: { ...response, status: 'in_progress', usage: null } })}\n\n` + `event: response.completed\ndata: ${JSON.stringify({ type: 'response.completed', response })}\n\n`;
}
