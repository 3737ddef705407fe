/**
 * Budget enforcement of the model gateway: refusal and trimming before forwarding, reservations
 * under concurrency, authentication, unpriced models, an unreachable upstream, and a randomized
 * check that no run ever spends more than its budget.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ZERO_SPEND, type Spend } from '../../workflows/types.js';
import { BODY_EDIT_SLACK, GatewayError, type ModelGateway } from '../../worker/gateway/index.js';
import { ScriptedModelServer, type ScriptStep } from '../../devstack/scriptedModel.js';
import { expectedUsd, post, startGateway, until } from '../helpers/gatewayHarness.js';

const SONNET = 'claude-sonnet-4-5';
/** Pico-dollars per token of the test prices (USD per million × 1e6), as the gateway computes worst cases. */
const PICO = { sonnetInMax: 3.75e6 /* cache-write price is the highest input price */, sonnetOut: 15e6, gptInMax: 1.25e6, gptOut: 10e6 };

const anthropicBody = (extra: Record<string, unknown> = {}) => ({
  model: SONNET,
  max_tokens: 32000,
  stream: true,
  messages: [{ role: 'user', content: 'Fix the failing test in src/parser.ts, please.' }],
  ...extra,
});

describe('gateway budget', () => {
  const model = new ScriptedModelServer({ script: () => ({ text: 'ok', usage: { input: 100, output: 20 } }) });
  let gw: ModelGateway;
  let n = 0;
  const fresh = (limits: { tokens: number; usd: number }, initial?: Spend) => {
    const runKey = `b-${++n}`;
    return { runKey, token: gw.openRun(runKey, limits, initial).token };
  };

  before(async () => {
    await model.start();
    gw = await startGateway(model.url);
  });
  after(async () => {
    await gw.stop();
    await model.stop();
  });

  test('a request that cannot fit even with the minimum output is refused in the Anthropic format, with the breach recorded', async () => {
    const { runKey, token } = fresh({ tokens: 1_000_000, usd: 0.0001 });
    const before = model.requests.length;
    const r = await post(gw.url, '/v1/messages?beta=true', token, anthropicBody());
    assert.equal(r.status, 402);
    assert.equal(r.headers.get('x-should-retry'), 'false');
    const body = r.json as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'billing_error');
    assert.match(body.error.message, /^Nightshift budget exhausted: spent \$0\.0000 of \$0\.0001/);
    assert.equal(model.requests.length, before, 'nothing was forwarded');
    assert.deepEqual(gw.breach(runKey), { kind: 'usd', spent: 0, cap: 0.0001 });
    assert.equal(gw.spend(runKey).refusals, 1);
    assert.equal(gw.spend(runKey).requests, 0);
  });

  test('the OpenAI refusal uses the OpenAI error format', async () => {
    const { runKey, token } = fresh({ tokens: 1_000_000, usd: 0.00001 });
    const r = await post(gw.url, '/v1/responses', token, { model: 'gpt-5', stream: true, input: [] });
    assert.equal(r.status, 402);
    const body = r.json as { error: { message: string; type: string; code: string; param: null } };
    assert.match(body.error.message, /^Nightshift budget exhausted: spent \$0\.0000 of \$0\.0000/);
    assert.equal(body.error.code, 'budget_exhausted');
    assert.equal(body.error.type, 'insufficient_quota');
    assert.equal(body.error.param, null);
    assert.equal(gw.breach(runKey)?.kind, 'usd');
  });

  test('a token budget refuses in tokens', async () => {
    const { runKey, token } = fresh({ tokens: 500, usd: 100 });
    const r = await post(gw.url, '/v1/messages', token, anthropicBody());
    assert.equal(r.status, 402);
    assert.match((r.json as { error: { message: string } }).error.message, /^Nightshift budget exhausted: spent 0 of 500 tokens/);
    assert.deepEqual(gw.breach(runKey), { kind: 'tokens', spent: 0, cap: 500 });
  });

  test('max_tokens is lowered exactly to what fits (and the thinking budget below it)', async () => {
    const usd = 0.05;
    const { runKey, token } = fresh({ tokens: 1_000_000, usd });
    const body = anthropicBody({ thinking: { type: 'enabled', budget_tokens: 31999 } });
    const bytes = Buffer.byteLength(JSON.stringify(body));
    const inputBound = bytes + BODY_EDIT_SLACK;
    const expected = Math.floor((usd * 1e12 - inputBound * PICO.sonnetInMax) / PICO.sonnetOut);
    assert.ok(expected >= 1024 && expected < 32000, `test setup: ${expected}`);
    const r = await post(gw.url, '/v1/messages', token, body);
    assert.equal(r.status, 200);
    const forwarded = model.requests.at(-1)!.body as { max_tokens: number; thinking: { budget_tokens: number } };
    assert.equal(forwarded.max_tokens, expected);
    assert.equal(forwarded.thinking.budget_tokens, expected - 1);
    // The reservation could not have overshot: input bound at the dearest input price + the new cap.
    assert.ok(inputBound * PICO.sonnetInMax + forwarded.max_tokens * PICO.sonnetOut <= usd * 1e12);
    assert.ok(inputBound * PICO.sonnetInMax + (forwarded.max_tokens + 1) * PICO.sonnetOut > usd * 1e12);
    await until(() => gw.status(runKey).inFlight === 0);
    const s = gw.spend(runKey);
    assert.equal(s.refusals, 1, 'a trimmed request counts as a refusal');
    assert.equal(s.requests, 1);
    assert.ok(Math.abs(s.usd - expectedUsd({ input: 100, output: 20 }, SONNET)) < 1e-12);
    assert.equal(gw.breach(runKey), undefined, 'trimming is not a breach');
  });

  test('a token budget trims by tokens', async () => {
    const { token } = fresh({ tokens: 5000, usd: 100 });
    const body = anthropicBody();
    const inputBound = Buffer.byteLength(JSON.stringify(body)) + BODY_EDIT_SLACK;
    const r = await post(gw.url, '/v1/messages', token, body);
    assert.equal(r.status, 200);
    assert.equal((model.requests.at(-1)!.body as { max_tokens: number }).max_tokens, 5000 - inputBound);
  });

  test('a cap that would have to go below minOutputTokens is a refusal', async () => {
    const body = anthropicBody();
    const inputBound = Buffer.byteLength(JSON.stringify(body)) + BODY_EDIT_SLACK;
    // Room for exactly 1023 output tokens.
    const { runKey, token } = fresh({ tokens: inputBound + 1023, usd: 100 });
    const r = await post(gw.url, '/v1/messages', token, body);
    assert.equal(r.status, 402);
    assert.equal(gw.breach(runKey)?.kind, 'tokens');
    // A request asking for less than the minimum is served when it fits as it is.
    const small = anthropicBody({ max_tokens: 500 });
    const { token: t2 } = fresh({ tokens: Buffer.byteLength(JSON.stringify(small)) + BODY_EDIT_SLACK + 500, usd: 100 });
    const r2 = await post(gw.url, '/v1/messages', t2, small);
    assert.equal(r2.status, 200);
    assert.equal((model.requests.at(-1)!.body as { max_tokens: number }).max_tokens, 500);
  });

  test('OpenAI: max_output_tokens is set when absent, and lowered to fit', async () => {
    const { token } = fresh({ tokens: 10_000_000, usd: 100 });
    const body = { model: 'gpt-5', stream: true, input: [{ role: 'user', content: 'hi' }] };
    assert.equal((await post(gw.url, '/v1/responses', token, body)).status, 200);
    assert.equal((model.requests.at(-1)!.body as { max_output_tokens: number }).max_output_tokens, 32000);

    const usd = 0.02;
    const { token: t2 } = fresh({ tokens: 10_000_000, usd });
    const inputBound = Buffer.byteLength(JSON.stringify(body)) + BODY_EDIT_SLACK;
    assert.equal((await post(gw.url, '/v1/responses', t2, body)).status, 200);
    assert.equal((model.requests.at(-1)!.body as { max_output_tokens: number }).max_output_tokens, Math.floor((usd * 1e12 - inputBound * PICO.gptInMax) / PICO.gptOut));
  });

  test('spend carried in from before a restart counts against the budget', async () => {
    const carried: Spend = { ...ZERO_SPEND, inputTokens: 1000, outputTokens: 100, tokens: 1100, usd: 0.0499, requests: 4 };
    const { runKey, token } = fresh({ tokens: 1_000_000, usd: 0.05 }, carried);
    assert.deepEqual(gw.spend(runKey), carried);
    const r = await post(gw.url, '/v1/messages', token, anthropicBody());
    assert.equal(r.status, 402);
    assert.match((r.json as { error: { message: string } }).error.message, /spent \$0\.0499 of \$0\.0500/);
  });

  test('re-registering a known run keeps its live spend and revokes the old token', async () => {
    const { runKey, token } = fresh({ tokens: 1_000_000, usd: 10 });
    assert.equal((await post(gw.url, '/v1/messages', token, anthropicBody())).status, 200);
    await until(() => gw.status(runKey).inFlight === 0);
    const { token: token2 } = gw.openRun(runKey, { tokens: 1_000_000, usd: 10 }, ZERO_SPEND);
    assert.equal(gw.spend(runKey).tokens, 120);
    assert.equal((await post(gw.url, '/v1/messages', token, anthropicBody())).status, 401);
    assert.equal((await post(gw.url, '/v1/messages', token2, anthropicBody())).status, 200);
  });

  test('unknown, missing and revoked tokens get 401 in each API format', async () => {
    const a = await post(gw.url, '/v1/messages', 'nsr_not-a-token', anthropicBody());
    assert.equal(a.status, 401);
    assert.deepEqual((a.json as { type: string; error: { type: string } }).type, 'error');
    assert.equal((a.json as { error: { type: string } }).error.type, 'authentication_error');
    const o = await post(gw.url, '/v1/responses', 'nsr_not-a-token', { model: 'gpt-5', input: [] });
    assert.equal(o.status, 401);
    assert.equal((o.json as { error: { code: string } }).error.code, 'invalid_api_key');
    assert.equal((await post(gw.url, '/v1/messages', undefined, anthropicBody())).status, 401);

    const { runKey, token } = fresh({ tokens: 1_000_000, usd: 10 });
    // Claude Code sends x-api-key; Codex sends a Bearer token: both identify the run on either route.
    assert.equal((await post(gw.url, '/v1/messages', undefined, anthropicBody(), { authorization: `Bearer ${token}` })).status, 200);
    await until(() => gw.status(runKey).inFlight === 0);
    const closed = gw.closeRun(runKey);
    assert.equal(closed.requests, 1);
    assert.equal((await post(gw.url, '/v1/messages', token, anthropicBody())).status, 401);
  });

  test('a model without a price is refused before forwarding', async () => {
    const { runKey, token } = fresh({ tokens: 1_000_000, usd: 10 });
    const before = model.requests.length;
    const r = await post(gw.url, '/v1/messages', token, anthropicBody({ model: 'claude-opus-9' }));
    assert.equal(r.status, 400);
    assert.match((r.json as { error: { message: string } }).error.message, /model "claude-opus-9" has no price .* cannot be budgeted/);
    // gpt-5-mini is priced by the bundled table now: a model no table knows.
    const o = await post(gw.url, '/v1/responses', token, { model: 'gpt-imaginary-9', input: [] });
    assert.equal(o.status, 400);
    assert.equal((o.json as { error: { code: string } }).error.code, 'model_not_priced');
    assert.equal(model.requests.length, before);
    assert.equal(gw.spend(runKey).requests, 0);
  });

  test('a client that goes away after sending is charged its reservation (the provider may bill it); closeRun aborts stalled requests', async () => {
    model.setScript(() => ({ stall: true }));
    try {
      const { runKey, token } = fresh({ tokens: 1_000_000, usd: 10 });
      const ac = new AbortController();
      const pending = post(gw.url, '/v1/messages', token, anthropicBody(), {}, ac.signal).catch((e: unknown) => e);
      await until(() => gw.status(runKey).inFlight === 1);
      const reserved = gw.status(runKey).reserved.usd;
      assert.ok(reserved > 0);
      ac.abort();
      await pending;
      await until(() => gw.status(runKey).inFlight === 0);
      assert.equal(gw.status(runKey).reserved.usd, 0, 'the reservation is settled');
      assert.ok(Math.abs(gw.spend(runKey).usd - reserved) < 1e-9, 'and charged in full, never less than the provider may bill');

      const pending2 = post(gw.url, '/v1/messages', token, anthropicBody()).catch((e: unknown) => e);
      await until(() => gw.status(runKey).inFlight === 1);
      gw.closeRun(runKey);
      const closedAnswer = (await pending2) as { status: number; json: { error: { message: string } } };
      assert.equal(closedAnswer.status, 401, 'the waiting client is told, not left hanging');
      assert.match(closedAnswer.json.error.message, /the run was closed/);
      await until(() => gw.status(runKey).inFlight === 0);
    } finally {
      model.setScript(() => ({ text: 'ok', usage: { input: 100, output: 20 } }));
    }
  });

  test('concurrent requests cannot overshoot together: reservations hold the worst case', async () => {
    // An upstream that holds every request, then reports the worst honest usage:
    // input = body bytes, output = the cap it was given.
    const held: Array<() => void> = [];
    const upstream: Server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(parts);
        const body = JSON.parse(raw.toString()) as { max_tokens: number };
        held.push(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ type: 'message', content: [], usage: { input_tokens: raw.length, output_tokens: body.max_tokens } }));
        });
      });
    });
    await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', () => ok()));
    const gw2 = await startGateway(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    try {
      const body = anthropicBody({ max_tokens: 4000, stream: false });
      const worst = (Buffer.byteLength(JSON.stringify(body)) + BODY_EDIT_SLACK) * PICO.sonnetInMax + 4000 * PICO.sonnetOut;
      const usd = (2.5 * worst) / 1e12;
      const { token } = gw2.openRun('conc', { tokens: 10_000_000, usd });
      let refused = 0;
      const results = Array.from({ length: 10 }, () =>
        post(gw2.url, '/v1/messages', token, body).then((r) => {
          if (r.status === 402) refused++;
          return r;
        }),
      );
      // Every request is decided (forwarded and held, or refused) before any answer is released.
      await until(() => held.length + refused === 10);
      const st = gw2.status('conc');
      assert.ok(st.reserved.usd <= usd, `reserved ${st.reserved.usd} ≤ ${usd}`);
      assert.ok(held.length >= 2 && held.length < 10, `forwarded ${held.length}`);
      for (const release of held) release();
      const answers = await Promise.all(results);
      const ok = answers.filter((a) => a.status === 200).length;
      assert.equal(ok, held.length);
      assert.equal(answers.filter((a) => a.status === 402).length, 10 - ok);
      await until(() => gw2.status('conc').inFlight === 0);
      const s = gw2.spend('conc');
      assert.ok(s.usd <= usd, `spent ${s.usd} of ${usd}`);
      assert.equal(gw2.status('conc').overruns, 0);
      // Without reservations, ten worst cases would have been forwarded: four times the budget.
      assert.ok((10 * worst) / 1e12 > 3 * usd);
    } finally {
      await gw2.stop();
      upstream.closeAllConnections();
      await new Promise<void>((ok) => upstream.close(() => ok()));
    }
  });

  test('a stream cut off after the upstream accepted it is charged its whole reservation, never less', async () => {
    // The upstream answers 200, sends message_start (input usage) and then holds: the client
    // (e.g. a killed sandbox) goes away before the final usage. The provider may have billed
    // output already, so the gateway charges the reservation.
    const upstream: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: message_start\ndata: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":50,"output_tokens":1}}}\n\n');
      });
    });
    await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', () => ok()));
    const gw2 = await startGateway(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    try {
      const { token } = gw2.openRun('cut', { tokens: 10_000_000, usd: 100 });
      const body = anthropicBody({ max_tokens: 2000, stream: true });
      const ac = new AbortController();
      const pending = post(gw2.url, '/v1/messages', token, body, {}, ac.signal).catch((e: unknown) => e);
      await until(() => gw2.status('cut').inFlight === 1 && gw2.spend("cut").inputTokens === 50);
      const reservedUsd = gw2.status('cut').reserved.usd;
      ac.abort();
      await pending;
      await until(() => gw2.status('cut').inFlight === 0);
      const s = gw2.spend('cut');
      assert.ok(Math.abs(s.usd - reservedUsd) < 1e-9, `charged ${s.usd}, reserved ${reservedUsd}`);
      assert.equal(s.outputTokens, 2000, 'the whole output cap is counted');
      assert.ok(s.inputTokens >= 50);
      assert.equal(gw2.status('cut').overruns, 0);
    } finally {
      await gw2.stop();
      upstream.closeAllConnections();
      await new Promise<void>((ok) => upstream.close(() => ok()));
    }
  });

  test('an unreachable upstream answers 502 in the API format and records upstream_unreachable', async () => {
    const dead: Server = createServer();
    await new Promise<void>((ok) => dead.listen(0, '127.0.0.1', () => ok()));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((ok) => dead.close(() => ok()));
    const gw2 = await startGateway(deadUrl);
    try {
      const { token } = gw2.openRun('down', { tokens: 1_000_000, usd: 10 });
      const r = await post(gw2.url, '/v1/messages', token, anthropicBody());
      assert.equal(r.status, 502);
      const body = r.json as { type: string; error: { type: string; message: string } };
      assert.equal(body.type, 'error');
      assert.equal(body.error.type, 'api_error');
      assert.match(body.error.message, /upstream anthropic API unreachable/);
      const err = gw2.lastUpstreamError('down');
      assert.ok(err instanceof GatewayError);
      assert.equal(err.code, 'upstream_unreachable');
      assert.equal(err.upstream, 'anthropic');
      assert.equal(gw2.status('down').inFlight, 0);
      assert.equal(gw2.status('down').reserved.usd, 0);
      assert.equal(gw2.spend('down').usd, 0);

      const o = await post(gw2.url, '/v1/responses', token, { model: 'gpt-5', input: [] });
      assert.equal(o.status, 502);
      assert.equal((o.json as { error: { code: string } }).error.code, 'upstream_unreachable');
      assert.equal(gw2.lastUpstreamError('down')?.upstream, 'openai');
    } finally {
      await gw2.stop();
    }
  });

  test('spend() and friends of an unknown run throw a typed error', () => {
    assert.throws(() => gw.spend('nope'), (e: unknown) => e instanceof GatewayError && e.code === 'unknown_run');
  });
});

/** mulberry32: a small seeded PRNG, so that a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('randomized scripted runs', () => {
  test('no run ever spends more than its budget, and the gateway never meters less than the model reported', async () => {
    const seed = Number(process.env.GATEWAY_PROPERTY_SEED ?? 20261120);
    const rnd = prng(seed);
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    // The scripted model reports honest random usage: input ≤ the forwarded body's bytes (split among
    // uncached, cache read and cache write), output ≤ the cap it was given. The step is drawn per request.
    const stepFor = (ctx: { protocol: 'anthropic' | 'openai'; request: unknown }): ScriptStep => {
      const body = ctx.request as { max_tokens?: number; max_output_tokens?: number; metadata?: { kind?: string } };
      if (body.metadata?.kind === 'stall') return { stall: true };
      if (body.metadata?.kind === 'error') return { error: { status: 500, message: 'scripted upstream error' } };
      const bytes = Buffer.byteLength(JSON.stringify(ctx.request));
      const totalIn = int(0, bytes);
      const cacheRead = int(0, totalIn);
      const cacheWrite = ctx.protocol === 'anthropic' ? int(0, totalIn - cacheRead) : 0;
      const cap = (ctx.protocol === 'anthropic' ? body.max_tokens : body.max_output_tokens) ?? 0;
      return { text: 'ok', usage: { input: totalIn - cacheRead - cacheWrite, cacheRead, cacheWrite, output: int(0, cap) } };
    };
    const model = new ScriptedModelServer({ script: stepFor });
    await model.start();
    const minOutputTokens = int(1, 2048);
    const gw = await startGateway(model.url, { minOutputTokens });
    let refusedOrTrimmed = 0;
    let refusals = 0;
    let forwarded = 0;
    try {
      for (let r = 0; r < 40; r++) {
        const runKey = `prop-${r}`;
        const limits = { tokens: int(2_000, 300_000), usd: Number((rnd() * 0.5 + 0.0005).toFixed(6)) };
        const token = gw.openRun(runKey, limits).token;
        const violations: string[] = [];
        gw.onSpend(runKey, (s) => {
          if (s.usd > limits.usd) violations.push(`usd ${s.usd} > ${limits.usd}`);
          if (s.tokens > limits.tokens) violations.push(`tokens ${s.tokens} > ${limits.tokens}`);
        });
        for (let batch = 0; batch < 6; batch++) {
          const size = int(1, 4);
          await Promise.all(
            Array.from({ length: size }, async () => {
              const api = rnd() < 0.5 ? 'anthropic' : 'openai';
              const kind = rnd() < 0.08 ? 'stall' : rnd() < 0.05 ? 'error' : 'normal';
              const padding = 'x'.repeat(int(10, 20_000));
              const cap = rnd() < 0.2 ? undefined : int(1, 16_000);
              const body =
                api === 'anthropic'
                  ? { model: SONNET, max_tokens: cap ?? 4096, stream: rnd() < 0.7, metadata: { kind }, messages: [{ role: 'user', content: padding }] }
                  : { model: rnd() < 0.5 ? 'gpt-5' : 'gpt-5.5', stream: true, metadata: { kind }, input: [{ role: 'user', content: padding }], ...(cap ? { max_output_tokens: cap } : {}) };
              const ac = new AbortController();
              if (kind === 'stall') setTimeout(() => ac.abort(), int(1, 30));
              const res = await post(gw.url, api === 'anthropic' ? '/v1/messages' : '/v1/responses', token, body, {}, ac.signal).catch(() => undefined);
              if (res?.status === 402) refusals++;
            }),
          );
          await until(() => gw.status(runKey).inFlight === 0);
        }
        const st = gw.status(runKey);
        refusedOrTrimmed += st.spend.refusals;
        forwarded += st.spend.requests;
        assert.deepEqual(violations, [], `seed ${seed}, run ${r}`);
        assert.ok(st.spend.usd <= limits.usd, `seed ${seed}, run ${r}: usd ${st.spend.usd} > ${limits.usd}`);
        assert.ok(st.spend.tokens <= limits.tokens, `seed ${seed}, run ${r}: tokens ${st.spend.tokens} > ${limits.tokens}`);
        assert.equal(st.overruns, 0);
      }
      // Metered exactly what the model reported, priced by the table.
      let usd = 0;
      let tokens = 0;
      let gwUsd = 0;
      let gwTokens = 0;
      for (const req of model.modelRequests()) {
        if (!req.usage) continue;
        usd += expectedUsd(req.usage, req.model === SONNET ? SONNET : req.model!);
        tokens += req.usage.input + req.usage.output + req.usage.cacheRead + req.usage.cacheWrite;
      }
      for (let r = 0; r < 40; r++) {
        gwUsd += gw.spend(`prop-${r}`).usd;
        gwTokens += gw.spend(`prop-${r}`).tokens;
      }
      // Abandoned requests are charged their reservation, so the gateway may count more than the
      // model reported, never less (exact metering of complete responses: gatewayMetering tests).
      assert.ok(gwTokens >= tokens, `gateway tokens ${gwTokens} < reported ${tokens}`);
      assert.ok(gwUsd >= usd - 1e-9, `gateway ${gwUsd} < reported ${usd}`);
      // The budgets were actually exercised.
      assert.ok(refusals > 10, `refusals ${refusals}`);
      assert.ok(refusedOrTrimmed > refusals, `some requests were trimmed: ${refusedOrTrimmed} refused or trimmed, ${refusals} refused`);
      assert.ok(forwarded > 100, `forwarded ${forwarded}`);
    } finally {
      await gw.stop();
      await model.stop();
    }
  });
});
