/**
 * The gateway's agent egress proxy (issue 7, item 4): host matching, proxy authentication,
 * refusals (403, logged, counted), real tunnels to a local TCP echo server, and chaining through an
 * upstream CONNECT proxy, on a real gateway on loopback.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import type { GatewayOptions, ModelGateway } from '../../worker/gateway/index.js';
import { hostAllowed, noProxyMatches, parseConnectTarget, proxyToken } from '../../worker/gateway/egress.js';
import { checkTarget, isLocalAddress } from '../../worker/gateway/egressPolicy.js';
import { startGateway, until } from '../helpers/gatewayHarness.js';

const basic = (user: string, pass: string): string => 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');

describe('egress host matching', () => {
  const allow = ['registry.npmjs.org', '*.pythonhosted.org', '10.0.0.5'];
  test('exact, wildcard subdomains, apex not matched by a wildcard, no suffix confusion', () => {
    assert.equal(hostAllowed('registry.npmjs.org', allow), true);
    assert.equal(hostAllowed('files.pythonhosted.org', allow), true);
    assert.equal(hostAllowed('a.b.pythonhosted.org', allow), true);
    assert.equal(hostAllowed('pythonhosted.org', allow), false, 'the apex is not a subdomain');
    assert.equal(hostAllowed('evilpythonhosted.org', allow), false);
    assert.equal(hostAllowed('npmjs.org', allow), false);
    assert.equal(hostAllowed('registry.npmjs.org.evil.com', allow), false);
    assert.equal(hostAllowed('pypi.org', []), false, 'an empty list allows nothing');
  });
  test('case and a trailing dot are normalised by the target parser', () => {
    assert.deepEqual(parseConnectTarget('Registry.NPMJS.org.:443'), { host: 'registry.npmjs.org', port: 443 });
    assert.equal(checkTarget(parseConnectTarget('REGISTRY.npmjs.ORG:443'), 'x', allow, [443]), undefined);
  });
  test('a port other than 443 is refused, so are IP literals unless listed exactly', () => {
    assert.equal(checkTarget(parseConnectTarget('registry.npmjs.org:80'), 'x', allow, [443])?.kind, 'port');
    assert.equal(checkTarget(parseConnectTarget('registry.npmjs.org:22'), 'x', allow, [443])?.kind, 'port');
    assert.equal(checkTarget(parseConnectTarget('104.16.0.1:443'), 'x', allow, [443])?.kind, 'ip_literal');
    assert.equal(checkTarget(parseConnectTarget('[::1]:443'), 'x', allow, [443])?.kind, 'ip_literal');
    assert.equal(checkTarget(parseConnectTarget('10.0.0.5:443'), 'x', allow, [443]), undefined, 'a listed IP literal is allowed');
    assert.equal(hostAllowed('1.pythonhosted.org', allow), true);
    assert.equal(hostAllowed('10.0.0.5', ['*.0.0.5']), false, 'a wildcard never matches an IP literal');
  });
  test('malformed targets are refused', () => {
    for (const t of ['registry.npmjs.org', 'http://registry.npmjs.org:443', 'user@registry.npmjs.org:443', 'a b:443', 'x.org:0', 'x.org:70000', '[not-v6]:443', '']) {
      assert.equal(parseConnectTarget(t), undefined, t);
      assert.equal(checkTarget(parseConnectTarget(t), t, allow, [443])?.kind, 'bad_target', t);
    }
  });
  test('proxy credentials: only Basic with the nightshift user', () => {
    assert.equal(proxyToken(basic('nightshift', 'nsr_abc')), 'nsr_abc');
    assert.equal(proxyToken(basic('someone', 'nsr_abc')), undefined);
    assert.equal(proxyToken(basic('nightshift', '')), undefined);
    assert.equal(proxyToken('Bearer nsr_abc'), undefined);
    assert.equal(proxyToken(undefined), undefined);
  });
  test('NO_PROXY and local addresses', () => {
    assert.equal(noProxyMatches('localhost,.corp.example, 10.1.2.3', 'a.corp.example', 443), true);
    assert.equal(noProxyMatches('corp.example', 'a.corp.example', 443), true);
    assert.equal(noProxyMatches('corp.example:8443', 'corp.example', 443), false);
    assert.equal(noProxyMatches('localhost', 'registry.npmjs.org', 443), false);
    assert.equal(noProxyMatches('*', 'anything', 443), true);
    assert.equal(noProxyMatches(undefined, 'x', 443), false);
    // Not the public internet: loopback, link-local, private networks, cloud host addresses.
    for (const a of ['127.0.0.1', '::1', '169.254.169.254', '::ffff:127.0.0.1', 'fe80::1', '0.0.0.0', '10.0.0.5', '192.168.1.1', '172.20.0.1', '168.63.129.16', 'fd12::1']) {
      assert.equal(isLocalAddress(a), true, a);
    }
    for (const a of ['104.16.0.1', '172.32.0.1', '2606:4700::1']) assert.equal(isLocalAddress(a), false, a);
  });
});

/** A raw CONNECT through the gateway: the answer's status and the socket (open when 200). */
async function connectVia(gatewayUrl: string, target: string, auth?: string): Promise<{ status: number; head: string; body: string; socket: Socket }> {
  const u = new URL(gatewayUrl);
  const socket = connect(Number(u.port), u.hostname);
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`);
  return new Promise((ok, fail) => {
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => fail(new Error('no CONNECT answer in 15 s')), 15_000);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (status === 200 || buf.length >= end + 4 + length) finish(head, status, end);
    };
    const finish = (head: string, status: number, end: number): void => {
      clearTimeout(t);
      socket.off('data', onData);
      ok({ status, head, body: buf.subarray(end + 4).toString('utf8'), socket });
    };
    socket.on('data', onData);
    socket.on('error', (e) => {
      clearTimeout(t);
      fail(e);
    });
  });
}

/** Writes `text` through a tunnel and resolves with what comes back (the echo server answers in kind). */
function roundTrip(socket: Socket, text: string): Promise<string> {
  return new Promise((ok, fail) => {
    let got = '';
    const t = setTimeout(() => fail(new Error(`echo incomplete: "${got}"`)), 5000);
    socket.on('data', (d: Buffer) => {
      got += d.toString('utf8');
      if (got.length >= text.length) {
        clearTimeout(t);
        ok(got);
      }
    });
    socket.write(text);
  });
}

const closed = (s: Socket): Promise<void> => new Promise((ok) => (s.destroyed ? ok() : s.once('close', () => ok())));

describe('the egress proxy on a real gateway', { timeout: 60_000 }, () => {
  let echo: Server;
  let echoPort = 0;
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString('utf8')), cb()) }));
  const gateways: ModelGateway[] = [];
  const servers: Array<Server | HttpServer> = [];
  const conns = new Set<Socket>();
  /** Remembers a test server and its connections, all closed in `after`. */
  const track = <S extends Server | HttpServer>(server: S): S => {
    servers.push(server);
    server.on('connection', (c: Socket) => {
      conns.add(c);
      c.on('close', () => conns.delete(c));
    });
    return server;
  };
  const gateway = async (egress: GatewayOptions['egress']): Promise<ModelGateway> => {
    const gw = await startGateway('http://127.0.0.1:9', { logger, egress });
    gateways.push(gw);
    return gw;
  };

  before(async () => {
    echo = track(
      createServer((s) => {
        s.on('error', () => undefined);
        s.pipe(s);
      }),
    );
    await new Promise<void>((ok) => echo.listen(0, '127.0.0.1', ok));
    echoPort = (echo.address() as { port: number }).port;
  });
  after(async () => {
    for (const gw of gateways) await gw.stop();
    for (const c of conns) c.destroy();
    for (const s of servers) await new Promise<void>((ok) => s.close(() => ok()));
  });

  test('407 without credentials, with a wrong token or user, and with a closed run', async () => {
    const gw = await gateway({ upstreamProxy: null });
    const { token } = gw.openRun('auth', { tokens: 1e6, usd: 1 }, undefined, undefined, ['registry.npmjs.org']);
    for (const auth of [undefined, basic('nightshift', 'nsr_wrong'), basic('other', token), `Bearer ${token}`]) {
      const r = await connectVia(gw.url, 'registry.npmjs.org:443', auth);
      assert.equal(r.status, 407, auth ?? 'none');
      assert.match(r.head, /proxy-authenticate: Basic/i);
      r.socket.destroy();
    }
    gw.closeRun('auth');
    const r = await connectVia(gw.url, 'registry.npmjs.org:443', basic('nightshift', token));
    assert.equal(r.status, 407, 'a closed run has no egress');
    r.socket.destroy();
    assert.equal(gw.status('auth').egress.refusals, 0, '407s are not counted against a run');
    assert.ok(!lines.join('').includes(token), 'the token is never logged');
  });

  test('an unlisted host, a wrong port or an empty list → 403 with a reason, a log line and a count', async () => {
    const gw = await gateway({ upstreamProxy: null });
    const { token } = gw.openRun('deny', { tokens: 1e6, usd: 1 }, undefined, undefined, ['registry.npmjs.org']);
    const auth = basic('nightshift', token);
    lines.length = 0;
    const r = await connectVia(gw.url, 'pypi.org:443', auth);
    assert.equal(r.status, 403);
    assert.match(r.body, /host pypi\.org is not on the egress allow-list \(registry\.npmjs\.org\)/);
    r.socket.destroy();
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.host === 'pypi.org');
    assert.ok(logged, lines.join(''));
    assert.equal(logged.runKey, 'deny');
    assert.equal(logged.port, 443);
    assert.equal(logged.reason, 'not_listed');
    const r2 = await connectVia(gw.url, 'registry.npmjs.org:22', auth);
    assert.equal(r2.status, 403);
    r2.socket.destroy();
    assert.equal(gw.status('deny').egress.refusals, 2);
    assert.ok(!lines.join('').includes(token));

    const { token: t2 } = gw.openRun('none', { tokens: 1e6, usd: 1 });
    const r3 = await connectVia(gw.url, 'registry.npmjs.org:443', basic('nightshift', t2));
    assert.equal(r3.status, 403, 'a run opened without an allow-list reaches nothing');
    r3.socket.destroy();
    assert.deepEqual(gw.status('none').egress, { allow: [], refusals: 1, tunnels: 0 });
  });

  test('an absolute-URI proxy request is refused with 403', async () => {
    const gw = await gateway({ upstreamProxy: null });
    const { token } = gw.openRun('abs', { tokens: 1e6, usd: 1 }, undefined, undefined, ['registry.npmjs.org']);
    const u = new URL(gw.url);
    const s = connect(Number(u.port), u.hostname);
    s.write(`GET http://registry.npmjs.org/is-number HTTP/1.1\r\nHost: registry.npmjs.org\r\nProxy-Authorization: ${basic('nightshift', token)}\r\n\r\n`);
    const text = await new Promise<string>((ok) => {
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString('utf8')));
      s.on('end', () => ok(got));
    });
    s.destroy();
    assert.match(text, /^HTTP\/1\.1 403/);
    assert.equal(gw.status('abs').egress.refusals, 1);
  });

  test('an allowed host tunnels to it; the tunnel closes with the run', async () => {
    const gw = await gateway({ ports: [echoPort], allowLocalAddresses: true, upstreamProxy: null });
    const { token } = gw.openRun('ok', { tokens: 1e6, usd: 1 }, undefined, undefined, ['localhost']);
    const r = await connectVia(gw.url, `localhost:${echoPort}`, basic('nightshift', token));
    assert.equal(r.status, 200, r.head);
    assert.equal(await roundTrip(r.socket, 'hello through the tunnel'), 'hello through the tunnel');
    assert.equal(gw.status('ok').egress.tunnels, 1);
    gw.closeRun('ok');
    await closed(r.socket);
    await until(() => gw.status('ok').egress.tunnels === 0);
  });

  test('loopback targets are refused by default even when listed', async () => {
    const gw = await gateway({ ports: [echoPort], upstreamProxy: null });
    const { token } = gw.openRun('lo', { tokens: 1e6, usd: 1 }, undefined, undefined, ['localhost']);
    const r = await connectVia(gw.url, `localhost:${echoPort}`, basic('nightshift', token));
    assert.equal(r.status, 403);
    assert.match(r.body, /loopback or link-local/);
    r.socket.destroy();
    assert.equal(gw.status('lo').egress.refusals, 1);
  });

  test('stopping the gateway closes open tunnels', async () => {
    const gw = await gateway({ ports: [echoPort], allowLocalAddresses: true, upstreamProxy: null });
    const { token } = gw.openRun('stop', { tokens: 1e6, usd: 1 }, undefined, undefined, ['localhost']);
    const r = await connectVia(gw.url, `localhost:${echoPort}`, basic('nightshift', token));
    assert.equal(r.status, 200);
    await gw.stop();
    await closed(r.socket);
  });

  test('with an upstream proxy, tunnels chain a CONNECT through it (with its credentials); NO_PROXY hosts go direct', async () => {
    const seen: Array<{ target: string; auth?: string }> = [];
    const corp = track(createHttpServer());
    corp.on('connect', (req, sock: Socket, head: Buffer) => {
      seen.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] });
      if (req.headers['proxy-authorization'] !== basic('corp', 's3cr:t')) {
        sock.end('HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      const [host, port] = (req.url ?? '').split(':');
      const up = connect(Number(port), host === 'localhost' ? '127.0.0.1' : (host ?? ''), () => {
        sock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        sock.pipe(up).pipe(sock);
      });
      up.on('error', () => sock.destroy());
      sock.on('error', () => up.destroy());
    });
    await new Promise<void>((ok) => corp.listen(0, '127.0.0.1', ok));
    const corpPort = (corp.address() as { port: number }).port;
    const gw = await gateway({ ports: [echoPort], allowLocalAddresses: true, upstreamProxy: { url: `http://corp:s3cr%3At@127.0.0.1:${corpPort}`, noProxy: 'direct.localhost' } });
    const { token } = gw.openRun('chain', { tokens: 1e6, usd: 1 }, undefined, undefined, ['localhost', '*.localhost']);
    const r = await connectVia(gw.url, `localhost:${echoPort}`, basic('nightshift', token));
    assert.equal(r.status, 200, r.head);
    assert.equal(await roundTrip(r.socket, 'via the corporate proxy'), 'via the corporate proxy');
    r.socket.destroy();
    assert.deepEqual(seen, [{ target: `localhost:${echoPort}`, auth: basic('corp', 's3cr:t') }]);

    const d = await connectVia(gw.url, `direct.localhost:${echoPort}`, basic('nightshift', token));
    d.socket.destroy();
    assert.equal(seen.length, 1, 'a NO_PROXY host is not sent to the upstream proxy');
  });

  test('an upstream proxy that refuses, or never answers within the timeout → 502', async () => {
    const silent = track(createServer((s) => s.on('error', () => undefined))); // accepts, says nothing
    await new Promise<void>((ok) => silent.listen(0, '127.0.0.1', ok));
    const port = (silent.address() as { port: number }).port;
    const gw = await gateway({ ports: [443], connectTimeoutMs: 300, upstreamProxy: { url: `http://127.0.0.1:${port}` } });
    const { token } = gw.openRun('slow', { tokens: 1e6, usd: 1 }, undefined, undefined, ['registry.npmjs.org']);
    const t0 = Date.now();
    const r = await connectVia(gw.url, 'registry.npmjs.org:443', basic('nightshift', token));
    assert.equal(r.status, 502);
    assert.match(r.body, /connect_timeout/);
    assert.ok(Date.now() - t0 < 5000, 'answered soon after the timeout');
    r.socket.destroy();

    const gw2 = await gateway({ ports: [443], upstreamProxy: { url: 'http://127.0.0.1:9' } });
    const t2 = gw2.openRun('refused', { tokens: 1e6, usd: 1 }, undefined, undefined, ['registry.npmjs.org']).token;
    const r2 = await connectVia(gw2.url, 'registry.npmjs.org:443', basic('nightshift', t2));
    assert.equal(r2.status, 502);
    assert.match(r2.body, /connect_failed/);
    r2.socket.destroy();
  });
});
