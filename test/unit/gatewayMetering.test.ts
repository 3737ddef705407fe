/**
 * Metering of the model gateway on recorded streams (test/fixtures/sse, see SOURCES.md): each is
 * replayed from a loopback upstream through the gateway; the client must receive the same bytes
 * and the run's spend must be the reported usage priced by the table.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { findPrice, UsageMeter, type ModelGateway } from '../../worker/gateway/index.js';
import { expectedUsd, post, startGateway, TEST_PRICES, until } from '../helpers/gatewayHarness.js';
import { fixturePath } from '../helpers/paths.js';

interface Captured {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback upstream that answers every POST with `next.bytes`, in small chunks, and records the request. */
class ReplayUpstream {
  next: { bytes: Buffer; contentType: string; chunk: number; hold?: Promise<void> } = { bytes: Buffer.alloc(0), contentType: 'text/event-stream', chunk: 7 };
  readonly seen: Captured[] = [];
  private server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', async () => {
      this.seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(parts).toString('utf8') });
      const { bytes, contentType, chunk, hold } = this.next;
      res.writeHead(200, { 'content-type': contentType });
      for (let i = 0; i < bytes.length; i += chunk) {
        res.write(bytes.subarray(i, i + chunk));
        if (hold && i === 0) await hold;
        else await new Promise((r) => setImmediate(r));
      }
      res.end();
    });
  });
  async start(): Promise<string> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', () => ok()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}

const fixture = (name: string) => readFileSync(fixturePath('sse', name));

describe('gateway metering on recorded streams', () => {
  const upstream = new ReplayUpstream();
  let gw: ModelGateway;
  let n = 0;

  before(async () => {
    const url = await upstream.start();
    gw = await startGateway(url, { upstreamKeys: { anthropic: 'sk-ant-real-key', openai: 'sk-openai-real-key' } });
  });
  after(async () => {
    await gw.stop();
    await upstream.stop();
  });

  /** Replays `file` for one request of a fresh run; returns the run's spend and the bytes the client got. */
  async function replay(file: string, api: 'anthropic' | 'openai', model: string, contentType = 'text/event-stream') {
    const runKey = `run-${++n}`;
    const { token } = gw.openRun(runKey, { tokens: 10_000_000, usd: 100 });
    const bytes = fixture(file);
    upstream.next = { bytes, contentType, chunk: 7 };
    const path = api === 'anthropic' ? '/v1/messages' : '/v1/responses';
    const body =
      api === 'anthropic'
        ? { model, max_tokens: 1024, stream: contentType.includes('event-stream'), messages: [{ role: 'user', content: 'Hello' }] }
        : { model, stream: true, input: [{ role: 'user', content: 'What is the weather in New York City, USA?' }] };
    const res = await fetch(gw.url + path, {
      method: 'POST',
      headers: api === 'anthropic' ? { 'x-api-key': token, 'content-type': 'application/json' } : { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), contentType);
    const received = Buffer.from(await res.arrayBuffer());
    await until(() => gw.status(runKey).inFlight === 0);
    return { runKey, received, bytes, spend: gw.spend(runKey) };
  }

  const cases: Array<{ file: string; api: 'anthropic' | 'openai'; model: string; usage: { input: number; output: number; cacheRead?: number; cacheWrite?: number } }> = [
    { file: 'anthropic-basic.docs.sse', api: 'anthropic', model: 'claude-sonnet-4-5', usage: { input: 25, output: 15 } },
    { file: 'anthropic-tool-use.docs.sse', api: 'anthropic', model: 'claude-sonnet-4-5', usage: { input: 472, output: 89 } },
    // message_delta repeats the input fields (2679 → 10682): the latest value counts, never the sum.
    { file: 'anthropic-web-search.docs.sse', api: 'anthropic', model: 'claude-sonnet-4-5', usage: { input: 10682, output: 510 } },
    { file: 'openai-function-call.gpt-5.swiftagent.sse', api: 'openai', model: 'gpt-5', usage: { input: 75, output: 155 } },
    { file: 'openai-text.gpt-5.swiftagent.sse', api: 'openai', model: 'gpt-5', usage: { input: 114, output: 15 } },
  ];

  for (const c of cases) {
    test(`${c.file}: bytes pass unchanged, spend = reported usage priced by the table`, async () => {
      const { received, bytes, spend } = await replay(c.file, c.api, c.model);
      assert.ok(received.equals(bytes), 'the client receives the upstream bytes unchanged');
      assert.equal(spend.inputTokens, c.usage.input);
      assert.equal(spend.outputTokens, c.usage.output);
      assert.equal(spend.cacheReadTokens, c.usage.cacheRead ?? 0);
      assert.equal(spend.cacheWriteTokens, c.usage.cacheWrite ?? 0);
      assert.equal(spend.tokens, c.usage.input + c.usage.output + (c.usage.cacheRead ?? 0) + (c.usage.cacheWrite ?? 0));
      assert.ok(Math.abs(spend.usd - expectedUsd(c.usage, c.model)) < 1e-12, `usd ${spend.usd} vs ${expectedUsd(c.usage, c.model)}`);
      assert.equal(spend.requests, 1);
      assert.equal(spend.refusals, 0);
    });
  }

  test('non-streaming Anthropic JSON: usage read from the body', async () => {
    const { received, bytes, spend } = await replay('anthropic-message.docs.json', 'anthropic', 'claude-sonnet-4-5', 'application/json');
    assert.ok(received.equals(bytes));
    assert.equal(spend.inputTokens, 2095);
    assert.equal(spend.outputTokens, 503);
    assert.ok(Math.abs(spend.usd - expectedUsd({ input: 2095, output: 503 }, 'claude-sonnet-4-5')) < 1e-12);
  });

  test('the stream is passed through as it arrives, and spend is live before it ends', async () => {
    const runKey = 'live';
    const { token } = gw.openRun(runKey, { tokens: 10_000_000, usd: 100 });
    let release!: () => void;
    const hold = new Promise<void>((r) => (release = r));
    const bytes = fixture('anthropic-tool-use.docs.sse');
    const firstEventEnd = bytes.indexOf('\n\n') + 2;
    // The upstream sends the whole message_start event, then holds the rest until released.
    upstream.next = { bytes, contentType: 'text/event-stream', chunk: firstEventEnd, hold };
    const res = await fetch(gw.url + '/v1/messages', {
      method: 'POST',
      headers: { 'x-api-key': token, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'weather?' }] }),
    });
    const reader = res.body!.getReader();
    const got: Buffer[] = [];
    let size = 0;
    while (size < firstEventEnd) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'the first event arrives while the upstream still holds the rest');
      got.push(Buffer.from(value));
      size += value.byteLength;
    }
    assert.equal(Buffer.concat(got).toString(), bytes.subarray(0, firstEventEnd).toString());
    await until(() => gw.spend(runKey).inputTokens === 472);
    assert.equal(gw.status(runKey).inFlight, 1);
    release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      got.push(Buffer.from(value));
    }
    assert.ok(Buffer.concat(got).equals(bytes));
    await until(() => gw.status(runKey).inFlight === 0);
    assert.equal(gw.spend(runKey).outputTokens, 89);
  });

  test('the run token is replaced by the real key; other headers and the query string pass through', async () => {
    const { token } = gw.openRun('headers', { tokens: 10_000_000, usd: 100 });
    upstream.next = { bytes: fixture('anthropic-basic.docs.sse'), contentType: 'text/event-stream', chunk: 64 };
    const before = upstream.seen.length;
    const r1 = await post(gw.url, '/v1/messages?beta=true', token, { model: 'claude-sonnet-4-5', max_tokens: 100, stream: true, messages: [] }, {
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
    });
    assert.equal(r1.status, 200);
    const a = upstream.seen[before]!;
    assert.equal(a.url, '/v1/messages?beta=true');
    assert.equal(a.headers['x-api-key'], 'sk-ant-real-key');
    assert.equal(a.headers.authorization, undefined);
    assert.equal(a.headers['anthropic-version'], '2023-06-01');
    assert.equal(a.headers['anthropic-beta'], 'claude-code-20250219,interleaved-thinking-2025-05-14');
    assert.ok(!JSON.stringify(a.headers).includes(token), 'the run token never reaches the upstream');

    upstream.next = { bytes: fixture('openai-text.gpt-5.swiftagent.sse'), contentType: 'text/event-stream', chunk: 64 };
    const r2 = await post(gw.url, '/v1/responses', token, { model: 'gpt-5', stream: true, input: [] });
    assert.equal(r2.status, 200);
    const o = upstream.seen[before + 1]!;
    assert.equal(o.headers.authorization, 'Bearer sk-openai-real-key');
    assert.equal(o.headers['x-api-key'], undefined);
    assert.ok(!JSON.stringify(o.headers).includes(token));
    await until(() => gw.status('headers').inFlight === 0);
  });

  test('count_tokens is forwarded and not metered', async () => {
    const { token } = gw.openRun('count', { tokens: 10_000_000, usd: 100 });
    upstream.next = { bytes: Buffer.from('{"input_tokens":2095}'), contentType: 'application/json', chunk: 100 };
    const r = await post(gw.url, '/v1/messages/count_tokens?beta=true', token, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Hello, world' }] });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { input_tokens: 2095 });
    assert.equal(gw.spend('count').tokens, 0);
    assert.equal(gw.spend('count').requests, 0);
  });

  test('onSpend is called with the settled spend', async () => {
    const { token } = gw.openRun('listen', { tokens: 10_000_000, usd: 100 });
    const seen: number[] = [];
    const off = gw.onSpend('listen', (s) => seen.push(s.tokens));
    upstream.next = { bytes: fixture('anthropic-basic.docs.sse'), contentType: 'text/event-stream', chunk: 64 };
    await post(gw.url, '/v1/messages', token, { model: 'claude-sonnet-4-5', max_tokens: 100, stream: true, messages: [] });
    await until(() => seen.length === 1);
    assert.deepEqual(seen, [40]);
    off();
    await post(gw.url, '/v1/messages', token, { model: 'claude-sonnet-4-5', max_tokens: 100, stream: true, messages: [] });
    await until(() => gw.status('listen').inFlight === 0);
    assert.deepEqual(seen, [40]);
  });
});

describe('UsageMeter', () => {
  const feedAll = (api: 'anthropic' | 'openai', bytes: Buffer, chunk: number) => {
    const m = new UsageMeter(api, 'text/event-stream');
    for (let i = 0; i < bytes.length; i += chunk) m.feed(bytes.subarray(i, i + chunk));
    return m.end();
  };

  test('any chunking of a stream meters the same usage', () => {
    const a = fixture('anthropic-web-search.docs.sse');
    const o = fixture('openai-function-call.gpt-5.swiftagent.sse');
    for (let chunk = 1; chunk <= 64; chunk++) {
      assert.deepEqual(feedAll('anthropic', a, chunk), { input: 10682, output: 510, cacheRead: 0, cacheWrite: 0 });
      assert.deepEqual(feedAll('openai', o, chunk), { input: 75, output: 155, cacheRead: 0, cacheWrite: 0 });
    }
  });

  test('CRLF framing and a last event without its blank line are metered', () => {
    const text = fixture('anthropic-basic.docs.sse').toString().replace(/\n/g, '\r\n').trimEnd();
    assert.deepEqual(feedAll('anthropic', Buffer.from(text), 5), { input: 25, output: 15, cacheRead: 0, cacheWrite: 0 });
  });

  test('Anthropic cache fields are metered separately (synthetic stream of the documented grammar)', () => {
    const ev = (d: object) => `event: x\ndata: ${JSON.stringify(d)}\n\n`;
    const s =
      ev({ type: 'message_start', message: { usage: { input_tokens: 12, cache_creation_input_tokens: 3000, cache_read_input_tokens: 40000, output_tokens: 1 } } }) +
      ev({ type: 'message_delta', usage: { output_tokens: 230 } });
    assert.deepEqual(feedAll('anthropic', Buffer.from(s), 9), { input: 12, output: 230, cacheRead: 40000, cacheWrite: 3000 });
  });

  test('OpenAI cached tokens are split out of input_tokens (synthetic event of the documented grammar)', () => {
    const s = `event: response.completed\ndata: ${JSON.stringify({
      type: 'response.completed',
      response: { usage: { input_tokens: 1000, input_tokens_details: { cached_tokens: 800 }, output_tokens: 50, total_tokens: 1050 } },
    })}\n\n`;
    const u = feedAll('openai', Buffer.from(s), 11);
    assert.deepEqual(u, { input: 200, output: 50, cacheRead: 800, cacheWrite: 0 });
    // Priced at the cache-read price: 200 × 1.25 + 800 × 0.125 + 50 × 10 per million.
    assert.ok(Math.abs(expectedUsd({ input: 200, output: 50, cacheRead: 800 }, 'gpt-5') - (200 * 1.25 + 800 * 0.125 + 50 * 10) / 1e6) < 1e-15);
  });
});

test('findPrice: exact names, then dated snapshots of a priced name, nothing else', () => {
  assert.equal(findPrice(TEST_PRICES, 'claude-sonnet-4-5'), TEST_PRICES['claude-sonnet-4-5']);
  assert.equal(findPrice(TEST_PRICES, 'claude-sonnet-4-5-20250929'), TEST_PRICES['claude-sonnet-4-5']);
  assert.equal(findPrice(TEST_PRICES, 'gpt-5-2025-08-07'), TEST_PRICES['gpt-5']);
  assert.equal(findPrice(TEST_PRICES, 'gpt-5.5'), TEST_PRICES['gpt-5.5']);
  assert.equal(findPrice(TEST_PRICES, 'gpt-5-mini'), undefined, 'another model of the family is not priced as its prefix');
  assert.equal(findPrice(TEST_PRICES, 'claude-opus-4-1'), undefined);
  assert.equal(findPrice(TEST_PRICES, 'gpt-55'), undefined);
});
