/**
 * Prices from the bundled table of `@pydantic/genai-prices` with `gateway.prices` as overrides:
 * our conversion bills exactly what the library itself computes (cache reads and writes, the
 * long-context tier), config prices win, an unknown model is refused (scope, gateway), and the
 * real gateway meters a model that only the table prices.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { calcPrice } from '@pydantic/genai-prices';
import { scope } from '../../activities/scope.js';
import { parseConfig } from '../../worker/config.js';
import { priceTokens, resolvePrice, tablePrice, type ModelGateway } from '../../worker/gateway/index.js';
import { picoPrice, worstPrices } from '../../worker/gateway/meter.js';
import { post, startGateway } from '../helpers/gatewayHarness.js';

/** Our token split (uncached input) → the library's usage (input_tokens counts every input token). */
const libUsage = (u: { input: number; output: number; cacheRead: number; cacheWrite: number }) => ({
  input_tokens: u.input + u.cacheRead + u.cacheWrite,
  cache_read_tokens: u.cacheRead,
  cache_write_tokens: u.cacheWrite,
  output_tokens: u.output,
});

describe('price table', () => {
  const usages = [
    { input: 1200, output: 300, cacheRead: 0, cacheWrite: 0 },
    { input: 500, output: 2000, cacheRead: 40_000, cacheWrite: 8000 },
    // Above the long-context threshold (200k input tokens): the whole request at the premium tier.
    { input: 150_000, output: 4000, cacheRead: 60_000, cacheWrite: 10_000 },
  ];
  for (const [model, provider] of [['claude-sonnet-4-5', 'anthropic'], ['claude-haiku-4-5', 'anthropic'], ['gpt-5.5', 'openai'], ['gpt-5-mini', 'openai']] as const) {
    test(`${model}: our conversion bills what the library computes`, () => {
      const p = tablePrice(model, provider);
      assert.ok(p, `no table price for ${model}`);
      for (const u of usages) {
        // OpenAI reports no cache writes.
        const usage = provider === 'openai' ? { ...u, cacheWrite: 0 } : u;
        const lib = calcPrice(libUsage(usage), model, { providerId: provider });
        assert.ok(lib);
        const ours = priceTokens(usage, p);
        assert.ok(Math.abs(ours - lib.total_price) < 1e-9, `${model} ${JSON.stringify(usage)}: ours ${ours} vs library ${lib.total_price}`);
      }
    });
  }

  test('a dated snapshot is priced as its model; an unknown model has no price', () => {
    assert.deepEqual(tablePrice('claude-sonnet-4-5-20250929', 'anthropic'), tablePrice('claude-sonnet-4-5', 'anthropic'));
    assert.equal(tablePrice('claude-imaginary-9', 'anthropic'), undefined);
    assert.equal(resolvePrice({}, 'claude-imaginary-9', 'anthropic'), undefined);
  });

  test('gateway.prices overrides win over the table', () => {
    const override = { input: 1, output: 2 };
    assert.deepEqual(resolvePrice({ 'claude-sonnet-4-5': override }, 'claude-sonnet-4-5', 'anthropic'), { price: override, source: 'config' });
    assert.deepEqual(resolvePrice({ 'claude-sonnet-4-5': override }, 'claude-sonnet-4-5-20250929', 'anthropic'), { price: override, source: 'config' });
    assert.equal(resolvePrice({}, 'claude-sonnet-4-5', 'anthropic')?.source, 'table');
  });

  test('the worst-case reservation takes the long-context tier of a table price above its threshold', () => {
    const p = picoPrice(tablePrice('claude-sonnet-4-5', 'anthropic')!);
    const lc = tablePrice('claude-sonnet-4-5', 'anthropic')!.longContext!;
    const below = worstPrices(p, { api: 'anthropic', inputBound: 1000, ttl1h: false });
    const above = worstPrices(p, { api: 'anthropic', inputBound: lc.thresholdTokens + 1, ttl1h: true });
    assert.ok(above.input > below.input && above.output > below.output);
    assert.equal(above.input, Math.round(Math.max(lc.input, lc.cacheRead ?? 0, lc.cacheWrite ?? 0, lc.cacheWrite1h ?? 0) * 1e6));
    assert.equal(above.output, Math.round(lc.output * 1e6));
  });

  test('scope prices from the table without a config price, and refuses a model neither knows', () => {
    const config = parseConfig({ repos: { web: { url: 'https://example.com/web.git', github: 'acme/web', testCommand: 'npm test', budget: { minutes: 30, tokens: 100_000, usd: 5 } } } });
    const req = { source: { kind: 'cli' as const }, requester: 'me', repo: 'web', title: 'Fix the rounding of totals', task: 'Totals are off by a cent; the test shows it.' };
    assert.equal(scope(config, req, 'w-1').ok, true);
    const r = scope(config, { ...req, overrides: { model: 'claude-imaginary-9' } }, 'w-2');
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /model "claude-imaginary-9" has no price in gateway\.prices nor in the price table/);
  });
});

describe('the gateway meters from the table', () => {
  let server: Server;
  let gw: ModelGateway;
  const usage = { input_tokens: 2000, output_tokens: 500, cache_read_input_tokens: 10_000, cache_creation_input_tokens: 3000 };
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'ok' }], model: 'x', stop_reason: 'end_turn', usage }));
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    // An override for one model only: the other is priced by the table.
    gw = await startGateway(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { prices: { 'claude-opus-4-5': { input: 1, output: 1 } } });
  });
  after(async () => {
    await gw?.stop();
    server.closeAllConnections();
    await new Promise<void>((ok) => server.close(() => ok()));
  });

  async function spendOf(model: string): Promise<number> {
    const key = `run-${model}`;
    const { token } = gw.openRun(key, { tokens: 10_000_000, usd: 100 });
    const r = await post(gw.url, '/v1/messages', token, { model, max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.status, 200, r.text);
    return gw.closeRun(key).usd;
  }

  test('a model only the table knows is metered at the library price', async () => {
    const lib = calcPrice({ input_tokens: 15_000, cache_read_tokens: 10_000, cache_write_tokens: 3000, output_tokens: 500 }, 'claude-haiku-4-5', { providerId: 'anthropic' });
    assert.ok(lib);
    assert.ok(Math.abs((await spendOf('claude-haiku-4-5')) - lib.total_price) < 1e-9);
  });

  test('a config override wins, and a model neither knows is refused', async () => {
    // 1 USD per million for input, output; cache reads at the input price, writes at 1.25 × input (defaults).
    const expected = (2000 * 1 + 500 * 1 + 10_000 * 1 + 3000 * 1.25) / 1e6;
    assert.ok(Math.abs((await spendOf('claude-opus-4-5')) - expected) < 1e-12);
    const { token } = gw.openRun('run-unknown', { tokens: 10_000_000, usd: 100 });
    const r = await post(gw.url, '/v1/messages', token, { model: 'claude-imaginary-9', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.status, 400);
    assert.match(r.text, /has no price in gateway\.prices nor in the price table/);
    gw.closeRun('run-unknown');
  });
});
