/**
 * Benchmark: time from the third repeat of a failing call to the stuck verdict (target ≤ 1 s).
 *
 * Three measurements, from the moment Nightshift reads the stream-json line carrying the third
 * failing `tool_result` of the same call:
 * - end to end in a container: the activity `runAgentAttempt` itself (in `MockActivityEnvironment`,
 *   no Temporal server), the real Claude Code CLI in the real sandbox (nightshift/claude-code),
 *   the real gateway, a scripted model that runs the same failing test command every turn
 *   (examples/calculator, `python3 -m unittest test_calc.CalcTest.test_add`). The line is timed
 *   where SandboxManager hands it to the activity; the verdict is when the activity's stop reaches
 *   `kill()`; "container stopped" is Docker's `die` event as received here. The sandbox network is
 *   an `--internal` bridge, so that gateway listens on the network's gateway address (host side,
 *   not reachable from outside the host); BENCH_NO_BRIDGE=1 skips this part.
 * - end to end on the host: the same CLI and script as a child process (gateway on 127.0.0.1),
 *   its stdout read line by line into ClaudeStreamParser + StuckDetector, SIGKILL on the verdict;
 *   line → verdict and line → process exited.
 * - in process: ClaudeStreamParser.push + StuckDetector.observe of that line, over many synthetic
 *   sessions (no history, and after 500 earlier successful calls).
 *
 * Knobs: BENCH_N (10 container runs, 5 host runs = ceil(N/2)), BENCH_STUCK_TRIALS (5000).
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ClaudeStreamParser } from '../activities/agents/claudeStream.js';
import { claudeCodeRunner } from '../activities/agents/runner.js';
import { StuckDetector } from '../activities/stuck.js';
import { ScriptedModelServer } from '../devstack/scriptedModel.js';
import { CALCULATOR_TESTS, repeatFailingCommandScript } from '../devstack/scripts.js';
import { startGateway } from '../test/helpers/gatewayHarness.js';
import { hostClaude } from '../test/helpers/hostClaude.js';
import { fixturePath, repoRoot } from '../test/helpers/paths.js';
import type { ModelGateway } from '../worker/gateway/index.js';
import { envInt, max, printTable, printVerdict, type Row } from './lib.js';
import { attempt, DEFAULT_STUCK, DieWatcher, dockerReady, makeWorkspace, MODEL, newDocker, quietLogger, SETTINGS, startBridgeGateway, TimedSandbox, wallNow } from './sandboxKit.js';

const N = envInt('BENCH_N', 10, 1, 1000);
const HOST_N = Math.ceil(N / 2);
const TRIALS = envInt('BENCH_STUCK_TRIALS', 5000, 1, 1_000_000);
const TARGET_MS = 1000;
const FAILING = 'python3 -m unittest test_calc.CalcTest.test_add';
const pid = process.pid.toString(36);

/** Whether a stream-json line is a user message carrying a failing tool_result. */
function isFailingResult(line: string): boolean {
  if (!line.includes('"tool_result"') || !line.includes('"is_error":true')) return false;
  try {
    const o = JSON.parse(line) as { type?: string; message?: { content?: unknown } };
    return o.type === 'user' && Array.isArray(o.message?.content) && o.message.content.some((b: { type?: string; is_error?: boolean }) => b?.type === 'tool_result' && b.is_error === true);
  } catch {
    return false;
  }
}

// ---------- in process ----------

interface FixtureLines {
  call: Record<string, unknown>;
  fail: Record<string, unknown>;
  okCall: Record<string, unknown>;
  okResult: Record<string, unknown>;
}

/** A failing Bash call and its result, and a successful Read, from a recorded-shape fixture. */
function fixtureLines(): FixtureLines {
  const lines = readFileSync(fixturePath('agents', 'claude.repeated-failing-command.synthetic.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const content = (l: Record<string, unknown>) => ((l.message as { content: Array<Record<string, unknown>> }).content ?? [])[0] ?? {};
  const call = lines.find((l) => l.type === 'assistant' && content(l).name === 'Bash')!;
  const fail = lines.find((l) => l.type === 'user' && content(l).is_error === true)!;
  const okCall = lines.find((l) => l.type === 'assistant' && content(l).name === 'Read')!;
  const okResult = lines.find((l) => l.type === 'user' && content(l).is_error === false)!;
  return { call, fail, okCall, okResult };
}

/** The pair of lines of call `id`: the assistant tool_use and the user tool_result. */
function pair(tpl: FixtureLines, id: string, ok: boolean, i: number): [string, string] {
  const call = structuredClone(ok ? tpl.okCall : tpl.call) as { message: { content: Array<Record<string, unknown>> } };
  call.message.content[0]!.id = id;
  if (ok) call.message.content[0]!.input = { file_path: `/workspace/src/file${i}.ts` };
  const res = structuredClone(ok ? tpl.okResult : tpl.fail) as { message: { content: Array<Record<string, unknown>> } };
  res.message.content[0]!.tool_use_id = id;
  return [JSON.stringify(call), JSON.stringify(res)];
}

/** ms per third-failure line (parse + detect), `history` successful calls first. */
function inProcess(tpl: FixtureLines, history: number, trials: number): { perLine: number[]; verdicts: number } {
  const perLine: number[] = [];
  let verdicts = 0;
  for (let t = 0; t < trials; t++) {
    const lines: string[] = [];
    for (let h = 0; h < history; h++) lines.push(...pair(tpl, `toolu_h${t}_${h}`, true, h));
    for (let k = 0; k < 3; k++) lines.push(...pair(tpl, `toolu_f${t}_${k}`, false, k));
    const parser = new ClaudeStreamParser();
    const detector = new StuckDetector(DEFAULT_STUCK, { testCommand: 'npm test' });
    const last = lines.length - 1;
    for (let i = 0; i < last; i++) for (const ev of parser.push(lines[i]!, Date.now())) detector.observe(ev);
    const t0 = performance.now();
    let verdict;
    for (const ev of parser.push(lines[last]!, Date.now())) verdict = detector.observe(ev) ?? verdict;
    perLine.push(performance.now() - t0);
    if (verdict?.rule === 'repeated_failing_call') verdicts++;
  }
  return { perLine, verdicts };
}

// ---------- the real CLI on the host ----------

interface HostSample {
  verdict?: number;
  exited?: number;
  rule?: string;
  note?: string;
}

function hostRun(gw: ModelGateway, token: string, cwd: string, home: string): Promise<HostSample> {
  const c = hostClaude({ prompt: 'Make the failing test pass.', model: MODEL, gatewayUrl: gw.url, token, home });
  return new Promise((resolve, reject) => {
    const p = spawn(c.bin, c.args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], env: c.env });
    const parser = new ClaudeStreamParser();
    const detector = new StuckDetector(DEFAULT_STUCK, { testCommand: CALCULATOR_TESTS });
    const s: HostSample = {};
    let failures = 0;
    let lineAt: number | undefined;
    const safety = setTimeout(() => {
      s.note = 'no verdict within 60 s';
      p.kill('SIGKILL');
    }, 60_000);
    const rl = createInterface({ input: p.stdout, crlfDelay: Infinity });
    rl.on('line', (line) => {
      const at = wallNow();
      if (isFailingResult(line) && ++failures === 3) lineAt = at;
      if (s.verdict !== undefined) return;
      for (const ev of parser.push(line, Date.now())) {
        const v = detector.observe(ev);
        if (v && s.verdict === undefined) {
          s.verdict = lineAt !== undefined ? wallNow() - lineAt : undefined;
          s.rule = v.rule;
          p.kill('SIGKILL');
        }
      }
    });
    p.on('error', reject);
    p.on('exit', () => {
      const at = wallNow();
      clearTimeout(safety);
      if (lineAt !== undefined && s.verdict !== undefined) s.exited = at - lineAt;
      if (s.rule && s.rule !== 'repeated_failing_call') s.note = `verdict ${s.rule}`;
      resolve(s);
    });
  });
}

// ---------- in a container, through runAgentAttempt ----------

interface ContainerSample {
  verdict?: number;
  handler?: number;
  stopped?: number;
  exited?: number;
  returned?: number;
  note?: string;
}

async function containerRun(sandbox: TimedSandbox, dies: DieWatcher, gw: ModelGateway, i: number): Promise<ContainerSample> {
  const ws = makeWorkspace(true);
  const workflowId = `bench-stuck-${pid}-${i}`;
  let failures = 0;
  let lineAt: number | undefined;
  let afterAt: number | undefined;
  sandbox.lineHook = (stream, line, phase, at) => {
    if (stream !== 'stdout' || !isFailingResult(line)) return;
    if (phase === 'before' && ++failures === 3) lineAt = at;
    if (phase === 'after' && failures === 3 && afterAt === undefined) afterAt = at;
  };
  try {
    const rec = await attempt({
      sandbox,
      gateway: gw,
      gatewayUrl: gw.url,
      runner: claudeCodeRunner,
      workflowId,
      workspace: ws,
      wallClockMs: 60_000,
      testCommand: CALCULATOR_TESTS,
      prompt: 'Make the failing test pass.',
    });
    const returnedAt = wallNow();
    const t = sandbox.times;
    const die = t.id ? await dies.die(t.id, 5000) : undefined;
    if (lineAt === undefined) return { note: `no third failing result was read (end "${rec.end}", ${failures} failures)` };
    return {
      verdict: t.killCalledAt !== undefined ? t.killCalledAt - lineAt : undefined,
      handler: afterAt !== undefined ? afterAt - lineAt : undefined,
      stopped: die ? die.seenAt - lineAt : undefined,
      exited: t.exitedAt !== undefined ? t.exitedAt - lineAt : undefined,
      returned: returnedAt - lineAt,
      note: rec.end === 'stuck' && rec.stuck?.rule === 'repeated_failing_call' && rec.stuck.repeats === 3 ? undefined : `attempt ended "${rec.end}" ${rec.stuck?.rule ?? ''} ${rec.stuck?.repeats ?? ''}`,
    };
  } finally {
    sandbox.lineHook = undefined;
    await sandbox.removeRunContainers(workflowId).catch(() => undefined);
    ws.remove();
  }
}

const nums = <T>(xs: T[], f: (x: T) => number | undefined): number[] => xs.map(f).filter((v): v is number => typeof v === 'number');

async function main(): Promise<void> {
  const rows: Row[] = [];
  const headline: Row[] = [];
  const notes: string[] = [];

  const model = new ScriptedModelServer({ script: repeatFailingCommandScript(FAILING) });
  await model.start();
  const loopGw = await startGateway(model.url);
  try {
    // In a container, through the activity.
    const docker = newDocker();
    const notReady = await dockerReady(docker);
    if (process.env.BENCH_NO_BRIDGE === '1') notes.push('container runs skipped (BENCH_NO_BRIDGE=1)');
    else if (notReady) notes.push(`container runs not measured: ${notReady}`);
    else {
      const sandbox = new TimedSandbox(docker, SETTINGS, quietLogger());
      const dies = await DieWatcher.start(docker);
      const bridged = await startBridgeGateway(sandbox, model.url);
      const bridge = bridged.gw;
      const samples: ContainerSample[] = [];
      try {
        // Runs spoiled by something else (e.g. another worker's orphan sweep removing our container) are retried, up to 2N tries.
        for (let i = 0, clean = 0; clean < N && i < 2 * N; i++) {
          let s: ContainerSample;
          try {
            s = await containerRun(sandbox, dies, bridge, i);
          } catch (err) {
            s = { note: `failed: ${(err as Error).message.slice(0, 160)}` };
          }
          samples.push(s);
          if (!s.note) clean++;
        }
      } finally {
        dies.stop();
        await bridged.close();
      }
      const clean = samples.filter((s) => !s.note);
      const v = nums(clean, (s) => s.verdict);
      const r: Row = { what: 'container, runAgentAttempt: 3rd failing line read → verdict (kill issued)', samples: v, unit: 'ms', target: `≤ ${TARGET_MS} ms (max)`, met: v.length > 0 && max(v) <= TARGET_MS, digits: 2 };
      rows.push(r);
      headline.push(r);
      rows.push({ what: '  … → container stopped (Docker die received)', samples: nums(clean, (s) => s.stopped), unit: 'ms', target: '-' });
      rows.push({ what: '  … → exited resolved (wait + drain)', samples: nums(clean, (s) => s.exited), unit: 'ms', target: '-' });
      rows.push({ what: '  … → runAgentAttempt returned', samples: nums(clean, (s) => s.returned), unit: 'ms', target: '-' });
      const bad = samples.filter((s) => s.note);
      if (bad.length) notes.push(`container: ${bad.length}/${samples.length} tries not counted: ${bad.slice(0, 3).map((s) => s.note).join(' | ')}`);
    }

    // On the host.
    const claude = join(repoRoot(), 'node_modules', '.bin', 'claude');
    if (!existsSync(claude)) notes.push(`host runs not measured: ${claude} not found`);
    else {
      const samples: HostSample[] = [];
      for (let i = 0; i < HOST_N; i++) {
        const cwd = mkdtempSync(join(tmpdir(), 'ns-bench-stuck-'));
        const home = mkdtempSync(join(tmpdir(), 'ns-bench-stuck-home-'));
        cpSync(join(repoRoot(), 'examples', 'calculator'), cwd, { recursive: true });
        const runKey = `bench-stuck-host-${pid}-${i}`;
        const { token } = loopGw.openRun(runKey, { tokens: 10_000_000, usd: 100 });
        try {
          samples.push(await hostRun(loopGw, token, cwd, home));
        } catch (err) {
          samples.push({ note: `failed: ${(err as Error).message.slice(0, 160)}` });
        } finally {
          loopGw.closeRun(runKey);
          rmSync(cwd, { recursive: true, force: true });
          rmSync(home, { recursive: true, force: true });
        }
      }
      const clean = samples.filter((s) => !s.note);
      const v = nums(clean, (s) => s.verdict);
      const r: Row = { what: 'host CLI: 3rd failing line read → verdict', samples: v, unit: 'ms', target: `≤ ${TARGET_MS} ms (max)`, met: v.length > 0 && max(v) <= TARGET_MS, digits: 2 };
      rows.push(r);
      headline.push(r);
      rows.push({ what: '  … → CLI process exited (SIGKILL)', samples: nums(clean, (s) => s.exited), unit: 'ms', target: '-' });
      const bad = samples.filter((s) => s.note);
      if (bad.length) notes.push(`host: ${bad.length}/${samples.length} tries not counted: ${bad.slice(0, 3).map((s) => s.note).join(' | ')}`);
    }
  } finally {
    await loopGw.stop();
    await model.stop();
  }

  // In process.
  const tpl = fixtureLines();
  inProcess(tpl, 0, Math.min(200, TRIALS)); // warm-up
  for (const history of [0, 500]) {
    const trials = history ? Math.max(1, Math.floor(TRIALS / 10)) : TRIALS;
    const { perLine, verdicts } = inProcess(tpl, history, trials);
    const r: Row = {
      what: `in process: parse + detect of the 3rd failing line${history ? `, after ${history} calls` : ''}`,
      samples: perLine,
      unit: 'ms',
      target: `≤ ${TARGET_MS} ms (max)`,
      met: verdicts === trials && max(perLine) <= TARGET_MS,
      digits: 3,
    };
    rows.push(r);
    headline.push(r);
    if (verdicts !== trials) notes.push(`in process (history ${history}): only ${verdicts}/${trials} sessions reached repeated_failing_call`);
  }

  printTable('Third repeat of a failing call → stuck verdict', rows);
  for (const n of notes) console.log(n);
  printVerdict(headline.every((r) => r.met), `every measured "line → verdict" ≤ ${TARGET_MS} ms at its max`);
}

await main();
