/**
 * Agent egress: an allow-listing HTTP CONNECT proxy served on the model gateway's own port (so the
 * sandbox firewall needs no new rule). A run opened with an egress allow-list may tunnel to
 * `host:443` for the hosts on it, authenticated by `Proxy-Authorization: Basic
 * base64("nightshift:<run token>")`; everything else is refused (407 without valid credentials,
 * 403 with a one-line reason, logged and counted per run). Tunnels go straight to the host
 * (`net.connect`), or through the worker's own proxy (`HTTPS_PROXY`, honouring `NO_PROXY`) with a
 * chained CONNECT. They are closed when the run is closed and when the gateway stops.
 *
 * The proxy sees only host names and encrypted bytes: TLS runs end to end between the agent and
 * the registry. CONNECT: https://www.rfc-editor.org/rfc/rfc9110#name-connect
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';
import { checkTarget, parseConnectTarget, proxyToken, upstreamProxyFromEnv, type ConnectTarget, type EgressRefusal } from './egressPolicy.js';
import { connectUpstream, EgressError, type Upstream } from './egressUpstream.js';

export { EGRESS_USER, hostAllowed, noProxyMatches, parseConnectTarget, proxyToken } from './egressPolicy.js';
export { EgressError, type EgressErrorCode } from './egressUpstream.js';

/** Options of the egress proxy (`GatewayOptions.egress`). */
export interface EgressOptions {
  /** Ports a CONNECT may reach; default `[443]`. */
  ports?: number[];
  /** Admit allowed hosts that resolve to loopback or link-local addresses (tests only); default false. */
  allowLocalAddresses?: boolean;
  /**
   * Upstream (corporate) proxy for tunnels, `http://[user:pass@]host:port` (or `https://`);
   * default: the worker's `HTTPS_PROXY`/`https_proxy` and `NO_PROXY`/`no_proxy`; `null`: always direct.
   */
  upstreamProxy?: { url: string; noProxy?: string } | null;
  /** Longest the upstream connection (DNS, TCP, the chained CONNECT) may take, ms; default 10000. */
  connectTimeoutMs?: number;
}

/** A run's egress as the gateway status shows it. */
export interface EgressRunStatus {
  /** The allow-list (lower-cased host names, `*.suffix` patterns). */
  allow: string[];
  /** CONNECTs and proxy requests refused (403) since the run was first opened. */
  refusals: number;
  /** Tunnels open now. */
  tunnels: number;
}

/** The run a token names, as the gateway knows it (undefined for an unknown, revoked or closed token). */
export type RunOfToken = (token: string) => { runKey: string; log: Logger } | undefined;

/** One open tunnel: the agent's socket and the upstream one. */
interface Tunnel {
  client: Socket;
  upstream: Socket;
}

interface EgressRun {
  allow: string[];
  refusals: number;
  tunnels: Set<Tunnel>;
}

const STATUS_TEXT: Record<number, string> = { 403: 'Forbidden', 407: 'Proxy Authentication Required', 502: 'Bad Gateway', 504: 'Gateway Timeout' };

/** Writes a raw HTTP error answer on a CONNECT socket and closes it. */
function reply(socket: Socket, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `Nightshift egress: ${text}\n`;
  const head = [`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`, 'content-type: text/plain; charset=utf-8', `content-length: ${Buffer.byteLength(body)}`, 'connection: close'];
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  if (!socket.destroyed) socket.end(head.join('\r\n') + '\r\n\r\n' + body);
}

/** The allow-listing CONNECT proxy; see the module comment. One per gateway. */
export class EgressProxy {
  private readonly runs = new Map<string, EgressRun>();
  private readonly ports: number[];
  private readonly timeoutMs: number;
  private readonly upstream: { url: string; noProxy?: string } | undefined;

  constructor(
    private readonly log: Logger,
    private readonly runOfToken: RunOfToken,
    private readonly opts: EgressOptions = {},
  ) {
    this.ports = opts.ports ?? [443];
    this.timeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.upstream = opts.upstreamProxy === null ? undefined : (opts.upstreamProxy ?? upstreamProxyFromEnv());
  }

  /** Sets a run's allow-list (on open and re-open); tunnels of an earlier registration are closed. */
  open(runKey: string, allow: readonly string[] = []): void {
    const run = this.runs.get(runKey);
    if (run) {
      this.closeTunnels(run);
      run.allow = allow.map((h) => h.toLowerCase());
    } else this.runs.set(runKey, { allow: allow.map((h) => h.toLowerCase()), refusals: 0, tunnels: new Set() });
  }

  /** Closes every tunnel of the run (its token is revoked by the gateway). */
  close(runKey: string): void {
    const run = this.runs.get(runKey);
    if (run) this.closeTunnels(run);
  }

  /** The run's allow-list, refusals and open tunnels; undefined for a run never opened here. */
  status(runKey: string): EgressRunStatus | undefined {
    const run = this.runs.get(runKey);
    return run && { allow: [...run.allow], refusals: run.refusals, tunnels: run.tunnels.size };
  }

  /** Closes every tunnel (the gateway is stopping). */
  stop(): void {
    for (const run of this.runs.values()) this.closeTunnels(run);
  }

  /** Handles the HTTP server's `connect` event. Never throws. */
  handleConnect(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const token = proxyToken(req.headers['proxy-authorization']);
    const owner = token ? this.runOfToken(token) : undefined;
    const raw = req.url ?? '';
    if (!owner) {
      this.log.warn({ target: raw.slice(0, 200), remote: socket.remoteAddress, credentials: token ? 'invalid' : 'missing' }, 'egress CONNECT without valid proxy credentials refused');
      reply(socket, 407, 'proxy credentials missing, invalid or revoked', { 'proxy-authenticate': 'Basic realm="nightshift"' });
      return;
    }
    const run = this.runs.get(owner.runKey) ?? { allow: [], refusals: 0, tunnels: new Set<Tunnel>() };
    this.runs.set(owner.runKey, run);
    const target = parseConnectTarget(raw);
    const refused = checkTarget(target, raw, run.allow, this.ports);
    if (refused || !target) {
      this.refuse(owner, run, socket, target ?? { host: raw.slice(0, 200), port: 0 }, refused ?? { kind: 'bad_target', reason: 'bad target' });
      return;
    }
    this.tunnel(token ?? '', owner, run, socket, head, target).catch((err: unknown) => {
      owner.log.error({ err, host: target.host, port: target.port }, 'egress tunnel failed');
      socket.destroy();
    });
  }

  /**
   * Refuses an absolute-URI (forward proxy) request with 403: only CONNECT tunnels are served.
   * Counted against the run when the request carries its valid proxy credentials.
   */
  refuseProxyRequest(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const token = proxyToken(req.headers['proxy-authorization']);
    const owner = token ? this.runOfToken(token) : undefined;
    let host = '';
    let port = 0;
    try {
      const u = new URL(req.url ?? '');
      host = u.hostname;
      port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
    } catch {
      host = (req.url ?? '').slice(0, 200);
    }
    const reason = `${req.method ?? 'request'} with an absolute URI is not served: only CONNECT to allowed hosts on port ${this.ports.join(', ')}`;
    const run = owner && this.runs.get(owner.runKey);
    if (owner && run) run.refusals++;
    (owner?.log ?? this.log).warn({ runKey: owner?.runKey, host, port, reason: 'not_connect' }, 'egress refused');
    const body = `Nightshift egress: ${reason}\n`;
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  }

  private refuse(owner: { runKey: string; log: Logger }, run: EgressRun, socket: Socket, target: ConnectTarget, r: EgressRefusal): void {
    run.refusals++;
    owner.log.warn({ runKey: owner.runKey, host: target.host, port: target.port, reason: r.kind }, `egress refused: ${r.reason}`);
    reply(socket, 403, r.reason);
  }

  private async tunnel(token: string, owner: { runKey: string; log: Logger }, run: EgressRun, client: Socket, head: Buffer, target: ConnectTarget): Promise<void> {
    let up: Upstream;
    try {
      up = await connectUpstream(target, { proxy: this.upstream, timeoutMs: this.timeoutMs, allowLocalAddresses: this.opts.allowLocalAddresses });
    } catch (err) {
      if (err instanceof EgressError && err.code === 'local_address') {
        this.refuse(owner, run, client, target, { kind: 'loopback', reason: err.message });
        return;
      }
      const code = err instanceof EgressError ? err.code : 'connect_failed';
      const message = err instanceof Error ? err.message : String(err);
      owner.log.warn({ runKey: owner.runKey, host: target.host, port: target.port, code, err: message }, 'egress upstream unreachable');
      reply(client, 502, `could not reach ${target.host}:${target.port} (${code}): ${message}`);
      return;
    }
    const upstream = up.socket;
    // The run was closed (or re-opened: its token revoked) while we connected, or the client left.
    if (client.destroyed || this.runOfToken(token)?.runKey !== owner.runKey) {
      upstream.destroy();
      client.destroy();
      return;
    }
    const t: Tunnel = { client, upstream };
    run.tunnels.add(t);
    const done = (): void => {
      run.tunnels.delete(t);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', done);
    upstream.on('close', done);
    upstream.on('error', done);
    client.on('error', done);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) upstream.write(head);
    if (up.rest.length) client.write(up.rest);
    client.pipe(upstream);
    upstream.pipe(client);
    owner.log.info({ runKey: owner.runKey, host: target.host, port: target.port, via: up.via }, 'egress tunnel opened');
  }

  private closeTunnels(run: EgressRun): void {
    for (const t of run.tunnels) {
      t.client.destroy();
      t.upstream.destroy();
    }
    run.tunnels.clear();
  }
}
