/**
 * Benchmark: dollar overrun past budget across many scripted runs (target 0).
 *
 * The real {@link ModelGateway} in front of a {@link ScriptedModelServer}, both on 127.0.0.1.
 * Each run gets a random dollar and token budget and 1–4 concurrent clients (sub-agents) that
 * send streaming requests shaped like the CLIs' (Anthropic Messages `POST /v1/messages?beta=true`
 * with `x-api-key`; OpenAI Responses `POST /v1/responses` with `Authorization: Bearer`) of random
 * size and output cap, until the gateway refuses them (402) or a per-client request cap is hit.
 * The upstream is *honest* (the gateway's stated invariant): it never reports more input tokens
 * than the forwarded request has bytes, nor more output tokens than the forwarded cap, but it
 * reports anything up to those bounds, including bursts at exactly the bounds. Some requests stall
 * and are aborted by the client, some are aborted at a random moment, some get upstream errors.
 *
 * "Spend" is what the upstream billed (the usage it reported, summed in integer picodollars by
 * this benchmark, independently of the gateway), and also what the gateway metered.
 * Overrun = spend − budget, clipped at 0.
 *
 * Optionally (BENCH_CLI_RUNS, default 4; 0 to skip) a few runs of the REAL Claude Code CLI
 * (node_modules/.bin/claude, on the host, loopback) against the gateway with a token-burning script
 * and small dollar budgets.
 *
 * Knobs: BENCH_RUNS (200), BENCH_PARALLEL (8 runs at a time), BENCH_MAX_REQ (25 per client),
 * BENCH_SEED (1), BENCH_CLI_RUNS (4), BENCH_NO_ABORTS (1: the client never aborts a request the
 * upstream answers; stalled ones are still aborted).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptedModelServer, type Script, type ScriptContext, type ScriptedUsage } from '../devstack/scriptedModel.js';
import { startGateway, TEST_PRICES } from '../test/helpers/gatewayHarness.js';
import { hostClaude } from '../test/helpers/hostClaude.js';
import { repoRoot } from '../test/helpers/paths.js';
import type { ModelGateway } from '../worker/gateway/index.js';
import { envInt, median, nowMs, printTable, printVerdict, Rng, type Row } from './lib.js';

const RUNS = envInt('BENCH_RUNS', 200, 1, 100_000);
const PARALLEL = envInt('BENCH_PARALLEL', 8, 1, 64);
const MAX_REQ = envInt('BENCH_MAX_REQ', 25, 1, 1000);
const SEED = envInt('BENCH_SEED', 1);
const CLI_RUNS = envInt('BENCH_CLI_RUNS', 4, 0, 20);
/** 1: no client aborts of requests the upstream answers (stalls are still aborted): the control for the abort finding. */
const NO_ABORTS = process.env.BENCH_NO_ABORTS === '1';

const CLAUDE_MODEL = 'claude-sonnet-4-5';
const GPT_MODEL = 'gpt-5';
const DEFAULT_CAP = 32000; // the gateway's default output cap for a request that names none
const PICO_PER_USD = 1e12;

/** Picodollars per token of a model (USD per million × 1e6): integers for the bench prices. */
function picoPrice(model: string): { input: number; output: number; cacheRead: number; cacheWrite: number } {
  const p = TEST_PRICES[model];
  if (!p) throw new Error(`no price for ${model}`);
  const r = (v: number) => Math.round(v * 1e6);
  return { input: r(p.input), output: r(p.output), cacheRead: r(p.cacheRead ?? p.input), cacheWrite: r(p.cacheWrite ?? p.input) };
}

/** Picodollars of a reported usage, as the upstream bills it. OpenAI has no cache-write count. */
function billPico(model: string, u: Required<ScriptedUsage>, protocol: 'anthropic' | 'openai'): number {
  const p = picoPrice(model);
  return u.input * p.input + u.output * p.output + u.cacheRead * p.cacheRead + (protocol === 'openai' ? 0 : u.cacheWrite * p.cacheWrite);
}

type Kind = 'normal' | 'burst' | 'stall' | 'error' | 'abort';

/** What a request tells the scripted upstream about itself (carried in `metadata`, forwarded unchanged). */
interface Tag {
  run: string;
  kind: Kind;
  /** Output cap the client asked for (the gateway's default when it named none). */
  asked: number;
  seed: number;
}

interface RunStats {
  runKey: string;
  budgetUsd: number;
  budgetTokens: number;
  /** Billed by the upstream. */
  billedPico: number;
  billedTokens: number;
  requests: number;
  refusals: number;
  trims: number;
  stalls: number;
  aborts: number;
  errors: number;
}

const runs = new Map<string, RunStats>();

function readTag(body: Record<string, unknown>): Tag | undefined {
  const md = body.metadata as Record<string, unknown> | undefined;
  const raw = md?.user_id ?? md?.bench;
  if (typeof raw !== 'string' || !raw.startsWith('{')) return undefined;
  try {
    return JSON.parse(raw) as Tag;
  } catch {
    return undefined;
  }
}

/** Splits `total` input tokens into uncached / cache-read / cache-write at random. */
function splitInput(total: number, rng: Rng, protocol: 'anthropic' | 'openai'): { input: number; cacheRead: number; cacheWrite: number } {
  const a = rng.next();
  const b = protocol === 'anthropic' ? rng.next() * (1 - a) : 0;
  const cacheRead = Math.floor(total * a);
  const cacheWrite = Math.floor(total * b);
  return { input: total - cacheRead - cacheWrite, cacheRead, cacheWrite };
}

/** The honest, randomized upstream of the synthetic runs. */
const syntheticScript: Script = (ctx: ScriptContext) => {
  const body = ctx.request as Record<string, unknown>;
  const tag = readTag(body);
  if (!tag) return { text: 'untagged', usage: { input: 0, output: 0 } };
  const run = runs.get(tag.run);
  const rng = new Rng(tag.seed);
  if (tag.kind === 'stall') return { stall: true };
  if (tag.kind === 'error') return { error: { status: rng.chance(0.5) ? 500 : 529, message: 'scripted upstream error' } };
  const forwardedCap = Number(ctx.protocol === 'anthropic' ? body.max_tokens : body.max_output_tokens);
  if (run && Number.isFinite(forwardedCap) && forwardedCap < tag.asked) run.trims++;
  const cap = Number.isFinite(forwardedCap) ? forwardedCap : tag.asked;
  const bytes = Buffer.byteLength(JSON.stringify(body));
  // Honest bounds: input ≤ bytes of the request (1 byte per token), output ≤ the forwarded cap.
  const burst = tag.kind === 'burst';
  const inputTotal = burst ? bytes : Math.floor(bytes / rng.int(3, 6));
  const output = burst ? cap : Math.min(cap, rng.int(1, 2500));
  const usage: Required<ScriptedUsage> = { ...splitInput(inputTotal, rng, ctx.protocol), output };
  if (run) {
    run.billedPico += billPico(String(body.model), usage, ctx.protocol);
    run.billedTokens += usage.input + usage.output + usage.cacheRead + (ctx.protocol === 'openai' ? 0 : usage.cacheWrite);
  }
  return { text: 'ok', usage };
};

const PAD_WORDS = ['const', 'value', 'return', 'function', 'test', 'error', 'import', 'export', '=>', '{', '}', '(', ')', ';', 'the', 'file'];

function padding(rng: Rng, bytes: number): string {
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    const w = rng.pick(PAD_WORDS);
    parts.push(w);
    n += w.length + 1;
  }
  return parts.join(' ');
}

function requestSize(rng: Rng): number {
  if (rng.chance(0.03)) return rng.int(800_000, 1_600_000);
  return Math.round(rng.logUniform(1_000, 200_000));
}

function pickCap(rng: Rng): number | undefined {
  return rng.pick([undefined, 1024, 4096, 8192, 16000, 32000, 64000]);
}

function pickKind(rng: Rng): Kind {
  const x = rng.next();
  if (x < 0.03) return 'stall';
  if (x < 0.06) return 'error';
  if (x < 0.1) return NO_ABORTS ? 'normal' : 'abort';
  if (x < 0.3) return 'burst';
  return 'normal';
}

/** One request shaped like the CLI's; returns the HTTP status (0 when aborted). */
async function send(gw: ModelGateway, token: string, api: 'anthropic' | 'openai', stats: RunStats, rng: Rng): Promise<number> {
  const kind = pickKind(rng);
  const cap = pickCap(rng);
  const tag: Tag = { run: stats.runKey, kind, asked: cap ?? DEFAULT_CAP, seed: rng.int(1, 2 ** 31) };
  const text = padding(rng, requestSize(rng));
  let url: string;
  let headers: Record<string, string>;
  let body: Record<string, unknown>;
  if (api === 'anthropic') {
    url = `${gw.url}/v1/messages?beta=true`;
    headers = { 'content-type': 'application/json', accept: 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': token, 'x-app': 'cli' };
    body = {
      model: CLAUDE_MODEL,
      ...(cap ? { max_tokens: cap } : {}),
      stream: true,
      system: [{ type: 'text', text: 'You are Claude Code. Primary working directory: /workspace' }],
      messages: [{ role: 'user', content: [{ type: 'text', text }] }],
      tools: [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
      metadata: { user_id: JSON.stringify(tag) },
    };
    if (cap && cap > 2048 && rng.chance(0.3)) body.thinking = { type: 'enabled', budget_tokens: rng.int(1024, cap - 1) };
  } else {
    url = `${gw.url}/v1/responses`;
    headers = { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}`, originator: 'codex_exec' };
    body = {
      model: GPT_MODEL,
      instructions: 'You are Codex.',
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text }] }],
      tools: [{ type: 'function', name: 'exec_command', parameters: { type: 'object', properties: { cmd: { type: 'string' } } } }],
      stream: true,
      store: false,
      ...(cap ? { max_output_tokens: cap } : {}),
      metadata: { bench: JSON.stringify(tag) },
    };
  }
  const ac = new AbortController();
  const timer = kind === 'stall' ? setTimeout(() => ac.abort(), rng.int(30, 300)) : kind === 'abort' ? setTimeout(() => ac.abort(), rng.int(0, 15)) : undefined;
  // A safety net: nothing normal takes this long on loopback.
  const safety = setTimeout(() => ac.abort(), 30_000);
  stats.requests++;
  try {
    const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: ac.signal });
    await res.text();
    if (res.status === 402) stats.refusals++;
    else if (res.status >= 500) stats.errors++;
    return res.status;
  } catch {
    if (kind === 'stall') stats.stalls++;
    else stats.aborts++;
    return 0;
  } finally {
    clearTimeout(timer);
    clearTimeout(safety);
  }
}

interface RunResult extends RunStats {
  meteredPico: number;
  meteredTokens: number;
  breachKind?: string;
  gatewayOverruns: number;
}

async function oneRun(gw: ModelGateway, model: ScriptedModelServer, i: number, rng: Rng): Promise<RunResult> {
  const runKey = `bench-run-${i}`;
  const budgetUsd = Number(rng.logUniform(0.02, 5).toFixed(4));
  const budgetTokens = rng.chance(0.5) ? 1e12 : Math.round(rng.logUniform(20_000, 3_000_000));
  const stats: RunStats = { runKey, budgetUsd, budgetTokens, billedPico: 0, billedTokens: 0, requests: 0, refusals: 0, trims: 0, stalls: 0, aborts: 0, errors: 0 };
  runs.set(runKey, stats);
  const { token } = gw.openRun(runKey, { tokens: budgetTokens, usd: budgetUsd });
  const api = rng.chance(0.6) ? 'anthropic' : 'openai';
  const clients = rng.int(1, 4);
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const crng = new Rng(rng.int(1, 2 ** 31) + c);
      for (let k = 0; k < MAX_REQ; k++) {
        const status = await send(gw, token, api, stats, crng);
        if (model.requests.length > 64) model.requests.splice(0);
        if (status === 402) break; // the CLIs do not retry a budget refusal
      }
    }),
  );
  const status = gw.status(runKey);
  const spend = gw.closeRun(runKey);
  return {
    ...stats,
    meteredPico: Math.round(spend.usd * PICO_PER_USD),
    meteredTokens: spend.tokens,
    breachKind: status.breach?.kind,
    gatewayOverruns: status.overruns,
  };
}

const overPico = (spentPico: number, budgetUsd: number) => Math.max(0, spentPico - Math.floor(budgetUsd * PICO_PER_USD));

// ---------- the real Claude Code CLI ----------

interface CliResult {
  budgetUsd: number;
  billedPico: number;
  meteredUsd: number;
  turns: number;
  refused: boolean;
  exitCode: number | null;
  ms: number;
}

/** Every turn: a shell command, reporting the worst honest usage (≈ all request bytes as cache writes, the whole forwarded output cap). */
function burnScript(acc: { billedPico: number; turns: number }): Script {
  return (ctx) => {
    const body = ctx.request as Record<string, unknown>;
    if (ctx.sideRequest) return { text: 'OK', usage: { input: 10, output: 2 } };
    const bytes = Buffer.byteLength(JSON.stringify(body));
    const cap = Number(body.max_tokens) || DEFAULT_CAP;
    const usage: Required<ScriptedUsage> = { input: 0, cacheRead: 0, cacheWrite: Math.floor(bytes * 0.95), output: cap };
    acc.billedPico += billPico(String(body.model), usage, 'anthropic');
    acc.turns++;
    return { bash: `echo burning turn ${ctx.turn}`, usage };
  };
}

function runClaude(gw: ModelGateway, token: string, cwd: string, home: string): Promise<{ code: number | null; refused: boolean; ms: number }> {
  const c = hostClaude({ prompt: 'Keep working on the task until it is done.', model: CLAUDE_MODEL, gatewayUrl: gw.url, token, home });
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(c.bin, c.args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: c.env });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.resume();
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, refused: /budget exhausted/i.test(out), ms: Date.now() - started });
    });
  });
}

async function cliRuns(gw: ModelGateway, model: ScriptedModelServer): Promise<CliResult[]> {
  const claude = join(repoRoot(), 'node_modules', '.bin', 'claude');
  if (CLI_RUNS === 0) return [];
  if (!existsSync(claude)) {
    console.log(`(real CLI runs skipped: ${claude} not found)`);
    return [];
  }
  const budgets = [0.75, 1.5, 3, 6, 1, 2, 4, 0.5, 2.5, 5].slice(0, CLI_RUNS);
  const results: CliResult[] = [];
  for (const [i, budgetUsd] of budgets.entries()) {
    const acc = { billedPico: 0, turns: 0 };
    model.setScript(burnScript(acc));
    const runKey = `bench-cli-${i}`;
    const { token } = gw.openRun(runKey, { tokens: 1e12, usd: budgetUsd });
    const cwd = mkdtempSync(join(tmpdir(), 'ns-bench-cli-work-'));
    const home = mkdtempSync(join(tmpdir(), 'ns-bench-cli-home-'));
    try {
      const r = await runClaude(gw, token, cwd, home);
      const spend = gw.closeRun(runKey);
      results.push({ budgetUsd, billedPico: acc.billedPico, meteredUsd: spend.usd, turns: acc.turns, refused: r.refused, exitCode: r.code, ms: r.ms });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  }
  return results;
}

async function main(): Promise<void> {
  const model = new ScriptedModelServer({ script: syntheticScript });
  await model.start();
  const gw = await startGateway(model.url);
  const rng = new Rng(SEED);
  const results: RunResult[] = [];
  const t0 = nowMs();
  try {
    let next = 0;
    const seeds = Array.from({ length: RUNS }, () => rng.int(1, 2 ** 31));
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL, RUNS) }, async () => {
        while (next < RUNS) {
          const i = next++;
          results.push(await oneRun(gw, model, i, new Rng(seeds[i]!)));
        }
      }),
    );
    const syntheticMs = nowMs() - t0;
    const cli = await cliRuns(gw, model);

    const billedOver = results.map((r) => overPico(r.billedPico, r.budgetUsd) / PICO_PER_USD);
    const meteredOver = results.map((r) => overPico(r.meteredPico, r.budgetUsd) / PICO_PER_USD);
    const tokenOver = results.map((r) => Math.max(0, r.billedTokens - r.budgetTokens));
    const refusedUsd = results.filter((r) => r.breachKind === 'usd');
    const refusedTokens = results.filter((r) => r.breachKind === 'tokens');
    const utilUsd = refusedUsd.map((r) => (100 * r.billedPico) / PICO_PER_USD / r.budgetUsd);
    const utilTokens = refusedTokens.map((r) => (100 * r.billedTokens) / r.budgetTokens);
    const sum = (f: (r: RunResult) => number) => results.reduce((s, r) => s + f(r), 0);
    const overRuns = results.filter((r) => overPico(r.billedPico, r.budgetUsd) > 0 || r.billedTokens > r.budgetTokens);
    const overWithoutAbort = overRuns.filter((r) => r.aborts === 0).length;
    const meterMismatch = results.filter((r) => r.meteredPico !== r.billedPico).length;

    const rows: Row[] = [
      { what: 'USD overrun per run, billed by upstream', samples: billedOver, unit: 'USD', target: '0 (max)', met: Math.max(...billedOver) === 0, digits: 6 },
      { what: 'USD overrun per run, gateway meter', samples: meteredOver, unit: 'USD', target: '0 (max)', met: Math.max(...meteredOver) === 0, digits: 6 },
      { what: 'token overrun per run, billed', samples: tokenOver, unit: 'tok', target: '0 (max)', met: Math.max(...tokenOver) === 0, digits: 0 },
      { what: 'USD utilisation, runs refused for USD', samples: utilUsd, unit: '%', target: '-' },
      { what: 'token utilisation, runs refused for tokens', samples: utilTokens, unit: '%', target: '-' },
      { what: 'requests per run', samples: results.map((r) => r.requests), unit: '', target: '-', digits: 0 },
      { what: 'budget refusals per run (402)', samples: results.map((r) => r.refusals), unit: '', target: '-', digits: 0 },
      { what: 'output caps trimmed per run', samples: results.map((r) => r.trims), unit: '', target: '-', digits: 0 },
    ];
    if (cli.length) {
      const cliOver = cli.map((c) => overPico(c.billedPico, c.budgetUsd) / PICO_PER_USD);
      rows.push(
        { what: 'real claude CLI: USD overrun per run', samples: cliOver, unit: 'USD', target: '0 (max)', met: Math.max(...cliOver) === 0, digits: 6 },
        { what: 'real claude CLI: USD utilisation', samples: cli.map((c) => (100 * c.billedPico) / PICO_PER_USD / c.budgetUsd), unit: '%', target: '-' },
        { what: 'real claude CLI: model turns per run', samples: cli.map((c) => c.turns), unit: '', target: '-', digits: 0 },
      );
    }
    printTable('Dollar overrun past budget (real ModelGateway + ScriptedModelServer, 127.0.0.1)', rows);
    console.log(
      `runs ${results.length} (${refusedUsd.length} ended by a USD refusal, ${refusedTokens.length} by a token refusal, ` +
        `${results.length - refusedUsd.length - refusedTokens.length} by the request cap), ${(syntheticMs / 1000).toFixed(1)} s; ` +
        `requests ${sum((r) => r.requests)}, refusals ${sum((r) => r.refusals)}, trims ${sum((r) => r.trims)}, ` +
        `stalls aborted ${sum((r) => r.stalls)}, client aborts ${sum((r) => r.aborts)}, upstream errors ${sum((r) => r.errors)}`,
    );
    console.log(
      `max overrun ${Math.max(...billedOver).toFixed(6)} USD billed / ${Math.max(...meteredOver).toFixed(6)} USD metered; runs with overrun > 0 (USD or tokens): ${overRuns.length}, of which without a client abort: ${overWithoutAbort}; ` +
        `gateway-recorded overruns: ${sum((r) => r.gatewayOverruns)}; runs where meter ≠ billed: ${meterMismatch}; ` +
        `median USD utilisation ${median(utilUsd).toFixed(1)}% (what the worst-case reservation leaves unused: ${(100 - median(utilUsd)).toFixed(1)}%)`,
    );
    for (const r of results.filter((x) => overPico(x.billedPico, x.budgetUsd) > 0).slice(0, 5)) {
      console.log(
        `  overrun ${r.runKey}: budget $${r.budgetUsd}, billed $${(r.billedPico / PICO_PER_USD).toFixed(6)}, metered $${(r.meteredPico / PICO_PER_USD).toFixed(6)}, ` +
          `${r.requests} requests, ${r.aborts} client aborts, ${r.stalls} stalls, ${r.refusals} refusals`,
      );
    }
    for (const c of cli) {
      console.log(
        `  claude CLI: budget $${c.budgetUsd} → billed $${(c.billedPico / PICO_PER_USD).toFixed(4)}, metered $${c.meteredUsd.toFixed(4)}, ` +
          `${c.turns} turns, ${c.refused ? 'refused by the gateway' : 'not refused'}, exit ${c.exitCode}, ${c.ms} ms`,
      );
    }
    const allOver = [...billedOver, ...meteredOver, ...cli.map((c) => overPico(c.billedPico, c.budgetUsd))];
    printVerdict(Math.max(...allOver) === 0, `max USD overrun over ${results.length} scripted${cli.length ? ` + ${cli.length} real-CLI` : ''} runs must be 0`);
  } finally {
    await gw.stop();
    await model.stop();
  }
}

await main();
