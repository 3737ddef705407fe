/**
 * The gateway's allow-list: every refused field, tool, content source and header is refused with
 * HTTP 400 in the API's own error format, naming it, and never reaches the upstream; what the real
 * CLIs send still passes, with only allow-listed headers and the real key upstream. Also: the
 * per-run in-flight cap (429), and run tokens (a closed run's is refused; another run's charges
 * only its own run).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, parseConfig } from '../../worker/config.js';
import { ANTHROPIC_BETAS, type ModelGateway } from '../../worker/gateway/index.js';
import { post, startGateway, TEST_PRICES, until } from '../helpers/gatewayHarness.js';
import { RawUpstream } from '../helpers/rawUpstream.js';

const SONNET = 'claude-sonnet-4-5';
const GPT = 'gpt-5.5';
const IMG = { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' };

/** What Claude Code 2.1.197 sends (shape captured through the gateway), trimmed. */
const claudeBody = (extra: Record<string, unknown> = {}) => ({
  model: SONNET,
  max_tokens: 32000,
  stream: true,
  system: [{ type: 'text', text: 'You are Claude Code.', cache_control: { type: 'ephemeral' } }],
  tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
  metadata: { user_id: 'u' },
  thinking: { type: 'enabled', budget_tokens: 31999 },
  context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'fix it', cache_control: { type: 'ephemeral' } }, { type: 'image', source: IMG }] },
    { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'a.ts' }] }] },
  ],
  ...extra,
});
const CLAUDE_HEADERS = {
  'anthropic-version': '2023-06-01',
  'anthropic-beta': [...ANTHROPIC_BETAS].join(','),
  'user-agent': 'claude-cli/2.1.197 (external, sdk-cli)',
  'x-stainless-os': 'Linux',
  'x-claude-code-session-id': 'abc',
  'anthropic-dangerous-direct-browser-access': 'true',
};

/** What Codex 0.169 sends (with `web_search = "disabled"`), trimmed. */
const codexBody = (extra: Record<string, unknown> = {}) => ({
  model: GPT,
  stream: true,
  store: false,
  instructions: 'You are Codex.',
  input: [
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'fix it' }, { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=' }] },
    { type: 'function_call', call_id: 'c1', name: 'exec_command', arguments: '{"cmd":"ls"}' },
    { type: 'function_call_output', call_id: 'c1', output: 'a.ts' },
    { type: 'custom_tool_call', call_id: 'c2', name: 'apply_patch', input: '*** Begin Patch' },
    { type: 'custom_tool_call_output', call_id: 'c2', output: 'ok' },
    { type: 'reasoning', summary: [], encrypted_content: 'xyz' },
  ],
  tools: [
    { type: 'function', name: 'exec_command', description: 'run', strict: false, parameters: { type: 'object', properties: {} } },
    { type: 'custom', name: 'apply_patch', description: 'patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: /.+/' } },
    { type: 'tool_search', execution: 'client', description: 'search deferred tools', parameters: { type: 'object', properties: {} } },
  ],
  tool_choice: 'auto',
  parallel_tool_calls: false,
  reasoning: { effort: 'medium' },
  include: ['reasoning.encrypted_content'],
  prompt_cache_key: 'k',
  text: { verbosity: 'low' },
  client_metadata: { a: 'b' },
  max_output_tokens: 8000,
  ...extra,
});
const CODEX_HEADERS = { originator: 'codex_exec', 'session-id': 's', 'x-codex-beta-features': 'remote_compaction_v2', 'user-agent': 'codex_exec/0.169.0' };

type Case = [name: string, api: 'anthropic' | 'openai', body: Record<string, unknown>, headers?: Record<string, string>, path?: string];

const anthropicTool = (t: Record<string, unknown>) => claudeBody({ tools: [t] });
const anthropicBlock = (b: Record<string, unknown>) => claudeBody({ messages: [{ role: 'user', content: [b] }] });
const openaiTool = (t: Record<string, unknown>) => codexBody({ tools: [t] });
const openaiItem = (i: Record<string, unknown>) => codexBody({ input: [i] });
const openaiPart = (p: Record<string, unknown>) => openaiItem({ type: 'message', role: 'user', content: [p] });

/** Every refused shape, with the text its error must name. */
type RefusedCase = Case & { names?: string };
const REFUSED: RefusedCase[] = [
  ['server tool web_search', 'anthropic', anthropicTool({ type: 'web_search_20250305', name: 'web_search', max_uses: 5 })],
  ['server tool web_fetch', 'anthropic', anthropicTool({ type: 'web_fetch_20250910', name: 'web_fetch' })],
  ['server tool code_execution', 'anthropic', anthropicTool({ type: 'code_execution_20250825', name: 'code_execution' })],
  ['server tool tool_search', 'anthropic', anthropicTool({ type: 'tool_search_tool_regex_20251119', name: 'tool_search' })],
  ['mcp_toolset', 'anthropic', anthropicTool({ type: 'mcp_toolset', mcp_server_name: 'x' })],
  ['Anthropic-defined bash tool', 'anthropic', anthropicTool({ type: 'bash_20250124', name: 'bash' })],
  ['Anthropic-defined text editor', 'anthropic', anthropicTool({ type: 'text_editor_20250728', name: 'str_replace_based_edit_tool' })],
  ['computer use', 'anthropic', anthropicTool({ type: 'computer_20250124', name: 'computer', display_width_px: 1, display_height_px: 1 })],
  ['memory tool', 'anthropic', anthropicTool({ type: 'memory_20250818', name: 'memory' })],
  ['custom tool with defer_loading', 'anthropic', anthropicTool({ name: 'X', input_schema: { type: 'object' }, defer_loading: true })],
  ['mcp_servers', 'anthropic', claudeBody({ mcp_servers: [{ type: 'url', url: 'https://evil.example/mcp', name: 'e' }] })],
  ['container', 'anthropic', claudeBody({ container: 'container_1' })],
  ['service_tier priority', 'anthropic', claudeBody({ service_tier: 'priority' })],
  ['unknown field speed', 'anthropic', claudeBody({ speed: 'fast' })],
  ['compaction edit', 'anthropic', claudeBody({ context_management: { edits: [{ type: 'compact_20260112' }] } })],
  ['image by URL', 'anthropic', anthropicBlock({ type: 'image', source: { type: 'url', url: 'https://evil.example/?secret=1' } })],
  ['document by URL', 'anthropic', anthropicBlock({ type: 'document', source: { type: 'url', url: 'https://evil.example/a.pdf' } })],
  ['document by file id', 'anthropic', anthropicBlock({ type: 'document', source: { type: 'file', file_id: 'file_1' } })],
  ['image by URL inside a tool result', 'anthropic', anthropicBlock({ type: 'tool_result', tool_use_id: 't', content: [{ type: 'image', source: { type: 'url', url: 'https://evil.example/i.png' } }] })],
  ['image by URL inside a content document', 'anthropic', anthropicBlock({ type: 'document', source: { type: 'content', content: [{ type: 'image', source: { type: 'url', url: 'https://evil.example/i.png' } }] } })],
  ['image by URL in system', 'anthropic', claudeBody({ system: [{ type: 'image', source: { type: 'url', url: 'https://evil.example/i.png' } }] })],
  ['container_upload block', 'anthropic', anthropicBlock({ type: 'container_upload', file_id: 'file_1' })],
  ['server_tool_use block in history', 'anthropic', anthropicBlock({ type: 'server_tool_use', id: 's', name: 'web_search', input: { query: 'q' } })],
  ['count_tokens with an image URL', 'anthropic', anthropicBlock({ type: 'image', source: { type: 'url', url: 'https://evil.example/i.png' } }), {}, '/v1/messages/count_tokens'],
  ...['context-1m-2025-08-07', 'files-api-2025-04-14', 'mcp-client-2025-11-20', 'web-fetch-2025-09-10', 'code-execution-2025-08-25', 'fast-mode-2026-02-01', 'skills-2025-10-02'].map(
    (b): RefusedCase => Object.assign([`beta ${b}`, 'anthropic', claudeBody(), { 'anthropic-beta': `claude-code-20250219, ${b}` }] as Case, { names: b }),
  ),
  ['previous_response_id', 'openai', codexBody({ previous_response_id: 'resp_1' })],
  ['conversation', 'openai', codexBody({ conversation: 'conv_1' })],
  ['store true', 'openai', codexBody({ store: true })],
  ['background', 'openai', codexBody({ background: true })],
  ['stored prompt', 'openai', codexBody({ prompt: { id: 'pmpt_1' } })],
  ['service_tier priority', 'openai', codexBody({ service_tier: 'priority' })],
  ['include of hosted tool output', 'openai', codexBody({ include: ['file_search_call.results'] })],
  ...['web_search', 'web_search_preview', 'file_search', 'code_interpreter', 'mcp', 'image_generation', 'computer_use_preview', 'local_shell', 'shell', 'apply_patch'].map(
    (t): Case => [`hosted tool ${t}`, 'openai', openaiTool({ type: t, server_url: 'https://evil.example' })],
  ),
  ['tool_search executed by the server', 'openai', openaiTool({ type: 'tool_search', execution: 'server' })],
  ['item_reference', 'openai', openaiItem({ type: 'item_reference', id: 'msg_1' })],
  ['web_search_call item', 'openai', openaiItem({ type: 'web_search_call', id: 'ws_1', status: 'completed' })],
  ['input_image by URL', 'openai', openaiPart({ type: 'input_image', image_url: 'https://evil.example/i.png' })],
  ['input_image by file id', 'openai', openaiPart({ type: 'input_image', file_id: 'file_1' })],
  ['input_file by URL', 'openai', openaiPart({ type: 'input_file', file_url: 'https://evil.example/a.pdf' })],
  ['input_file by file id', 'openai', openaiPart({ type: 'input_file', file_id: 'file_1' })],
  ['image URL in a function output', 'openai', openaiItem({ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', image_url: 'https://evil.example/i.png' }] })],
  ['openai-beta header', 'openai', codexBody(), { 'openai-beta': 'responses=v1' }],
  ['compact with previous_response_id', 'openai', codexBody({ previous_response_id: 'resp_1' }), {}, '/v1/responses/compact'],
];

describe('gateway allow-list', () => {
  const upstream = new RawUpstream(() => ({ input: 100, output: 10 }));
  let gw: ModelGateway;
  let token = '';

  before(async () => {
    await upstream.start();
    gw = await startGateway(upstream.url, { upstreamKeys: { anthropic: 'sk-ant-real', openai: 'sk-oa-real' } });
    token = gw.openRun('allow', { tokens: 10_000_000, usd: 100 }).token;
  });
  after(async () => {
    await gw.stop();
    await upstream.stop();
  });

  for (const c of REFUSED) {
    const [name, api, body, headers, path] = c;
    test(`refused and never forwarded: ${api} ${name}`, async () => {
      const before = upstream.requests.length;
      const route = path ?? (api === 'anthropic' ? '/v1/messages' : '/v1/responses');
      const res = await post(gw.url, route, token, body, { ...(api === 'anthropic' ? CLAUDE_HEADERS : CODEX_HEADERS), ...(headers ?? {}) });
      assert.equal(res.status, 400, res.text);
      assert.equal(upstream.requests.length, before, 'nothing reached the upstream');
      const json = res.json as Record<string, Record<string, unknown>>;
      let message: string;
      if (api === 'anthropic') {
        assert.equal((json as unknown as { type: string }).type, 'error');
        assert.equal(json.error!.type, 'invalid_request_error');
        message = String(json.error!.message);
      } else {
        assert.equal(json.error!.type, 'invalid_request_error');
        assert.equal(json.error!.code, 'not_forwarded');
        assert.equal(typeof json.error!.param, 'string');
        message = String(json.error!.message);
      }
      assert.match(message, /Nightshift's gateway does not forward it/);
      const named = c.names;
      if (named) assert.ok(message.includes(named), message);
      assert.equal(gw.status('allow').spend.requests, 0, 'a refusal is not a forwarded request');
    });
  }

  test("Claude Code's request shape is forwarded with only allow-listed headers and the real key", async () => {
    const before = upstream.requests.length;
    const res = await post(gw.url, '/v1/messages?beta=true', token, claudeBody(), CLAUDE_HEADERS);
    assert.equal(res.status, 200, res.text);
    const got = upstream.requests.at(-1)!;
    assert.equal(upstream.requests.length, before + 1);
    assert.deepEqual(Object.keys(got.headers).filter((h) => !['host', 'connection', 'content-length', 'accept-encoding', 'accept', 'accept-language', 'sec-fetch-mode'].includes(h)).sort(), [
      'anthropic-beta', 'anthropic-version', 'content-type', 'user-agent', 'x-api-key',
    ]);
    assert.equal(got.headers['x-api-key'], 'sk-ant-real');
    assert.equal(got.headers['anthropic-beta'], [...ANTHROPIC_BETAS].join(','));
    assert.equal(got.headers.authorization, undefined);
  });

  test("Codex's request shape is forwarded; its session headers are dropped and the run token never leaves", async () => {
    const res = await post(gw.url, '/v1/responses', token, codexBody(), CODEX_HEADERS);
    assert.equal(res.status, 200, res.text);
    const got = upstream.requests.at(-1)!;
    assert.equal(got.headers.authorization, 'Bearer sk-oa-real');
    for (const h of ['originator', 'session-id', 'x-codex-beta-features', 'x-api-key']) assert.equal(got.headers[h], undefined, h);
    assert.ok(!JSON.stringify(got.headers).includes(token));
    assert.deepEqual(got.body.tools, codexBody().tools);
  });

  test('service tiers that cost no more than the table are forwarded', async () => {
    assert.equal((await post(gw.url, '/v1/messages', token, claudeBody({ service_tier: 'standard_only' }), CLAUDE_HEADERS)).status, 200);
    assert.equal((await post(gw.url, '/v1/responses', token, codexBody({ service_tier: 'flex' }))).status, 200);
  });
});

describe('gateway.allow.longContext', () => {
  const upstream = new RawUpstream(() => ({ input: 100, output: 10 }));
  const LONG = 'claude-long';
  before(() => upstream.start());
  after(() => upstream.stop());

  test('the context-1m beta is forwarded only when enabled and the model has a longContext price', async () => {
    const prices = { ...TEST_PRICES, [LONG]: { input: 3, output: 15, longContext: { thresholdTokens: 200_000, input: 6, output: 22.5 } } };
    const beta = { ...CLAUDE_HEADERS, 'anthropic-beta': 'claude-code-20250219,context-1m-2025-08-07' };
    const on = await startGateway(upstream.url, { prices, allow: { longContext: true } });
    const off = await startGateway(upstream.url, { prices });
    try {
      const tOn = on.openRun('lc', { tokens: 1e7, usd: 100 }).token;
      const tOff = off.openRun('lc', { tokens: 1e7, usd: 100 }).token;
      const n = upstream.requests.length;
      assert.equal((await post(on.url, '/v1/messages', tOn, claudeBody({ model: LONG }), beta)).status, 200);
      assert.equal(upstream.requests.length, n + 1);
      assert.match(String(upstream.requests.at(-1)!.headers['anthropic-beta']), /context-1m-2025-08-07/);
      const unpriced = await post(on.url, '/v1/messages', tOn, claudeBody({ model: SONNET }), beta);
      assert.equal(unpriced.status, 400);
      assert.match(unpriced.text, /no longContext price/);
      const disabled = await post(off.url, '/v1/messages', tOff, claudeBody({ model: LONG }), beta);
      assert.equal(disabled.status, 400);
      assert.match(disabled.text, /gateway\.allow\.longContext is off/);
      assert.equal(upstream.requests.length, n + 1);
    } finally {
      await on.stop();
      await off.stop();
    }
  });
});

describe('per-run requests in flight and run tokens', () => {
  const upstream = new RawUpstream((r) => (r.body.metadata && (r.body.metadata as { kind?: string }).kind === 'stall' ? 'stall' : { input: 100, output: 10 }));
  let gw: ModelGateway;
  before(async () => {
    await upstream.start();
    gw = await startGateway(upstream.url, { maxInFlightPerRun: 2 });
  });
  after(async () => {
    await gw.stop();
    await upstream.stop();
  });

  test('above maxInFlightPerRun a run gets 429 in the API format; other runs are not affected', async () => {
    const a = gw.openRun('inflight-a', { tokens: 1e7, usd: 100 }).token;
    const b = gw.openRun('inflight-b', { tokens: 1e7, usd: 100 }).token;
    const ac = new AbortController();
    const stalled = [1, 2].map(() => post(gw.url, '/v1/messages', a, claudeBody({ metadata: { kind: 'stall' } }), CLAUDE_HEADERS, ac.signal).catch(() => undefined));
    await until(() => gw.status('inflight-a').inFlight === 2);
    const third = await post(gw.url, '/v1/messages', a, claudeBody(), CLAUDE_HEADERS);
    assert.equal(third.status, 429);
    assert.equal((third.json as { error: { type: string } }).error.type, 'rate_limit_error');
    const oa = await post(gw.url, '/v1/responses', a, codexBody());
    assert.equal(oa.status, 429);
    assert.equal((oa.json as { error: { code: string } }).error.code, 'too_many_requests_in_flight');
    assert.equal((await post(gw.url, '/v1/messages', b, claudeBody(), CLAUDE_HEADERS)).status, 200, 'run b has its own cap');
    ac.abort();
    await Promise.all(stalled);
    await until(() => gw.status('inflight-a').inFlight === 0);
    assert.equal((await post(gw.url, '/v1/messages', a, claudeBody(), CLAUDE_HEADERS)).status, 200, 'free again once they finish');
  });

  test("a closed run's token is refused (401) and never reaches the upstream; another run's token charges only that run", async () => {
    const one = gw.openRun('tok-1', { tokens: 1e7, usd: 100 }).token;
    const two = gw.openRun('tok-2', { tokens: 1e7, usd: 100 }).token;
    assert.equal((await post(gw.url, '/v1/messages', one, claudeBody(), CLAUDE_HEADERS)).status, 200);
    const spentOne = gw.spend('tok-1');
    gw.closeRun('tok-1');
    const n = upstream.requests.length;
    for (const [path, body] of [['/v1/messages', claudeBody()], ['/v1/responses', codexBody()], ['/v1/messages/count_tokens', claudeBody()]] as const) {
      const res = await post(gw.url, path, one, body, path.startsWith('/v1/messages') ? CLAUDE_HEADERS : {});
      assert.equal(res.status, 401, path);
    }
    assert.equal(upstream.requests.length, n, 'nothing of the closed run reached the upstream');
    assert.deepEqual(gw.spend('tok-1'), spentOne);
    // The second run's token: its requests are charged to it alone.
    assert.equal((await post(gw.url, '/v1/messages', two, claudeBody(), CLAUDE_HEADERS)).status, 200);
    assert.equal((await post(gw.url, '/v1/responses', two, codexBody())).status, 200);
    assert.equal(gw.spend('tok-2').requests, 2);
    assert.ok(gw.spend('tok-2').usd > 0);
    assert.deepEqual(gw.spend('tok-1'), spentOne, 'the closed run is never charged for the other run');
  });
});

describe('gateway config', () => {
  const raw = (gateway: Record<string, unknown>) => ({
    gateway,
    repos: { web: { url: 'https://github.com/acme/web.git', github: 'acme/web', testCommand: 'npm test', budget: { minutes: 30, tokens: 1000, usd: 5 } } },
  });

  test('defaults: 4 requests in flight per run, no feature beyond the allow-list', () => {
    const c = parseConfig(raw({ prices: { m: { input: 3, output: 15 } } }));
    assert.equal(c.gateway.maxInFlightPerRun, 4);
    assert.deepEqual(c.gateway.allow, { longContext: false });
  });

  test('allow.longContext is accepted only when some model has a longContext price; unknown allow keys are refused', () => {
    assert.throws(() => parseConfig(raw({ prices: { m: { input: 3, output: 15 } }, allow: { longContext: true } })), (e: unknown) => e instanceof ConfigError && /gateway\.allow\.longContext/.test(e.issues.join()));
    const ok = parseConfig(raw({ prices: { m: { input: 3, output: 15, longContext: { thresholdTokens: 200000, input: 6, output: 22.5 } } }, allow: { longContext: true } }));
    assert.equal(ok.gateway.allow.longContext, true);
    assert.throws(() => parseConfig(raw({ prices: { m: { input: 3, output: 15 } }, allow: { webSearch: true } })), (e: unknown) => e instanceof ConfigError && /gateway\.allow/.test(e.issues.join()));
  });
});
