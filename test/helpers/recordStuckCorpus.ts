/**
 * Records the stuck-detection regression corpus (test/fixtures/stuck-corpus/): runs the REAL
 * Claude Code and Codex CLIs on the host against the scripted model server
 * (devstack/scriptedModel.ts) in a copy of examples/calculator, with the scripts below, and stores
 * each CLI's stdout with when each line was read and what the work-tree watcher saw (see
 * ./stuckCorpus.ts). A stuck case's CLI is stopped on the verdict, as the activity would.
 *
 *   npm run build && node dist/test/helpers/recordStuckCorpus.js [case-name-substring…]
 *
 * Needs node_modules/.bin/claude and codex, python3, and gofmt (for the formatter case).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StreamMonitor, StuckDetector, WorkspaceWatcher, type ChangeSource } from '../../activities/stuck.js';
import { ScriptedModelServer, scriptFromSteps, type Script, type ScriptStep } from '../../devstack/scriptedModel.js';
import { CALCULATOR_TESTS, withSideRequests } from '../../devstack/scripts.js';
import type { StuckRule } from '../../workflows/types.js';
import { hostClaude } from './hostClaude.js';
import { repoRoot } from './paths.js';
import { corpusDir, parserFor, thresholdsOf, type CorpusMeta } from './stuckCorpus.js';

interface CaseDef {
  name: string;
  agents: Array<'claude' | 'codex'>;
  label: 'healthy' | 'stuck';
  rule?: StuckRule;
  description: string;
  thresholds?: CorpusMeta['thresholds'];
  script: () => Script;
}

const T = CALCULATOR_TESTS;
const T_ADD = 'python3 -m unittest test_calc.CalcTest.test_add';
const FIX: ScriptStep = { edit: { path: 'calc.py', old: '    """Return the sum of a and b."""\n    return a - b', new: '    """Return the sum of a and b."""\n    return a + b' } };
// The fix changes the file's size: Python trusts a .pyc whose source has the same size and mtime second.
const SED_FIX: ScriptStep = { bash: "sed -i '0,/return a - b/s//return (a + b)/' calc.py" };
/** Cycles through `steps` forever (after `first`). */
const cycle = (first: ScriptStep[], steps: ScriptStep[]): Script => withSideRequests((ctx) => first[ctx.turn] ?? steps[(ctx.turn - first.length) % steps.length]!);

const CASES: CaseDef[] = [
  {
    name: 'healthy.six-reads-then-fix',
    agents: ['claude', 'codex'],
    label: 'healthy',
    description: 'failing tests, six read-only calls (reads, grep, cat, ls, find), the fix as the eighth call, passing tests',
    script: () =>
      scriptFromSteps([
        { bash: T },
        { read: { path: 'calc.py' } },
        { read: { path: 'test_calc.py' } },
        { bash: 'grep -n "def " calc.py' },
        { bash: 'cat README.md' },
        { bash: 'ls -la' },
        { bash: 'find . -name "*.py"' },
        FIX,
        { bash: T },
      ]),
  },
  {
    name: 'healthy.long-test-run',
    agents: ['claude', 'codex'],
    label: 'healthy',
    description: 'a fix, then a test run that takes 6 s, longer than the 3 s silence limit (a running call is liveness)',
    thresholds: { silenceSeconds: 3 },
    script: () => scriptFromSteps([{ read: { path: 'calc.py' } }, FIX, { bash: `sleep 6 && ${T}` }]),
  },
  {
    name: 'healthy.sed-fix-retest',
    agents: ['claude', 'codex'],
    label: 'healthy',
    description: 'the same failing test run three times with `sed -i` edits in between, then a sed fix and a passing run',
    script: () =>
      scriptFromSteps([
        { bash: T_ADD },
        { bash: "sed -i 's/return a - b$/return (a - b)/' calc.py" },
        { bash: T_ADD },
        { bash: "sed -i 's/return (a - b)$/return a - b/' calc.py" },
        { bash: T_ADD },
        SED_FIX,
        { bash: T_ADD },
      ]),
  },
  {
    name: 'healthy.formatter-codemod',
    agents: ['claude'],
    label: 'healthy',
    description: 'failing tests re-run three times around a formatter (gofmt -w) and a codemod (perl -pi), then a sed fix',
    script: () =>
      scriptFromSteps([
        { bash: T },
        { bash: 'gofmt -w tools/fmt.go' },
        { bash: T },
        { bash: "perl -pi -e 's/Return the sum of a and b\\./Return a plus b./' calc.py" },
        { bash: T },
        SED_FIX,
        { bash: T },
      ]),
  },
  {
    name: 'stuck.same-failing-command',
    agents: ['claude', 'codex'],
    label: 'stuck',
    rule: 'repeated_failing_call',
    description: 'the same failing test command, again and again, nothing edited',
    script: () => cycle([], [{ bash: T_ADD }]),
  },
  {
    name: 'stuck.same-error-different-commands',
    agents: ['claude'],
    label: 'stuck',
    rule: 'repeated_error',
    description: 'different commands failing with the same ModuleNotFoundError',
    script: () => cycle([], ['import calcx', 'import calcx; calcx.add(1, 2)', 'from calcx import add', 'import calcx as c'].map((p) => ({ bash: `python3 -c "${p}"` }))),
  },
  {
    name: 'stuck.alternating',
    agents: ['claude'],
    label: 'stuck',
    rule: 'alternating_loop',
    description: 'Read calc.py, ls -la, Read calc.py, ls -la, …',
    script: () => cycle([], [{ read: { path: 'calc.py' } }, { bash: 'ls -la' }]),
  },
  {
    name: 'stuck.endless-reads',
    agents: ['claude'],
    label: 'stuck',
    rule: 'no_progress',
    description: 'failing tests, then read-only calls over seven different targets forever (the read-only cap)',
    script: () =>
      cycle(
        [{ bash: T }],
        [
          { read: { path: 'calc.py' } },
          { read: { path: 'test_calc.py' } },
          { bash: 'cat README.md' },
          { bash: 'grep -n def calc.py' },
          { bash: 'ls -la' },
          { bash: 'find . -name "*.py"' },
          { bash: 'wc -l calc.py' },
        ],
      ),
  },
  {
    name: 'stuck.probing-no-change',
    agents: ['codex'],
    label: 'stuck',
    rule: 'no_progress',
    description: 'failing tests, then commands that change nothing (python -c probes, echo)',
    script: () => cycle([{ bash: T }], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => ({ bash: i % 2 ? `echo probe ${i}` : `python3 -c "print(${i})"` }))),
  },
  {
    name: 'stuck.model-stall',
    agents: ['claude'],
    label: 'stuck',
    rule: 'silence',
    description: 'one command, then the model never answers (3 s silence limit)',
    thresholds: { silenceSeconds: 3 },
    script: () => withSideRequests((ctx) => (ctx.turn === 0 ? { bash: 'ls' } : { stall: true })),
  },
  {
    name: 'stuck.tool-call-too-long',
    agents: ['claude'],
    label: 'stuck',
    rule: 'silence',
    description: 'a command that runs past the 4 s limit for one call',
    thresholds: { silenceSeconds: 2, toolCallSeconds: 4 },
    script: () => scriptFromSteps([{ bash: 'sleep 30' }]),
  },
];

/** A copy of examples/calculator plus a badly formatted Go file. */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ns-corpus-work-'));
  cpSync(join(repoRoot(), 'examples', 'calculator'), dir, { recursive: true });
  mkdirSync(join(dir, 'tools'));
  writeFileSync(join(dir, 'tools', 'fmt.go'), 'package tools\nfunc  Add(a int,b int) int {\nreturn a+b }\n');
  return dir;
}

function codexCommand(url: string, home: string): { bin: string; args: string[]; env: Record<string, string> } {
  writeFileSync(
    join(home, 'config.toml'),
    `model = "gpt-5.5"\nmodel_provider = "gateway"\napproval_policy = "never"\nsandbox_mode = "danger-full-access"\ncheck_for_update_on_startup = false\n[analytics]\nenabled = false\n[features]\nplugins = false\n[model_providers.gateway]\nname = "Gateway"\nbase_url = "${url}/v1"\nwire_api = "responses"\nenv_key = "GATEWAY_TOKEN"\nrequest_max_retries = 0\nstream_max_retries = 0\nsupports_websockets = false\n`,
  );
  return {
    bin: join(repoRoot(), 'node_modules', '.bin', 'codex'),
    args: ['exec', '--json', '--skip-git-repo-check', '--disable', 'unbounded_connection_retries', 'Fix the failing test in this repository.'],
    env: { HOME: home, CODEX_HOME: home, GATEWAY_TOKEN: 'corpus-token' },
  };
}

/** Records one case for one agent; returns its meta (also written with the transcript). */
async function record(def: CaseDef, agent: 'claude' | 'codex'): Promise<CorpusMeta> {
  const model = new ScriptedModelServer({ script: def.script(), host: '127.0.0.1' });
  await model.start();
  const cwd = workspace();
  const home = mkdtempSync(join(tmpdir(), 'ns-corpus-home-'));
  const meta: CorpusMeta = {
    agent,
    label: def.label,
    ...(def.rule ? { rule: def.rule } : {}),
    description: def.description,
    thresholds: def.thresholds ?? {},
    testCommand: T,
    lineAtMs: [],
    changes: [],
    endMs: 0,
    cliVersion: '',
    recordedAt: new Date().toISOString(),
  };
  const cmd =
    agent === 'claude'
      ? hostClaude({ prompt: 'Fix the failing test in this repository.', model: 'claude-sonnet-4-5', gatewayUrl: model.url, token: 'corpus-token', home })
      : codexCommand(model.url, home);
  meta.cliVersion = spawnSync(cmd.bin, ['--version'], { encoding: 'utf8', env: { ...cmd.env, PATH: process.env.PATH ?? '' } }).stdout.trim();
  const watcher = new WorkspaceWatcher(cwd);
  await watcher.changes();
  const changes: ChangeSource = {
    changes: async () => {
      const c = await watcher.changes();
      meta.changes.push(c);
      return c;
    },
  };
  const detector = new StuckDetector(thresholdsOf(meta), { testCommand: T, reportsShellChanges: true });
  const lines: string[] = [];
  const started = Date.now();
  const child = spawn(cmd.bin, cmd.args, { cwd, env: { ...cmd.env, PATH: `${process.env.PATH ?? '/usr/bin:/bin'}:/usr/local/go/bin` }, stdio: ['ignore', 'pipe', 'pipe'] });
  let verdictRule: string | undefined;
  const monitor = new StreamMonitor({
    parser: parserFor(agent),
    detector,
    changes,
    onVerdict: (v) => {
      verdictRule = v.rule;
      console.log(`  ${def.name}.${agent}: verdict ${v.rule} — ${v.message}`);
      if (def.label === 'stuck') child.kill('SIGTERM');
    },
  });
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.trim()) continue;
      lines.push(line);
      meta.lineAtMs.push(Date.now() - started);
      monitor.push(line, Date.now());
    }
  });
  const ticker = setInterval(() => monitor.checkSilence(Date.now()), 250);
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  await new Promise<void>((ok) => child.on('close', () => ok()));
  meta.endMs = Date.now() - started;
  clearInterval(ticker);
  clearTimeout(guard);
  await monitor.drained();
  await model.stop();
  rmSync(cwd, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
  const base = join(corpusDir(), `${def.name}.${agent}`);
  writeFileSync(`${base}.jsonl`, lines.map((l) => `${l}\n`).join(''));
  writeFileSync(`${base}.meta.json`, `${JSON.stringify(meta, null, 1)}\n`);
  const ok = def.label === 'healthy' ? verdictRule === undefined : verdictRule === def.rule;
  console.log(`${ok ? 'ok  ' : 'BAD '} ${def.name}.${agent}: ${lines.length} lines, ${meta.endMs} ms, verdict ${verdictRule ?? 'none'}`);
  return meta;
}

async function main(): Promise<void> {
  mkdirSync(corpusDir(), { recursive: true });
  const only = process.argv.slice(2);
  for (const def of CASES) {
    for (const agent of def.agents) {
      if (only.length && !only.some((o) => `${def.name}.${agent}`.includes(o))) continue;
      await record(def, agent);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
