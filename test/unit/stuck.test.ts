import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseClaudeTranscript } from '../../activities/agents/claudeStream.js';
import { parseCodexTranscript } from '../../activities/agents/codexStream.js';
import { callKey, errorSignature, isReadOnlyCall, isReadOnlyCommand, isTestCommand, normalizeCommand, StuckDetector } from '../../activities/stuck.js';
import type { StuckThresholds } from '../../worker/config.js';
import type { AgentEvent, StuckVerdict } from '../../workflows/types.js';
import { fixturePath } from '../helpers/paths.js';

/** The configuration's defaults. */
const TH: StuckThresholds = { repeatedFailingCall: 3, repeatedError: 3, alternatingCycles: 3, noProgressCalls: 8, silenceSeconds: 300, readOnlyCalls: 30, toolCallSeconds: 900 };

type ToolCall = Extract<AgentEvent, { kind: 'tool_call' }>;

/** A scripted stream: every event one second after the previous one. */
class Script {
  private t = 1_700_000_000_000;
  readonly events: AgentEvent[] = [];
  private n = 0;
  private add<E extends AgentEvent>(ev: E): E {
    this.events.push(ev);
    return ev;
  }
  private next(): number {
    this.t += 1000;
    return this.t;
  }
  call(name: string, input: unknown, result = '', opts: { isError?: boolean; exitCode?: number } = {}): ToolCall {
    const ev: ToolCall = { kind: 'tool_call', at: this.next(), id: `c${++this.n}`, name, input, result, isError: opts.isError ?? false };
    if (opts.exitCode !== undefined) ev.exitCode = opts.exitCode;
    return this.add(ev);
  }
  bash(command: string, exitCode: number, output = '', extra: Record<string, unknown> = {}): ToolCall {
    const result = exitCode === 0 ? output : `Exit code ${exitCode}\n${output}`;
    return this.call('Bash', { command, description: 'run it', ...extra }, result, { isError: exitCode !== 0, exitCode });
  }
  read(path: string, content = `contents of ${path}`): ToolCall {
    return this.call('Read', { file_path: path }, content);
  }
  edit(path: string): [ToolCall, AgentEvent] {
    const call = this.call('Edit', { file_path: path, old_string: `a${this.n}`, new_string: `b${this.n}` }, 'The file has been updated.');
    return [call, this.add({ kind: 'file_change', at: call.at, paths: [path] })];
  }
  message(text: string): AgentEvent {
    return this.add({ kind: 'message', at: this.next(), text });
  }
  final(): AgentEvent {
    return this.add({ kind: 'final', at: this.next(), text: 'done', isError: false, subtype: 'success', permissionDenials: 0 });
  }
}

/** Feeds events to a fresh detector; returns the verdict and the event that produced it. */
function run(events: AgentEvent[], thresholds: StuckThresholds = TH, testCommand?: string): { verdict?: StuckVerdict; at?: AgentEvent; detector: StuckDetector } {
  const detector = new StuckDetector(thresholds, { testCommand, now: () => events[0]?.at ?? 0 });
  for (const ev of events) {
    const verdict = detector.observe(ev);
    if (verdict) return { verdict, at: ev, detector };
  }
  return { detector };
}

const fixture = (name: string): string => readFileSync(fixturePath('agents', name), 'utf8');
const transcript = (name: string): AgentEvent[] => (name.startsWith('codex') ? parseCodexTranscript(fixture(name)) : parseClaudeTranscript(fixture(name)));
const toolCalls = (events: AgentEvent[]): ToolCall[] => events.filter((e): e is ToolCall => e.kind === 'tool_call');

const TS_ERROR = (ms: number, tmp: string) =>
  `src/config.ts(14,7): error TS2322: Type 'string' is not assignable to type 'number'.\nnpm error A complete log of this run can be found in: ${tmp}/debug-0.log\nDone in ${ms}ms`;

describe('normalization', () => {
  test('shell commands: wrappers, cd prefixes, timeouts, output plumbing and whitespace are stripped', () => {
    const same = [
      'npm test',
      '  npm   test ',
      'cd /workspace && npm test',
      'cd "/workspace/my app"; npm test',
      'timeout 120 npm test',
      'npm test 2>&1 | tail -n 50',
      'npm test 2>&1 | head -100',
      'npm test; echo "exit: $?"',
      "bash -lc 'cd /workspace && npm test 2>&1 | tail -20'",
      '/bin/bash -lc "npm test"',
    ];
    for (const c of same) assert.equal(normalizeCommand(c), 'npm test', c);
    assert.equal(normalizeCommand(`/bin/bash -lc "rg -n \\"retry\\" src"`), 'rg -n "retry" src');
    assert.notEqual(normalizeCommand('npm test -- -t slugify'), 'npm test');
    assert.notEqual(normalizeCommand('npm run build'), 'npm test');
  });

  test('call keys ignore descriptions, timeouts and /workspace prefixes, not what the call does', () => {
    assert.equal(
      callKey('Bash', { command: 'npm test', description: 'Run tests', timeout: 60000 }),
      callKey('Bash', { command: 'cd /workspace && npm test', description: 'Run the tests again', run_in_background: false }),
    );
    assert.equal(callKey('Read', { file_path: '/workspace/src/a.ts' }), callKey('Read', { file_path: 'src/a.ts' }));
    assert.equal(callKey('Grep', { path: '/workspace/src/', pattern: 'x' }), callKey('Grep', { pattern: 'x', path: 'src' }));
    assert.equal(callKey('exec_command', { command: ['bash', '-lc', 'npm test'] }), callKey('exec_command', { command: "bash -lc 'npm test'" }));
    assert.notEqual(callKey('Read', { file_path: 'src/a.ts' }), callKey('Read', { file_path: 'src/b.ts' }));
    assert.notEqual(callKey('Read', { file_path: 'src/a.ts' }), callKey('Read', { file_path: 'src/a.ts', offset: 200 }));
    assert.notEqual(callKey('Bash', { command: 'ls' }), callKey('exec_command', { command: 'ls' }));
  });

  test('error signatures: the same error looks the same despite durations, temp paths, timestamps, pids, ports and positions', () => {
    assert.equal(errorSignature(TS_ERROR(1234, '/tmp/.npm/_logs/2025-11-20T23_41_01_112Z')), errorSignature(TS_ERROR(87, '/tmp/.npm/_logs/2025-11-21T01_02_03_004Z')));
    assert.equal(
      errorSignature('Exit code 1\n[2025-11-20T23:41:07.123Z] Error: connect ECONNREFUSED 127.0.0.1:43817 (pid 4242, after 1.5s)'),
      errorSignature('Exit code 7\n[2025-11-21T02:00:00.999Z] Error: connect ECONNREFUSED 127.0.0.1:39211 (pid 977, after 30 ms)'),
    );
    assert.equal(
      errorSignature('E   ModuleNotFoundError: No module named \'requests\''),
      errorSignature('Traceback (most recent call last):\n  File "/workspace/c.py", line 2, in <module>\nModuleNotFoundError: No module named \'requests\''),
    );
    assert.equal(errorSignature('TypeError: x is undefined\n    at f (/workspace/src/a.ts:10:5)'), errorSignature('TypeError: x is undefined\n    at g (/workspace/src/a.ts:99:1)'));
    assert.notEqual(errorSignature('TypeError: x is undefined'), errorSignature('TypeError: y is undefined'));
    assert.notEqual(errorSignature("AssertionError: expected 3, got 4"), errorSignature("AssertionError: expected 3, got 5"));
    assert.equal(errorSignature('Exit code 1\n'), '', 'a bare exit code is no error text');
  });

  test('test commands: configured command or a recognisable runner', () => {
    for (const c of ['npm test', 'npm run test -- --watch=false', 'pnpm test', 'npx vitest run', 'python -m pytest -q', 'pytest tests/', 'go test ./...', 'cargo test', 'node --test test/', 'make check', 'CI=1 npx jest src/a.test.ts', 'cd /workspace && uv run pytest -x'])
      assert.equal(isTestCommand(c), true, c);
    for (const c of ['npm run build', 'cat test/a.test.ts', 'ls test', 'git status', 'grep -r pytest .', 'echo "run npm test later"']) assert.equal(isTestCommand(c), false, c);
    assert.equal(isTestCommand('./ci/run-suite.sh --fast'), false);
    assert.equal(isTestCommand('cd /workspace && ./ci/run-suite.sh --fast 2>&1 | tail -5', './ci/run-suite.sh'), true);
  });
});

describe('repeated_failing_call', () => {
  test('fires at the third failure of the same call, written differently, with its evidence', () => {
    const s = new Script();
    const first = s.bash('npm run build', 2, TS_ERROR(900, '/tmp/a1'));
    s.read('/workspace/src/config.ts');
    s.bash('cd /workspace && npm run build', 2, TS_ERROR(950, '/tmp/b2'), { timeout: 120000 });
    s.call('Grep', { pattern: 'PORT', path: 'src' }, 'src/config.ts:14');
    const third = s.bash('npm run build 2>&1 | tail -40', 2, TS_ERROR(870, '/tmp/c3'));
    const { verdict, at } = run(s.events);
    assert.equal(at, third);
    assert.equal(verdict?.rule, 'repeated_failing_call');
    assert.equal(verdict.repeats, 3);
    assert.equal(verdict.startedAt, first.at);
    assert.equal(verdict.decidedAt, third.at);
    assert.match(verdict.message, /npm run build/);
    assert.ok(verdict.evidence.some((e) => e.includes('Bash: npm run build')));
    assert.ok(verdict.evidence.some((e) => e.includes("error TS2322: Type 'string' is not assignable")));
    assert.ok(verdict.evidence.some((e) => e.includes(new Date(first.at).toISOString()) && e.includes(new Date(third.at).toISOString())));
  });

  test('one short of the threshold does not fire; the threshold comes from the configuration', () => {
    const s = new Script();
    s.bash('npm run build', 2, 'error TS2322');
    s.bash('npm run build', 2, 'error TS2322');
    assert.equal(run(s.events).verdict, undefined);
    const third = s.bash('npm run build', 2, 'error TS2322');
    assert.equal(run(s.events, { ...TH, repeatedFailingCall: 4 }).verdict, undefined);
    const fourth = s.bash('npm run build', 2, 'error TS2322');
    const r = run(s.events, { ...TH, repeatedFailingCall: 4 });
    assert.equal(r.at, fourth);
    assert.equal(r.verdict?.repeats, 4);
    assert.notEqual(r.at, third);
  });

  test('a file change or a success of the call resets the count', () => {
    const s = new Script();
    s.bash('npm test', 1, 'AssertionError: boom');
    s.bash('npm test', 1, 'AssertionError: boom');
    s.edit('/workspace/src/a.ts');
    s.bash('npm test', 1, 'AssertionError: boom');
    s.bash('npm test', 1, 'AssertionError: boom');
    assert.equal(run(s.events).verdict, undefined, 'edit in between');
    const t = new Script();
    t.bash('npm ci', 1, 'npm error network ETIMEDOUT');
    t.bash('npm ci', 1, 'npm error network ETIMEDOUT');
    t.bash('npm ci', 0, 'added 312 packages');
    t.bash('npm ci', 1, 'npm error network ETIMEDOUT');
    t.bash('npm ci', 1, 'npm error network ETIMEDOUT');
    assert.equal(run(t.events).verdict, undefined, 'success in between');
  });
});

describe('repeated_error', () => {
  const missing = (where: string, ms: number) => `Traceback (most recent call last):\n  File "${where}", line ${ms % 50}, in <module>\n    import requests\nModuleNotFoundError: No module named 'requests'\nran in ${ms}ms`;

  test('fires when the third different call gives the same error', () => {
    const s = new Script();
    const first = s.call('exec_command', { command: "bash -lc 'python -m pytest -q'" }, `E   ModuleNotFoundError: No module named 'requests'\n1 error in 0.12s`, { isError: true, exitCode: 4 });
    s.call('exec_command', { command: 'bash -lc "python -c \\"import client\\""' }, missing('<string>', 31), { isError: true, exitCode: 1 });
    const third = s.call('exec_command', { command: "bash -lc 'python3 tests/test_client.py'" }, missing('/workspace/tests/test_client.py', 77), { isError: true, exitCode: 1 });
    const { verdict, at } = run(s.events);
    assert.equal(at, third);
    assert.equal(verdict?.rule, 'repeated_error');
    assert.equal(verdict.repeats, 3);
    assert.equal(verdict.startedAt, first.at);
    assert.ok(verdict.evidence.includes("error: ModuleNotFoundError: No module named 'requests'"));
    for (const c of ['python -m pytest -q', 'python -c "import client"', 'python3 tests/test_client.py']) assert.ok(verdict.evidence.some((e) => e.includes(c)), c);
  });

  test('two different calls, even with the first repeated, do not fire; nor three around a file change', () => {
    const s = new Script();
    s.call('exec_command', { command: 'pytest' }, missing('a', 1), { isError: true, exitCode: 1 });
    s.call('exec_command', { command: 'python -c "import client"' }, missing('b', 2), { isError: true, exitCode: 1 });
    s.call('exec_command', { command: 'pytest' }, missing('a', 3), { isError: true, exitCode: 1 });
    assert.equal(run(s.events).verdict, undefined);
    const t = new Script();
    t.call('exec_command', { command: 'pytest' }, missing('a', 1), { isError: true, exitCode: 1 });
    t.call('exec_command', { command: 'python -c "import client"' }, missing('b', 2), { isError: true, exitCode: 1 });
    t.edit('/workspace/requirements.txt');
    t.call('exec_command', { command: 'python3 tests/test_client.py' }, missing('c', 3), { isError: true, exitCode: 1 });
    assert.equal(run(t.events).verdict, undefined);
  });
});

describe('alternating_loop', () => {
  const loop = (s: Script, cycles: number): ToolCall[] => {
    const calls: ToolCall[] = [];
    for (let i = 0; i < cycles; i++) {
      calls.push(s.call('Grep', { pattern: 'loadConfig', path: i % 2 ? '/workspace/src' : 'src' }, 'src/config.ts:1:export function loadConfig'));
      calls.push(s.read('/workspace/src/config.ts'));
    }
    return calls;
  };

  test('fires after three A,B cycles with the same results, naming A and B', () => {
    const s = new Script();
    s.message('looking for the config loader');
    const calls = loop(s, 3);
    const { verdict, at } = run(s.events);
    assert.equal(at, calls[5]);
    assert.equal(verdict?.rule, 'alternating_loop');
    assert.equal(verdict.repeats, 3);
    assert.equal(verdict.startedAt, calls[0]!.at);
    assert.ok(verdict.evidence.some((e) => e.startsWith('A: Grep:') && e.includes('loadConfig')));
    assert.ok(verdict.evidence.some((e) => e.startsWith('B: Read:') && e.includes('src/config.ts')));
  });

  test('five calls (one short) do not fire; nor with a file change inside; nor when the results change (polling)', () => {
    const s = new Script();
    loop(s, 2);
    s.call('Grep', { pattern: 'loadConfig', path: 'src' }, 'src/config.ts:1:export function loadConfig');
    assert.equal(run(s.events).verdict, undefined);
    const t = new Script();
    loop(t, 2);
    t.edit('/workspace/src/config.ts');
    loop(t, 2);
    assert.equal(run(t.events).verdict, undefined);
    const u = new Script();
    for (let i = 0; i < 4; i++) {
      u.bash('sleep 5', 0);
      u.call('TaskOutput', { task_id: 'bg1', block: false, timeout: 1000 }, `building… ${(i + 1) * 20}% done`);
    }
    assert.equal(run(u.events).verdict, undefined);
  });
});

describe('no_progress', () => {
  test('read-only calls do not count: a fix after six reads (and a search, a todo update, git diff) is healthy', () => {
    const s = new Script();
    s.bash('npm test', 1, 'AssertionError [ERR_ASSERTION]: Expected values to be strictly equal');
    for (const f of ['a', 'b', 'c', 'd', 'e', 'f']) s.read(`/workspace/src/${f}.ts`);
    s.call('Grep', { pattern: 'slugify', path: '/workspace' }, 'src/a.ts');
    s.call('TodoWrite', { todos: [{ content: 'fix slugify', status: 'in_progress' }] }, 'ok');
    s.bash('git diff --stat', 0, '');
    s.bash('cd /workspace && rg -n slug src | head -20', 0, 'src/a.ts:1:slug');
    s.edit('/workspace/src/a.ts');
    s.bash('npm test', 0, 'pass 3');
    assert.equal(run(s.events).verdict, undefined);
  });

  test('fires at the eighth call that is neither read-only nor an edit, saying how many reads it did not count', () => {
    const s = new Script();
    const test1 = s.bash('npm test', 1, 'AssertionError [ERR_ASSERTION]: Expected values to be strictly equal');
    s.read('/workspace/src/a.ts');
    for (let i = 0; i < 6; i++) s.bash(`node -e "console.log(${i})"`, 0, `${i}`);
    s.bash('cat src/a.ts', 0, 'x');
    assert.equal(run(s.events).verdict, undefined, 'seven counted calls: one short');
    const eighth = s.bash('echo still looking', 0, 'still looking');
    const { verdict, at } = run(s.events);
    assert.equal(at, eighth);
    assert.equal(verdict?.rule, 'no_progress');
    assert.equal(verdict.repeats, 8);
    assert.equal(verdict.startedAt, test1.at);
    assert.equal(verdict.message, '8 tool calls without a file change while the tests keep failing (read-only calls not counted: 2)');
    assert.ok(verdict.evidence.includes('failing test run: Bash: npm test'));
    assert.ok(verdict.evidence.some((e) => e.includes('AssertionError [ERR_ASSERTION]')));
  });

  test('reading forever still ends: readOnlyCalls read-only calls in a row fire, one fewer does not', () => {
    const s = new Script();
    const test1 = s.bash('npm test', 1, 'AssertionError: nope');
    for (let i = 0; i < 29; i++) s.read(`/workspace/src/r${i}.ts`);
    assert.equal(run(s.events).verdict, undefined);
    const last = s.bash('grep -rn slug src', 0, 'src/a.ts:1');
    const { verdict, at } = run(s.events);
    assert.equal(at, last);
    assert.equal(verdict?.rule, 'no_progress');
    assert.equal(verdict.repeats, 30);
    assert.equal(verdict.startedAt, test1.at);
    assert.match(verdict.message, /^30 read-only calls without a file change while the tests keep failing$/);
    assert.equal(run(s.events, { ...TH, readOnlyCalls: 31 }).verdict, undefined, 'the cap comes from the configuration');
  });

  test('an edit call is not counted before its change; a failed edit is', () => {
    const s = new Script();
    s.bash('npm test', 1, 'AssertionError: nope');
    for (let i = 0; i < 6; i++) s.bash(`node -e "${i}"`, 0, '');
    const [, change] = s.edit('/workspace/src/a.ts');
    assert.equal(run(s.events).verdict, undefined, 'the eighth call is the fix');
    for (let i = 0; i < 7; i++) s.bash(`node -e "x${i}"`, 0, '');
    assert.equal(run(s.events).verdict, undefined);
    s.call('Edit', { file_path: '/workspace/src/a.ts', old_string: 'zz', new_string: 'yy' }, '<tool_use_error>String to replace not found in file.</tool_use_error>', { isError: true });
    const { verdict } = run(s.events);
    assert.equal(verdict?.rule, 'no_progress');
    assert.equal(verdict.startedAt, change.at, 'counting restarted at the change while the last run failed');
  });

  test('a passing test run closes the window; the configured test command counts as a test run', () => {
    const s = new Script();
    s.bash('npm test', 1, 'AssertionError: nope');
    s.bash('npm test', 0, 'ok');
    for (let i = 0; i < 10; i++) s.bash(`node -e "${i}"`, 0, '');
    assert.equal(run(s.events).verdict, undefined);
    const t = new Script();
    t.bash('./ci/run-suite.sh', 1, 'suite failed: 2 of 40');
    for (let i = 0; i < 7; i++) t.bash(`node -e "${i}"`, 0, '');
    assert.equal(run(t.events).verdict, undefined, 'not recognisable without the configured command');
    assert.equal(run(t.events, TH, './ci/run-suite.sh').verdict?.rule, 'no_progress');
  });

  test('with shell changes reported, a verdict on a call that may have written files waits for its change report', () => {
    const s = new Script();
    s.bash('npm test', 1, 'AssertionError: nope');
    for (let i = 0; i < 6; i++) s.bash(`node -e "${i}"`, 0, '');
    const sed = s.bash("sed -i 's/a - b/a + b/' src/calc.js", 0, '');
    const d = new StuckDetector(TH, { reportsShellChanges: true, now: () => 0 });
    for (const ev of s.events) assert.equal(d.observe(ev), undefined);
    assert.equal(d.observe({ kind: 'file_change', at: sed.at, paths: ['src/calc.js'] }), undefined, 'the sed changed a file: progress');
    assert.equal(d.settle(), undefined);
    // The same call without a change: the verdict stands at settle().
    const e = new StuckDetector(TH, { reportsShellChanges: true, now: () => 0 });
    for (const ev of s.events) assert.equal(e.observe(ev), undefined);
    assert.equal(e.settle()?.rule, 'no_progress');
    assert.equal(e.verdict?.decidedAt, sed.at);
  });
});

describe('silence', () => {
  test('fires at silenceSeconds after the last event, not a millisecond before; startedAt is that event', () => {
    const s = new Script();
    const last = s.read('/workspace/a.ts');
    const d = new StuckDetector(TH, { now: () => last.at - 5000 });
    d.observe(last);
    assert.equal(d.checkSilence(last.at + 300_000 - 1), undefined);
    const v = d.checkSilence(last.at + 300_000);
    assert.equal(v?.rule, 'silence');
    assert.equal(v.startedAt, last.at);
    assert.equal(v.decidedAt, last.at + 300_000);
    assert.ok(v.evidence.some((e) => e.startsWith(`last event at ${new Date(last.at).toISOString()}`) && e.includes('Read: {"file_path":"a.ts"}')));
  });

  test('counts from construction when nothing was said; never after the final event', () => {
    const d = new StuckDetector({ ...TH, silenceSeconds: 10 }, { now: () => 50_000 });
    assert.equal(d.checkSilence(59_999), undefined);
    assert.equal(d.checkSilence(60_000)?.startedAt, 50_000);
    const s = new Script();
    const e = new StuckDetector({ ...TH, silenceSeconds: 10 }, { now: () => 0 });
    const final = s.final();
    e.observe(final);
    assert.equal(e.checkSilence(final.at + 3_600_000), undefined);
  });
});

describe('silence: a running tool call is liveness', () => {
  test('a call running longer than silenceSeconds is not silence; past toolCallSeconds it is', () => {
    const th = { ...TH, silenceSeconds: 10, toolCallSeconds: 60 };
    const d = new StuckDetector(th, { now: () => 0 });
    d.observe({ kind: 'message', at: 1_000, text: 'running the suite' });
    const startedAt = 2_000;
    assert.equal(d.checkSilence(30_000, { callStartedAt: startedAt, lastActivityAt: startedAt }), undefined, '28 s into a call: alive');
    assert.equal(d.checkSilence(startedAt + 60_000 - 1, { callStartedAt: startedAt }), undefined);
    const v = d.checkSilence(startedAt + 60_000, { callStartedAt: startedAt });
    assert.equal(v?.rule, 'silence');
    assert.equal(v.startedAt, startedAt);
    assert.equal(v.message, 'a tool call has been running for 60 s (limit 60 s for one call)');
  });

  test('after the call ends, silence counts from its last output, not from the event before it', () => {
    const d = new StuckDetector({ ...TH, silenceSeconds: 10 }, { now: () => 0 });
    d.observe({ kind: 'message', at: 1_000, text: 'x' });
    assert.equal(d.checkSilence(20_000, { lastActivityAt: 15_000 }), undefined);
    assert.equal(d.checkSilence(25_000, { lastActivityAt: 15_000 })?.startedAt, 15_000);
  });
});

describe('read-only classification', () => {
  test('inspection commands are read-only; writes, redirects, substitutions and environment probes are not', () => {
    for (const c of ['cat a.ts', 'cd /workspace && ls -la', 'rg -n foo src | head -20', "bash -lc 'grep -rn x . 2>/dev/null'", 'git status --short', 'git diff HEAD~1 -- src', 'git log --oneline -5', 'find . -name "*.ts"', "sed -n '1,40p' a.ts", 'wc -l a.ts 2>&1']) {
      assert.ok(isReadOnlyCommand(c), c);
    }
    for (const c of ["sed -i 's/a/b/' a.ts", 'cat a > b', 'echo hi', 'tee a.ts', 'find . -delete', 'git apply p.diff', 'git checkout a.ts', 'cat $(ls)', 'python3 --version', 'npx prettier --write .', 'sort -o a a', "perl -pi -e 's/a/b/' a"]) {
      assert.ok(!isReadOnlyCommand(c), c);
    }
    assert.ok(isReadOnlyCall('Read', { file_path: 'a' }) && isReadOnlyCall('TodoWrite', {}) && isReadOnlyCall('exec_command', { command: 'bash -lc "cat a.py"' }));
    assert.ok(!isReadOnlyCall('Edit', { file_path: 'a' }) && !isReadOnlyCall('Task', { prompt: 'x' }));
  });
});

describe('verdicts', () => {
  test('once reached, a verdict stays: later events and silence checks return it unchanged', () => {
    const s = new Script();
    for (let i = 0; i < 3; i++) s.bash('npm run build', 2, 'error TS2322');
    const d = new StuckDetector(TH, { now: () => 0 });
    let verdict: StuckVerdict | undefined;
    for (const ev of s.events) verdict = d.observe(ev);
    assert.ok(verdict);
    const copy = structuredClone(verdict);
    const after = new Script();
    after.edit('/workspace/src/config.ts');
    after.bash('npm run build', 0, 'ok');
    for (const ev of after.events) assert.equal(d.observe(ev), verdict);
    assert.equal(d.checkSilence(Number.MAX_SAFE_INTEGER), verdict);
    assert.equal(d.verdict, verdict);
    assert.deepEqual(verdict, copy);
  });
});

describe('healthy patterns do not trigger', () => {
  test('re-reading a file, running the tests, editing, re-running them, repeating a successful command', () => {
    const s = new Script();
    for (let i = 0; i < 5; i++) s.read('/workspace/src/slugify.js');
    s.bash('npm test', 1, 'AssertionError [ERR_ASSERTION]: slug');
    s.read('/workspace/src/slugify.js');
    s.edit('/workspace/src/slugify.js');
    s.bash('npm test', 1, 'AssertionError [ERR_ASSERTION]: slug');
    s.edit('/workspace/src/slugify.js');
    s.bash('npm test', 0, 'pass 2');
    for (let i = 0; i < 10; i++) s.bash('git status --short', 0, ' M src/slugify.js');
    s.bash('npm test', 1, 'flaky: ECONNRESET');
    s.bash('npm test', 1, 'flaky: ECONNRESET');
    s.bash('npm test', 0, 'pass 2');
    s.final();
    const { verdict, detector } = run(s.events);
    assert.equal(verdict, undefined);
    assert.equal(detector.verdict, undefined);
  });

  for (const name of [
    'claude.healthy-edit-retest.synthetic.jsonl',
    'claude.edits-tests-still-failing.synthetic.jsonl',
    'claude.permission-denials.synthetic.jsonl',
    'claude.api-error.synthetic.jsonl',
    'codex.healthy-flaky-retest.synthetic.jsonl',
    'codex.turn-failed.synthetic.jsonl',
    'stream-json.basic-query.claude-2.1.7.ndjson',
    'stream-json.ls-tool-session.claude-2.1.x.jsonl',
    'codex-exec-json.openai-docs-sample.jsonl',
  ]) {
    test(`transcript ${name}`, () => {
      const events = transcript(name);
      assert.ok(events.length >= 4, 'the transcript parses');
      assert.equal(run(events, TH, 'npm test').verdict, undefined);
    });
  }
});

describe('stuck transcripts', () => {
  test('claude.repeated-failing-command: repeated_failing_call at the third build, from the first', () => {
    const events = transcript('claude.repeated-failing-command.synthetic.jsonl');
    const builds = toolCalls(events).filter((c) => c.isError);
    const { verdict, at } = run(events, TH, 'npm test');
    assert.equal(verdict?.rule, 'repeated_failing_call');
    assert.equal(at, builds[2]);
    assert.equal(verdict.startedAt, builds[0]!.at);
  });

  test('codex.same-error-different-commands: repeated_error at the third different command', () => {
    const events = transcript('codex.same-error-different-commands.synthetic.jsonl');
    const failures = toolCalls(events).filter((c) => c.isError);
    const { verdict, at } = run(events, TH, 'python -m pytest');
    assert.equal(verdict?.rule, 'repeated_error');
    assert.equal(at, failures[2]);
    assert.equal(verdict.startedAt, failures[0]!.at);
    assert.ok(verdict.evidence.includes("error: ModuleNotFoundError: No module named 'requests'"));
  });

  test('claude.alternating-loop: alternating_loop at the sixth call, from the first', () => {
    const events = transcript('claude.alternating-loop.synthetic.jsonl');
    const calls = toolCalls(events);
    const { verdict, at } = run(events, TH, 'npm test');
    assert.equal(verdict?.rule, 'alternating_loop');
    assert.equal(at, calls[5]);
    assert.equal(verdict.startedAt, calls[0]!.at);
  });

  test('claude.no-progress: reads after a failing run are healthy by default; past readOnlyCalls they are no_progress', () => {
    const events = transcript('claude.no-progress.synthetic.jsonl');
    const calls = toolCalls(events);
    assert.equal(run(events, TH, 'npm test').verdict, undefined, 'eight read-only calls after the failing run');
    const { verdict, at } = run(events, { ...TH, readOnlyCalls: 8 }, 'npm test');
    assert.equal(verdict?.rule, 'no_progress');
    assert.equal(at, calls[8]);
    assert.equal(verdict.startedAt, calls[0]!.at);
  });
});
