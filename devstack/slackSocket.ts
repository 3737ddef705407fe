/**
 * A Socket Mode endpoint standing in for Slack's (`wss://wss-primary.slack.com/link/…`): the app
 * asks `apps.connections.open` (on {@link FakeSlack}) for its URL, connects, gets `hello`, and from
 * then on receives envelopes (slash commands, interactivity, events) and answers each with an
 * acknowledgement carrying its `envelope_id`, as Slack's protocol has it.
 *
 * Protocol: https://docs.slack.dev/apis/events-api/using-socket-mode
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** An envelope's acknowledgement as the app sent it, with the time it took. */
export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
  /** Milliseconds from sending the envelope to the acknowledgement. */
  ms: number;
}

/** The fake Socket Mode server. */
export class FakeSlackSocket {
  private socket?: WebSocket;
  private readonly waiting = new Map<string, { sent: number; resolve: (a: SocketAck) => void }>();
  /** Every acknowledgement received, in order. */
  readonly acks: SocketAck[] = [];

  private constructor(
    private readonly server: WebSocketServer,
    /** The URL `apps.connections.open` hands out. */
    readonly url: string,
  ) {
    server.on('connection', (ws) => {
      this.socket = ws;
      ws.on('message', (data) => this.onMessage(String(data)));
      ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake-applink' }, connection_info: { app_id: 'A0NIGHTSHIFT' } }));
    });
  }

  /** Starts listening on loopback. */
  static async start(): Promise<FakeSlackSocket> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const port = (server.address() as AddressInfo).port;
    return new FakeSlackSocket(server, `ws://127.0.0.1:${port}/link/?ticket=fake`);
  }

  /** Resolves once an app is connected. */
  async connected(timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!this.socket) {
      if (Date.now() > end) throw new Error('no app connected to the Socket Mode endpoint');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Sends an envelope (`slash_commands`, `interactive`, `events_api`) and resolves with the app's
   * acknowledgement.
   */
  send(type: 'slash_commands' | 'interactive' | 'events_api', payload: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<SocketAck> {
    if (!this.socket) throw new Error('no app is connected');
    const envelope_id = randomUUID();
    const acked = new Promise<SocketAck>((resolve) => this.waiting.set(envelope_id, { sent: Date.now(), resolve }));
    this.socket.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== 'events_api', ...extra }));
    return acked;
  }

  private onMessage(text: string): void {
    let msg: { envelope_id?: string; payload?: Record<string, unknown> };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    const w = msg.envelope_id ? this.waiting.get(msg.envelope_id) : undefined;
    if (!w || !msg.envelope_id) return;
    this.waiting.delete(msg.envelope_id);
    const ack: SocketAck = { envelope_id: msg.envelope_id, ...(msg.payload ? { payload: msg.payload } : {}), ms: Date.now() - w.sent };
    this.acks.push(ack);
    w.resolve(ack);
  }

  async close(): Promise<void> {
    for (const c of this.server.clients) c.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
