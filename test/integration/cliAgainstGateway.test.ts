/**
 * The REAL agent CLIs (node_modules/.bin/claude and codex) on the host → the model gateway → the
 * scripted model: a real agent loop (a file written by the agent's own tool, a shell command run by
 * it, its output fed back), metered and budgeted by the gateway. Env per
 * /work/shared/reference/agent-cli-offline.md.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ModelGateway } from '../../worker/gateway/index.js';
import { ScriptedModelServer, scriptFromSteps, type Script, type ScriptContext } from '../../devstack/scriptedModel.js';
import { expectedUsd, startGateway } from '../helpers/gatewayHarness.js';
import { hostClaude } from '../helpers/hostClaude.js';
import { repoRoot } from '../helpers/paths.js';

const CLAUDE = join(repoRoot(), 'node_modules', '.bin', 'claude');
const CODEX = join(repoRoot(), 'node_modules', '.bin', 'codex');
const CLAUDE_MODEL = 'claude-sonnet-4-5';
const CODEX_MODEL = 'gpt-5.5';
const CLI_TIMEOUT_MS = 90_000;

interface CliRun {
  code: number | null;
  lines: Array<Record<string, unknown>>;
  stderr: string;
  ms: number;
}

const temps: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** A fresh git repository to work in. */
function workRepo(): string {
  const dir = tempDir('ns-cli-work-');
  const r = spawnSync('git', ['init', '-q', dir]);
  assert.equal(r.status, 0, 'git init');
  return dir;
}

function runCli(cmd: string, args: string[], env: Record<string, string>, cwd: string): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), CLI_TIMEOUT_MS);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      const lines = out
        .split('\n')
        .filter((l) => l.trim().startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, lines, stderr: err, ms: Date.now() - started });
    });
  });
}

function runClaude(gw: ModelGateway, token: string, cwd: string, prompt: string): Promise<CliRun> {
  const c = hostClaude({ prompt, model: CLAUDE_MODEL, gatewayUrl: gw.url, token, home: tempDir('ns-cli-home-') });
  return runCli(c.bin, c.args, c.env, cwd);
}

function runCodex(gw: ModelGateway, token: string, cwd: string, prompt: string): Promise<CliRun> {
  const codexHome = tempDir('ns-codex-home-');
  writeFileSync(
    join(codexHome, 'config.toml'),
    `model = "${CODEX_MODEL}"
model_provider = "gateway"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false
web_search = "disabled"
[analytics]
enabled = false
[features]
plugins = false
[model_providers.gateway]
name = "Gateway"
base_url = "${gw.url}/v1"
wire_api = "responses"
env_key = "GATEWAY_TOKEN"
request_max_retries = 0
stream_max_retries = 0
supports_websockets = false
`,
  );
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tempDir('ns-cli-home-'),
    CODEX_HOME: codexHome,
    GATEWAY_TOKEN: token,
  };
  return runCli(CODEX, ['exec', '--json', '--skip-git-repo-check', '--disable', 'unbounded_connection_retries', prompt], env, cwd);
}

/** write a file → cat it → answer with what cat printed. Usage per step includes cache fields. */
function writeCatAnswer(content: string): Script {
  const steps = scriptFromSteps([
    { write: { path: 'notes.txt', content }, usage: { input: 1500, output: 120, cacheWrite: 2000 } },
    { bash: 'cat notes.txt', usage: { input: 300, output: 60, cacheRead: 2000 } },
  ]);
  return (ctx: ScriptContext) => (ctx.turn === 2 && !ctx.sideRequest ? { text: `The file says: ${ctx.lastToolResult ?? '(nothing)'}`, usage: { input: 400, output: 40, cacheRead: 2300 } } : steps(ctx));
}

/**
 * First request: write a file, reporting the worst honest usage (90% of the request's bytes as
 * input, the whole output cap the gateway forwarded as output), which leaves too little budget for
 * a second request.
 */
function burnBudget(): Script {
  return (ctx) => {
    const body = ctx.request as { max_tokens?: number; max_output_tokens?: number };
    if (ctx.turn === 0) {
      return {
        write: { path: 'first.txt', content: 'written before the budget ran out\n' },
        usage: { input: Math.floor(Buffer.byteLength(JSON.stringify(ctx.request)) * 0.9), output: body.max_tokens ?? body.max_output_tokens ?? 0 },
      };
    }
    return { text: 'should never be reached' };
  };
}

describe('real agent CLIs against the gateway', { timeout: 5 * CLI_TIMEOUT_MS }, () => {
  const model = new ScriptedModelServer({ script: () => ({ text: 'unset' }) });
  let gw: ModelGateway;

  before(async () => {
    assert.ok(existsSync(CLAUDE), `${CLAUDE} is installed`);
    assert.ok(existsSync(CODEX), `${CODEX} is installed`);
    await model.start();
    gw = await startGateway(model.url);
  });
  after(async () => {
    await gw.stop();
    await model.stop();
    for (const d of temps) rmSync(d, { recursive: true, force: true });
  });

  test('Claude Code: writes a file, runs cat on it, answers; spend = scripted usage priced', async (t) => {
    model.setScript(writeCatAnswer('hello from nightshift\n'));
    const first = model.requests.length;
    const { token } = gw.openRun('claude-ok', { tokens: 10_000_000, usd: 10 });
    const cwd = workRepo();
    const run = await runClaude(gw, token, cwd, 'Write notes.txt, then show it.');
    t.diagnostic(`claude: ${run.ms} ms`);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(readFileSync(join(cwd, 'notes.txt'), 'utf8'), 'hello from nightshift\n');
    const result = run.lines.at(-1)!;
    assert.equal(result.type, 'result');
    assert.equal(result.subtype, 'success');
    assert.equal(result.is_error, false);
    assert.match(String(result.result), /The file says: hello from nightshift/);
    const tools = run.lines
      .filter((l) => l.type === 'assistant')
      .flatMap((l) => ((l.message as { content: Array<{ type: string; name?: string }> }).content ?? []).filter((c) => c.type === 'tool_use').map((c) => c.name));
    assert.deepEqual(tools, ['Write', 'Bash']);

    const reqs = model.requests.slice(first).filter((r) => r.step);
    assert.equal(reqs.length, 3, 'one model request per turn');
    const usage = sumUsage(reqs);
    assert.deepEqual(usage, { input: 2200, output: 220, cacheRead: 4300, cacheWrite: 2000 });
    const spend = gw.closeRun('claude-ok');
    assert.equal(spend.inputTokens, usage.input);
    assert.equal(spend.outputTokens, usage.output);
    assert.equal(spend.cacheReadTokens, usage.cacheRead);
    assert.equal(spend.cacheWriteTokens, usage.cacheWrite);
    assert.ok(Math.abs(spend.usd - expectedUsd(usage, CLAUDE_MODEL)) < 1e-12, `${spend.usd} vs ${expectedUsd(usage, CLAUDE_MODEL)}`);
    assert.equal(spend.requests, 3);
    t.diagnostic(`claude reported total_cost_usd ${String(result.total_cost_usd)}, gateway metered ${spend.usd}`);
  });

  test('Codex: creates a file with apply_patch, runs cat, answers; spend = scripted usage priced', async (t) => {
    model.setScript(writeCatAnswer('hello from codex\n'));
    const first = model.requests.length;
    const { token } = gw.openRun('codex-ok', { tokens: 10_000_000, usd: 10 });
    const cwd = workRepo();
    const run = await runCodex(gw, token, cwd, 'Write notes.txt, then show it.');
    t.diagnostic(`codex: ${run.ms} ms`);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(readFileSync(join(cwd, 'notes.txt'), 'utf8'), 'hello from codex\n');
    const items = run.lines.filter((l) => l.type === 'item.completed').map((l) => l.item as Record<string, unknown>);
    assert.deepEqual(
      items.map((i) => i.type),
      ['file_change', 'command_execution', 'agent_message'],
    );
    assert.deepEqual((items[0]!.changes as Array<{ kind: string }>).map((c) => c.kind), ['add']);
    assert.equal(items[1]!.exit_code, 0);
    assert.equal(items[1]!.aggregated_output, 'hello from codex\n');
    assert.match(String(items[2]!.text), /The file says: .*hello from codex/s);
    const completed = run.lines.at(-1)!;
    assert.equal(completed.type, 'turn.completed');

    const reqs = model.requests.slice(first).filter((r) => r.step);
    assert.equal(reqs.length, 3);
    const usage = sumUsage(reqs);
    // OpenAI reports no cache writes.
    assert.deepEqual(usage, { input: 2200, output: 220, cacheRead: 4300, cacheWrite: 0 });
    const cliUsage = completed.usage as { input_tokens: number; cached_input_tokens: number; output_tokens: number };
    assert.equal(cliUsage.input_tokens, usage.input + usage.cacheRead, 'Codex saw the same usage');
    assert.equal(cliUsage.cached_input_tokens, usage.cacheRead);
    assert.equal(cliUsage.output_tokens, usage.output);
    const spend = gw.closeRun('codex-ok');
    assert.equal(spend.inputTokens, usage.input);
    assert.equal(spend.cacheReadTokens, usage.cacheRead);
    assert.equal(spend.outputTokens, usage.output);
    assert.ok(Math.abs(spend.usd - expectedUsd(usage, CODEX_MODEL)) < 1e-12);
  });

  test('Claude Code: a dollar budget too small for the second request ends the run with the refusal; spend ≤ budget', async (t) => {
    model.setScript(burnBudget());
    const first = model.requests.length;
    const usd = 1;
    const { token } = gw.openRun('claude-budget', { tokens: 10_000_000, usd });
    const cwd = workRepo();
    const run = await runClaude(gw, token, cwd, 'Write first.txt and keep going.');
    t.diagnostic(`claude (budget): ${run.ms} ms`);
    assert.equal(run.code, 1);
    assert.ok(existsSync(join(cwd, 'first.txt')), 'the first turn ran');
    const result = run.lines.at(-1)!;
    assert.equal(result.type, 'result');
    assert.equal(result.is_error, true);
    assert.equal(result.api_error_status, 402);
    assert.match(String(result.result), /^API Error: 402 Nightshift budget exhausted: spent \$0\.\d{4} of \$1\.00/);
    assert.equal(model.requests.slice(first).filter((r) => r.step).length, 1, 'the second request never reached the model');
    const forwarded = model.requests.slice(first).find((r) => r.step)!.body as { max_tokens: number };
    t.diagnostic(`first request forwarded with max_tokens ${forwarded.max_tokens}`);
    const st = gw.status('claude-budget');
    assert.equal(st.breach?.kind, 'usd');
    assert.equal(st.overruns, 0);
    const spend = gw.closeRun('claude-budget');
    assert.ok(spend.usd <= usd, `spent ${spend.usd} of ${usd}`);
    assert.ok(spend.usd > usd / 2, 'the scripted first turn did spend most of it');
    t.diagnostic(`claude shows: ${String(result.result)}`);
  });

  test('Codex: a dollar budget too small for the second request ends the turn with the refusal; spend ≤ budget', async (t) => {
    model.setScript(burnBudget());
    const first = model.requests.length;
    const usd = 0.3;
    const { token } = gw.openRun('codex-budget', { tokens: 10_000_000, usd });
    const cwd = workRepo();
    const run = await runCodex(gw, token, cwd, 'Write first.txt and keep going.');
    t.diagnostic(`codex (budget): ${run.ms} ms`);
    assert.equal(run.code, 1);
    assert.ok(existsSync(join(cwd, 'first.txt')), 'the first turn ran');
    const failed = run.lines.at(-1)!;
    assert.equal(failed.type, 'turn.failed');
    const message = (failed.error as { message: string }).message;
    assert.match(message, /402 Payment Required: Nightshift budget exhausted: spent \$0\.\d{4} of \$0\.3000/);
    assert.equal(model.requests.slice(first).filter((r) => r.step).length, 1);
    const st = gw.status('codex-budget');
    assert.equal(st.breach?.kind, 'usd');
    assert.equal(st.overruns, 0);
    const spend = gw.closeRun('codex-budget');
    assert.ok(spend.usd <= usd, `spent ${spend.usd} of ${usd}`);
    t.diagnostic(`codex shows: ${message}`);
  });
});

function sumUsage(reqs: Array<{ usage?: { input: number; output: number; cacheRead: number; cacheWrite: number } }>) {
  const t = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  for (const r of reqs) {
    if (!r.usage) continue;
    t.input += r.usage.input;
    t.output += r.usage.output;
    t.cacheRead += r.usage.cacheRead;
    t.cacheWrite += r.usage.cacheWrite;
  }
  return t;
}
