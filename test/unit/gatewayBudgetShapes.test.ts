/**
 * The dollar cap holds for every request shape the gateway forwards: a property-style loop over
 * shapes (both APIs, streaming and not, tools, thinking, 5-minute and 1-hour cache writes, inputs
 * above a long-context threshold, concurrent requests up to and past the in-flight cap, abandoned
 * requests) against an honest scripted upstream. Prices are the table's, including cache-write TTLs
 * and long-context tiers; the test prices usage with its own arithmetic.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PriceTable } from '../../worker/config.js';
import { post, startGateway, until } from '../helpers/gatewayHarness.js';
import { RawUpstream, type RawRequest, type RawUsage } from '../helpers/rawUpstream.js';

const PRICES: PriceTable = {
  'claude-x': { input: 3, output: 15, cacheRead: 0.3, longContext: { thresholdTokens: 6000, input: 6, output: 22.5, cacheRead: 0.6 } },
  'gpt-x': { input: 1.25, output: 10, cacheRead: 0.125, longContext: { thresholdTokens: 8000, input: 2.5, output: 15 } },
};

/** USD of one answer's usage, by the documented rules (defaults: cache write 5m 1.25×, 1h 2× input). */
function usdOf(u: RawUsage, model: string): number {
  const base = PRICES[model]!;
  const total = u.input + (u.cacheRead ?? 0) + (u.cacheWrite5m ?? 0) + (u.cacheWrite1h ?? 0);
  const t = base.longContext && total > base.longContext.thresholdTokens ? base.longContext : base;
  return (u.input * t.input + u.output * t.output + (u.cacheRead ?? 0) * (t.cacheRead ?? t.input) + (u.cacheWrite5m ?? 0) * (t.cacheWrite ?? t.input * 1.25) + (u.cacheWrite1h ?? 0) * (t.cacheWrite1h ?? t.input * 2)) / 1e6;
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('budget over request shapes', () => {
  test('spend never exceeds the budget for any forwarded shape, and never under-counts what the upstream reported', async () => {
    const seed = Number(process.env.GATEWAY_PROPERTY_SEED ?? 20261130);
    const rnd = prng(seed);
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    const reported: Array<{ usage: RawUsage; model: string }> = [];
    // Honest: total input ≤ the forwarded body's bytes; 1-hour writes only when asked for; output ≤ the cap forwarded.
    const answer = (r: RawRequest): RawUsage | 'stall' => {
      const meta = r.body.metadata as { user_id?: string } | undefined;
      if (meta?.user_id === 'stall') return 'stall';
      const anthropic = r.path.startsWith('/v1/messages');
      const totalIn = int(0, r.bytes);
      const cacheRead = int(0, totalIn);
      let w5 = 0;
      let w1 = 0;
      if (anthropic) {
        const writes = int(0, totalIn - cacheRead);
        w1 = JSON.stringify(r.body).includes('"ttl":"1h"') ? int(0, writes) : 0;
        w5 = writes - w1;
      }
      const cap = Number(anthropic ? r.body.max_tokens : r.body.max_output_tokens);
      const usage: RawUsage = { input: totalIn - cacheRead - w5 - w1, cacheRead, cacheWrite5m: w5, cacheWrite1h: w1, output: int(0, cap) };
      reported.push({ usage, model: String(r.body.model) });
      return usage;
    };
    const upstream = new RawUpstream(answer, { delayMs: 15 });
    await upstream.start();
    const gw = await startGateway(upstream.url, { prices: PRICES, minOutputTokens: int(1, 1024), maxInFlightPerRun: 4 });
    const seen = { refused: 0, tooMany: 0, ok: 0, long: 0, ttl1h: 0, tools: 0, thinking: 0, json: 0 };
    const runs = 30;
    try {
      for (let r = 0; r < runs; r++) {
        const runKey = `shape-${r}`;
        const limits = { tokens: int(5_000, 1_000_000), usd: Number((rnd() * 1.5 + 0.001).toFixed(6)) };
        const token = gw.openRun(runKey, limits).token;
        const violations: string[] = [];
        gw.onSpend(runKey, (s) => {
          if (s.usd > limits.usd + 1e-12) violations.push(`usd ${s.usd} > ${limits.usd}`);
          if (s.tokens > limits.tokens) violations.push(`tokens ${s.tokens} > ${limits.tokens}`);
        });
        for (let batch = 0; batch < 5; batch++) {
          await Promise.all(
            Array.from({ length: int(1, 6) }, async () => {
              const api = rnd() < 0.5 ? 'anthropic' : 'openai';
              const stall = rnd() < 0.08;
              const stream = rnd() < 0.7;
              const long = rnd() < 0.3;
              const padding = 'x'.repeat(long ? int(8_000, 30_000) : int(10, 5_000));
              const cap = int(1, 12_000);
              const tools = rnd() < 0.5;
              let body: Record<string, unknown>;
              if (api === 'anthropic') {
                const ttl1h = rnd() < 0.4;
                const thinking = rnd() < 0.4 && cap > 2048;
                body = {
                  model: 'claude-x',
                  max_tokens: cap,
                  stream,
                  metadata: { user_id: stall ? 'stall' : 'u' },
                  system: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral', ...(ttl1h ? { ttl: '1h' } : {}) } }],
                  messages: [{ role: 'user', content: [{ type: 'text', text: padding, cache_control: { type: 'ephemeral' } }] }],
                  ...(tools ? { tools: [{ name: 'Bash', description: 'run', input_schema: { type: 'object' } }] } : {}),
                  ...(thinking ? { thinking: { type: 'enabled', budget_tokens: cap - 1 } } : {}),
                };
                if (ttl1h) seen.ttl1h++;
                if (thinking) seen.thinking++;
              } else {
                body = {
                  model: 'gpt-x',
                  stream,
                  store: false,
                  max_output_tokens: cap,
                  metadata: { user_id: stall ? 'stall' : 'u' },
                  input: [{ role: 'user', content: padding }],
                  ...(tools ? { tools: [{ type: 'function', name: 'exec', parameters: { type: 'object' } }] } : {}),
                };
              }
              if (long) seen.long++;
              if (tools) seen.tools++;
              if (!stream) seen.json++;
              const ac = new AbortController();
              if (stall) setTimeout(() => ac.abort(), int(1, 30));
              const res = await post(gw.url, api === 'anthropic' ? '/v1/messages' : '/v1/responses', token, body, {}, ac.signal).catch(() => undefined);
              if (res?.status === 402) seen.refused++;
              else if (res?.status === 429) seen.tooMany++;
              else if (res?.status === 200) seen.ok++;
              else if (res) assert.fail(`unexpected ${res.status}: ${res.text}`);
            }),
          );
          await until(() => gw.status(runKey).inFlight === 0);
        }
        const st = gw.status(runKey);
        assert.deepEqual(violations, [], `seed ${seed}, run ${r}`);
        assert.ok(st.spend.usd <= limits.usd + 1e-12, `seed ${seed}, run ${r}: usd ${st.spend.usd} > ${limits.usd}`);
        assert.ok(st.spend.tokens <= limits.tokens, `seed ${seed}, run ${r}: tokens ${st.spend.tokens} > ${limits.tokens}`);
        assert.equal(st.overruns, 0, `seed ${seed}, run ${r}: a reservation was below a priced answer`);
      }
      let gwUsd = 0;
      for (let r = 0; r < runs; r++) gwUsd += gw.spend(`shape-${r}`).usd;
      const expected = reported.reduce((sum, x) => sum + usdOf(x.usage, x.model), 0);
      assert.ok(gwUsd >= expected - 1e-9, `gateway ${gwUsd} < reported ${expected}`);
      // Every shape was exercised, and the budgets and the in-flight cap bit.
      for (const [k, v] of Object.entries(seen)) assert.ok(v > 5, `${k}: ${v} (${JSON.stringify(seen)})`);
    } finally {
      await gw.stop();
      await upstream.stop();
    }
  });

  test('a 1-hour cache write and a long-context request are metered at their own prices', async () => {
    const usage: RawUsage = { input: 5000, output: 100, cacheRead: 1000, cacheWrite5m: 200, cacheWrite1h: 300 };
    const upstream = new RawUpstream(() => usage);
    await upstream.start();
    const gw = await startGateway(upstream.url, { prices: PRICES });
    try {
      const token = gw.openRun('exact', { tokens: 1e7, usd: 100 }).token;
      const body = { model: 'claude-x', max_tokens: 1000, stream: true, messages: [{ role: 'user', content: 'hi' }] };
      assert.equal((await post(gw.url, '/v1/messages', token, body)).status, 200);
      // 6500 input tokens > 6000: the long tier (input 6, output 22.5, read 0.6, 5m 7.5, 1h 12).
      const want = (5000 * 6 + 100 * 22.5 + 1000 * 0.6 + 200 * 7.5 + 300 * 12) / 1e6;
      assert.ok(Math.abs(gw.spend('exact').usd - want) < 1e-12, `${gw.spend('exact').usd} vs ${want}`);
      assert.equal(gw.spend('exact').cacheWriteTokens, 500);
    } finally {
      await gw.stop();
      await upstream.stop();
    }
  });
});
