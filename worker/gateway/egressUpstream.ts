/**
 * The upstream side of an agent egress tunnel ({@link ./egress.ts}): a direct TCP connection, or
 * one through the worker's own (corporate) proxy with a chained CONNECT carrying that proxy's
 * Basic credentials. CONNECT: https://www.rfc-editor.org/rfc/rfc9110#name-connect
 */
import { lookup } from 'node:dns/promises';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { isLocalAddress, noProxyMatches, type ConnectTarget } from './egressPolicy.js';

/** Codes of {@link EgressError}. */
export type EgressErrorCode = 'connect_timeout' | 'connect_failed' | 'local_address' | 'upstream_proxy_refused';

/** Why an upstream connection of a tunnel could not be made. */
export class EgressError extends Error {
  constructor(
    readonly code: EgressErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EgressError';
  }
}

/** How {@link connectUpstream} reaches a target. */
export interface UpstreamOptions {
  /** The worker's proxy (`http://[user:pass@]host:port` or `https://…`) and its `NO_PROXY`; absent: direct. */
  proxy?: { url: string; noProxy?: string };
  /** Longest the whole connection (DNS, TCP, TLS to the proxy, the chained CONNECT) may take, ms. */
  timeoutMs: number;
  /** Admit targets resolving to loopback / link-local addresses (tests only). */
  allowLocalAddresses?: boolean;
}

/** An open upstream socket, the bytes already read past the proxy's answer, and how it was reached. */
export interface Upstream {
  socket: Socket;
  rest: Buffer;
  via: 'direct' | 'proxy';
}

/**
 * Opens the upstream socket of a tunnel to `target`: through `opts.proxy` with a chained CONNECT
 * unless its `noProxy` exempts the host, else directly (refusing hosts that resolve to loopback or
 * link-local addresses unless `allowLocalAddresses`), all within `timeoutMs`.
 * @throws EgressError connect_timeout, connect_failed, local_address, upstream_proxy_refused
 */
export async function connectUpstream(target: ConnectTarget, opts: UpstreamOptions): Promise<Upstream> {
  const useProxy = opts.proxy && !noProxyMatches(opts.proxy.noProxy, target.host, target.port);
  let socket: Socket | undefined;
  let timer: NodeJS.Timeout | undefined;
  let over = false;
  /** After the timeout (or a failure) an attempt still running must not leave a socket behind. */
  const live = (): void => {
    if (over) {
      socket?.destroy();
      throw new EgressError('connect_timeout', `no connection within ${opts.timeoutMs} ms`);
    }
  };
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => {
      over = true;
      socket?.destroy();
      fail(new EgressError('connect_timeout', `no connection within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
  });
  const attempt = async (): Promise<Upstream> => {
    if (useProxy && opts.proxy) {
      const proxy = new URL(opts.proxy.url);
      const tls = proxy.protocol === 'https:';
      const port = Number(proxy.port) || (tls ? 443 : 80);
      const host = proxy.hostname.replace(/^\[|\]$/g, '');
      socket = tls ? tlsConnect({ host, port, servername: isIP(host) ? undefined : host }) : netConnect({ host, port });
      socket.on('error', () => undefined); // reported through `opened`, then through 'close'
      await opened(socket, tls);
      live();
      const rest = await chainConnect(socket, target, proxy);
      live();
      return { socket, rest, via: 'proxy' };
    }
    const { address } = await lookup(target.host).catch((err: unknown) => {
      throw new EgressError('connect_failed', `cannot resolve ${target.host}`, { cause: err });
    });
    live();
    if (!opts.allowLocalAddresses && isLocalAddress(address)) {
      throw new EgressError('local_address', `${target.host} resolves to ${address}, a loopback or link-local address`);
    }
    socket = netConnect({ host: address, port: target.port });
    socket.on('error', () => undefined); // reported through `opened`, then through 'close'
    await opened(socket, false);
    live();
    return { socket, rest: Buffer.alloc(0), via: 'direct' };
  };
  try {
    return await Promise.race([attempt(), timeout]);
  } catch (err) {
    over = true;
    socket?.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when the socket is connected (TLS: handshake done). @throws EgressError connect_failed */
function opened(socket: Socket, tls: boolean): Promise<void> {
  return new Promise((ok, fail) => {
    const onErr = (err: Error): void => fail(new EgressError('connect_failed', err.message, { cause: err }));
    socket.once('error', onErr);
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      socket.off('error', onErr);
      ok();
    });
  });
}

/**
 * Sends `CONNECT target` to an upstream proxy (with its Basic credentials when the URL has them)
 * and reads its answer; resolves with the bytes received after the answer's head.
 * @throws EgressError upstream_proxy_refused (non-2xx), connect_failed
 */
function chainConnect(socket: Socket, target: ConnectTarget, proxy: URL): Promise<Buffer> {
  const authority = isIP(target.host) === 6 ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (proxy.username) {
    const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(cred).toString('base64')}`);
  }
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  return new Promise((ok, fail) => {
    let buf = Buffer.alloc(0);
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('error', onErr);
      socket.off('close', onClose);
    };
    const onErr = (err: Error): void => {
      cleanup();
      fail(new EgressError('connect_failed', `upstream proxy: ${err.message}`, { cause: err }));
    };
    const onClose = (): void => {
      cleanup();
      fail(new EgressError('connect_failed', 'upstream proxy closed the connection'));
    };
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 16_384) onErr(new Error('answer head over 16 KiB'));
        return;
      }
      cleanup();
      socket.pause();
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (status >= 200 && status < 300) ok(buf.subarray(end + 4));
      else fail(new EgressError('upstream_proxy_refused', `upstream proxy answered ${status || 'garbage'} to CONNECT ${authority}`));
    };
    socket.on('data', onData);
    socket.on('error', onErr);
    socket.on('close', onClose);
  });
}
