/**
 * Secured Temporal connections (a self-hosted cluster with mutual TLS, or Temporal Cloud with an
 * API key): the client and the worker's native connection both speak TLS with the configured CA
 * and client certificate, and send `Authorization: Bearer <TEMPORAL_API_KEY>` on every call.
 *
 * The dev server speaks plain gRPC, so a TLS front (an HTTP/2 proxy requiring a client
 * certificate, as a cluster's frontend would) stands before it and records what arrives.
 */
import assert from 'node:assert/strict';
import { connect as h2connect, createSecureServer, type ClientHttp2Session, type Http2SecureServer, type IncomingHttpHeaders } from 'node:http2';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { run } from '../../activities/exec.js';
import { parseConfig } from '../../worker/config.js';
import { redact } from '../../worker/redact.js';
import { connectClient, connectWorker, startDevServer } from '../../worker/temporal.js';

const API_KEY = 'tmprl-api-key-for-the-tls-test-0f3c9a';
let dir: string;
let temporal: TestWorkflowEnvironment;
let front: Http2SecureServer;
let upstream: ClientHttp2Session;
let frontPort: number;
const seen: Array<{ path: string; authorization?: string; clientCn?: string }> = [];

/** A CA, a server certificate for localhost and a client certificate, made with openssl. */
async function makeCertificates(): Promise<void> {
  const o = (...args: string[]) => run('openssl', args, { cwd: dir });
  await o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=nightshift-test-ca');
  for (const [name, cn, ext] of [
    ['server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    ['client', 'nightshift-worker', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    await o('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    await writeFile(join(dir, `${name}.ext`), `${ext}\n`);
    await o('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nightshift-tls-'));
  await makeCertificates();
  temporal = await startDevServer({});
  upstream = h2connect(`http://${temporal.address}`);
  front = createSecureServer({
    key: await readFile(join(dir, 'server.key')),
    cert: await readFile(join(dir, 'server.crt')),
    ca: await readFile(join(dir, 'ca.crt')),
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: ['h2'],
  });
  front.on('stream', (stream, headers: IncomingHttpHeaders) => {
    const socket = stream.session?.socket as TLSSocket | undefined;
    seen.push({
      path: String(headers[':path']),
      authorization: headers.authorization,
      clientCn: socket?.getPeerCertificate()?.subject?.CN as string | undefined,
    });
    const forwarded: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && (!k.startsWith(':') || k === ':method' || k === ':path')) forwarded[k] = v;
    const req = upstream.request(forwarded);
    let trailers: Record<string, string | string[]> = {};
    req.on('response', (h) => {
      const out: Record<string, string | string[] | number> = {};
      for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = v as string | string[] | number;
      stream.respond(out, { waitForTrailers: true });
    });
    req.on('trailers', (t) => {
      trailers = Object.fromEntries(Object.entries(t).filter((e): e is [string, string | string[]] => e[1] !== undefined));
    });
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    req.on('data', (chunk: Buffer) => stream.write(chunk));
    req.on('end', () => stream.end());
    req.on('error', () => stream.close());
    stream.on('data', (chunk: Buffer) => req.write(chunk));
    stream.on('end', () => req.end());
    stream.on('error', () => req.close());
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  frontPort = (front.address() as { port: number }).port;
});

after(async () => {
  await new Promise<void>((r) => front?.close(() => r()));
  upstream?.close();
  await temporal?.teardown();
  await rm(dir, { recursive: true, force: true });
});

const configWith = (tls: unknown) =>
  parseConfig(
    { temporal: { address: `127.0.0.1:${frontPort}`, tls }, gateway: { prices: {} }, repos: { r: { url: 'x', github: 'a/b', testCommand: 't', budget: { minutes: 1, tokens: 1, usd: 1 } } } },
    dir,
  );

describe('Temporal over mutual TLS with an API key', { timeout: 120_000 }, () => {
  test('client and worker connect with the CA and client certificate, and send the API key on every call', async () => {
    const config = configWith({ caFile: 'ca.crt', certFile: 'client.crt', keyFile: 'client.key', serverName: 'localhost' });
    const client = await connectClient(config, { temporalApiKey: API_KEY });
    try {
      const info = await client.workflowService.getSystemInfo({});
      assert.ok(info.capabilities, 'the server answered through the TLS front');
      await client.workflowService.describeNamespace({ namespace: 'default' });
    } finally {
      await client.connection.close();
    }
    const beforeWorker = seen.length;
    const worker = await connectWorker(config, { temporalApiKey: API_KEY });
    await worker.close();
    assert.ok(seen.length > beforeWorker, "the worker's native connection made its calls through the TLS front");

    assert.ok(seen.length >= 3, `calls seen: ${seen.length}`);
    assert.ok(seen.every((s) => s.clientCn === 'nightshift-worker'), 'every call came with the client certificate');
    assert.ok(seen.every((s) => s.authorization === `Bearer ${API_KEY}`), JSON.stringify(seen.map((s) => [s.path, s.authorization ? 'auth' : 'none'])));
    assert.equal(redact(`key ${API_KEY}`), 'key [redacted]', 'the API key is a registered secret');
  });

  test('without the client certificate, or without the CA, the connection is refused', async () => {
    await assert.rejects(connectClient(configWith({ caFile: 'ca.crt', serverName: 'localhost' }), { temporalApiKey: API_KEY }).then((c) => c.workflowService.getSystemInfo({})));
    await assert.rejects(connectClient(configWith({ certFile: 'client.crt', keyFile: 'client.key', serverName: 'localhost' }), { temporalApiKey: API_KEY }).then((c) => c.workflowService.getSystemInfo({})));
  });

  test('config: certFile without keyFile is refused; paths resolve next to the config file', () => {
    assert.throws(() => configWith({ certFile: 'client.crt' }), /certFile and keyFile go together/);
    const c = configWith({ caFile: 'ca.crt' });
    assert.deepEqual(c.temporal.tls, { caFile: join(dir, 'ca.crt') });
  });
});
