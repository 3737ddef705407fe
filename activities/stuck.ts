/**
 * Stuck detection: watches an agent's normalized event stream and decides, from outside the
 * agent, when an attempt is looping, in the spirit of OpenHands' `controller/stuck.py`
 * (https://github.com/All-Hands-AI/OpenHands/blob/main/openhands/controller/stuck.py).
 *
 * Events are normalized before they are compared, so that the same thing done twice looks the
 * same even when its volatile parts differ:
 * - a call is its tool name + normalized input ({@link normalizeToolInput}): shell commands are
 *   unwrapped from `bash -lc '…'`, stripped of `cd <dir> &&` prefixes, `timeout N` prefixes,
 *   trailing `2>&1`, `| tail -n N` / `| head …` and `; echo $?`, and whitespace-collapsed; other
 *   inputs drop volatile keys (`description`, `timeout`, `run_in_background`, …) and `/workspace/`
 *   path prefixes, and are serialized with sorted keys;
 * - an error is one line of a failing call's output ({@link errorSignature}), with timestamps,
 *   durations, temp paths, uuids, hashes, hex addresses, pids, ports and file line:col numbers
 *   replaced by placeholders ({@link normalizeVolatile}).
 *
 * Rules (thresholds from `StuckThresholds`, config key `stuck`):
 * - `repeated_failing_call`: the same call fails `repeatedFailingCall` times. A success of that
 *   call, or any successful file change, resets its count (running the tests, editing, and running
 *   them again is progress; two failures then a success is fine). Other calls in between do not.
 * - `repeated_error`: the same error signature comes from `repeatedError` *different* calls (the
 *   same call failing again counts once: that is the rule above). A file change resets it.
 * - `alternating_loop`: the last 2 × `alternatingCycles` calls are A,B,A,B,… where A and B are
 *   different calls and each repetition also gave the same normalized outcome (error flag +
 *   output), with no file change in between. Polling that sees new output is not a loop.
 * - `no_progress`: `noProgressCalls` tool calls in a row, none a file change, while the most
 *   recent test run failed. The window opens at a failing test run (or at a file change made
 *   while the last test run was failing), counts that call and every later one, and closes on a
 *   file change or a passing test run. A test run is a shell command containing the configured
 *   `testCommand` (normalized), or one of the common test runners ({@link isTestCommand}).
 * - `silence`: no event for `silenceSeconds` ({@link StuckDetector.checkSilence}); not after the
 *   agent's `final` event.
 * A "file change" is a `file_change` event (successful Edit/Write/… or Codex patch); files changed
 * through shell commands are not seen. When several rules fire on the same event, the first in the
 * order above wins. Once a verdict exists it stays: later events change nothing.
 */
import type { StuckThresholds } from '../worker/config.js';
import type { AgentEvent, StuckRule, StuckVerdict } from '../workflows/types.js';

/** Options of a {@link StuckDetector}. */
export interface StuckDetectorOptions {
  /** The repository's test command; a shell call containing it (normalized) is a test run. */
  testCommand?: string;
  /**
   * Clock, Unix ms; read once, at construction, as the time of the "last event" before the first
   * one (so that an agent that never says anything is silent). Default `Date.now`. Event `at`
   * values and `checkSilence`'s argument must be on the same clock.
   */
  now?: () => number;
}

/** Tool-call event. */
type ToolCall = Extract<AgentEvent, { kind: 'tool_call' }>;

/** Longest evidence string, in characters. */
const EVIDENCE_CHARS = 300;
/** Characters of a call's output compared by the alternating-loop rule. */
const OUTCOME_CHARS = 2000;
/** Input keys whose values do not change what a call does. */
const VOLATILE_KEYS = new Set(['description', 'timeout', 'timeout_ms', 'run_in_background', 'dangerouslyDisableSandbox', 'yield_time_ms', 'max_output_tokens']);
/** Input keys holding a path, normalized relative to /workspace. */
const PATH_KEYS = new Set(['file_path', 'path', 'notebook_path', 'workdir', 'cwd']);

/**
 * Recognisable test runners, matched at the start of a command segment (after environment
 * assignments and `npx` / `uv run` / `poetry run` / `bundle exec` style launchers).
 */
const TEST_RUNNER =
  /^(?:(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?test\b|(?:jest|vitest|mocha|ava|tap|pytest|py\.test|tox|nox|rspec|phpunit|ctest)\b|python\d*(?:\.\d+)?\s+-m\s+(?:pytest|unittest)\b|go\s+test\b|cargo\s+(?:test|nextest)\b|(?:\.\/)?(?:mvnw?|gradlew?)\b.*\btest\b|node\s+(?:.*\s)?--test\b|make\s+(?:test|check)\b|dotnet\s+test\b|deno\s+test\b|rake\s+test\b)/;
/** Launchers and prefixes in front of a test runner. */
const LAUNCHER = /^(?:\w+=\S*\s+|npx\s+(?:--yes\s+)?|uv\s+run\s+|poetry\s+run\s+|pipenv\s+run\s+|bundle\s+exec\s+|env\s+|time\s+)/;

/** ANSI escape sequences (colours, cursor moves). */
// eslint-disable-next-line no-control-regex -- matching the ESC control character is the point
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/**
 * Replaces the parts of a text that differ between two occurrences of the same thing: ANSI
 * colours, carriage returns, ISO timestamps and clock times, uuids, hex addresses and hashes, temp
 * paths (`/tmp/…`, `/var/folders/…`), durations (`1.2s`, `340 ms`, `2 minutes`), pids, ports of
 * local addresses, and line / column numbers after file names (`a.ts:12:5`, `a.ts(12,5)`,
 * `line 12`). Trims each line and drops blank lines.
 */
export function normalizeVolatile(text: string): string {
  return text
    .replace(ANSI, '')
    .replace(/\r/g, '')
    .replace(/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<time>')
    .replace(/\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b/g, '<time>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>')
    .replace(/\b0x[0-9a-f]+\b/gi, '<hex>')
    .replace(/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b/gi, '<hash>')
    .replace(/(?<![\w.-])(?:\/private)?(?:\/var\/folders|\/var\/tmp|\/tmp)\/[^\s'"`:),\]]+/g, '<tmp>')
    .replace(/\b\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)\b/gi, '<dur>')
    .replace(/\b(pid|process)(\s*[:=#]?\s*)\d+/gi, '$1$2<n>')
    .replace(/\b(localhost|\d{1,3}(?:\.\d{1,3}){3}|\[::1?\]):\d{2,5}\b/g, '$1:<port>')
    .replace(/(\.[A-Za-z][A-Za-z0-9]{0,5}):\d+(?::\d+)?/g, '$1:<n>')
    .replace(/(\.[A-Za-z][A-Za-z0-9]{0,5})\(\d+(?:,\s*\d+)?\)/g, '$1(<n>)')
    .replace(/\bline \d+/gi, 'line <n>')
    .split('\n')
    .map((l) => l.replace(/[ \t]+/g, ' ').trim())
    .filter(Boolean)
    .join('\n');
}

/** Strips one level of matching outer shell quotes, undoing the escapes they need (`\\"` in "…", `'\\''` in '…'). */
function unquote(s: string): string {
  if (s.length < 2 || s.at(-1) !== s[0]) return s;
  if (s[0] === '"') return s.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
  if (s[0] === "'") return s.slice(1, -1).replace(/'\\''/g, "'");
  return s;
}

/**
 * Normalizes a shell command so that the same command written twice compares equal (see the
 * module comment). `bash -lc 'cd /workspace && timeout 120 npm test 2>&1 | tail -50'` → `npm test`.
 */
export function normalizeCommand(command: string): string {
  let c = command.trim();
  for (let i = 0; i < 2; i++) {
    const m = /^(?:(?:\/usr)?\/bin\/)?(?:ba|z|da)?sh\s+-l?c\s+([\s\S]*)$/.exec(c);
    if (!m) break;
    c = unquote(m[1]!.trim()).trim();
  }
  c = c.replace(/\s+/g, ' ').trim();
  for (;;) {
    const before = c;
    c = c
      .replace(/^cd\s+(?:"[^"]*"|'[^']*'|\S+)\s*(?:&&|;)\s*/, '')
      .replace(/^timeout\s+(?:-\S+\s+)*\d+(?:\.\d+)?[smhd]?\s+/, '')
      .replace(/\s*(?:;|&&)\s*echo\s+(?:"[^"]*\$\?[^"]*"|'[^']*'|\S*\$\?\S*)\s*$/, '')
      .replace(/\s*\|\s*(?:tail|head)(?:\s+-{1,2}[\w=-]+)*(?:\s+\d+)?\s*$/, '')
      .replace(/\s*2>&1\s*$/, '')
      .trim();
    if (c === before) return c;
  }
}

/** The shell command of a tool call's input (`input.command`, a string or an argv array), if any. */
export function commandOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const cmd = (input as Record<string, unknown>).command ?? (input as Record<string, unknown>).cmd;
  if (typeof cmd === 'string') return cmd;
  if (Array.isArray(cmd) && cmd.every((a) => typeof a === 'string')) {
    const argv = cmd as string[];
    // ["bash", "-lc", "npm test"] → the script itself.
    if (argv.length === 3 && /(?:^|\/)(?:ba|z|da)?sh$/.test(argv[0]!) && /^-l?c$/.test(argv[1]!)) return argv[2];
    return argv.join(' ');
  }
  return undefined;
}

/** Serializes a value with sorted keys, volatile keys dropped, strings whitespace-collapsed and paths relative to /workspace. */
function stableInput(value: unknown, key?: string): string {
  if (typeof value === 'string') {
    let s = value.replace(/\s+/g, ' ').trim();
    if (key && PATH_KEYS.has(key)) s = s.replace(/^\/workspace(?:\/|$)/, '').replace(/^\.\//, '').replace(/(.)\/+$/, '$1') || '.';
    return JSON.stringify(s);
  }
  if (Array.isArray(value)) return `[${value.map((v) => stableInput(v)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([k, v]) => !VOLATILE_KEYS.has(k) && v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableInput(v, k)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The normalized input of a call: its normalized shell command when it has one, else its stable serialization. */
export function normalizeToolInput(_name: string, input: unknown): string {
  const command = commandOf(input);
  return command !== undefined ? normalizeCommand(command) : stableInput(input);
}

/** What identifies a call: `<tool name> <normalized input>`. */
export function callKey(name: string, input: unknown): string {
  return `${name} ${normalizeToolInput(name, input)}`;
}

/** A named error (`TypeError`, `ModuleNotFoundError`, `NullPointerException`, …). */
const NAMED_ERROR = /\b[A-Z][A-Za-z0-9_.]*(?:Error|Exception)\b/;
/** Other lines that say something failed. */
const ERRORISH = /\berror\b|\bERR!|\bfail(?:ed|ure|s)?\b|\bfatal\b|\bpanic|not found|no such file|permission denied|\bcannot\b|can't|could not|unable to|\bdenied\b|\brefused\b|\bundefined\b/i;
/** Lines that are wrappers around an error rather than the error: npm's epilogue, stack frames. */
const NOISE = /^(?:npm (?:error|ERR!|warn)|at\s|Error: Exit code \d+$|Exit code \d+$)/i;

/**
 * The error signature of a failing call's output, after {@link normalizeVolatile} and without
 * `<tool_use_error>` tags: the text from the name of its *last* named error on (`E
 * ModuleNotFoundError: …` and a traceback's `ModuleNotFoundError: …` give the same signature, and
 * a traceback's last exception is its cause); else its first line that says something failed;
 * else its last line. Claude Code's `Exit code N` line, npm's error epilogue and stack frames are
 * skipped. At most 300 characters. Empty when the output says nothing (e.g. only `Exit code 1`):
 * such failures are never "the same error".
 */
export function errorSignature(output: string): string {
  const lines = normalizeVolatile(output.replace(/<\/?tool_use_error>/g, ''))
    .split('\n')
    .filter((l) => !NOISE.test(l));
  let line = '';
  for (const l of lines) {
    const m = NAMED_ERROR.exec(l);
    if (m) line = l.slice(m.index);
  }
  if (!line) line = lines.find((l) => ERRORISH.test(l)) ?? lines.at(-1) ?? '';
  return line.length < 4 ? '' : line.slice(0, EVIDENCE_CHARS);
}

/** Whether a shell command runs the tests: it contains the configured test command (normalized), or a common test runner. */
export function isTestCommand(command: string, testCommand?: string): boolean {
  const c = normalizeCommand(command);
  if (testCommand) {
    const t = normalizeCommand(testCommand);
    if (t && c.includes(t)) return true;
  }
  return c.split(/\s*(?:&&|\|\||;|\|)\s*/).some((segment) => {
    let rest = segment.replace(/^\(+/, '').trim();
    for (let prev = ''; prev !== rest; ) {
      prev = rest;
      rest = rest.replace(LAUNCHER, '');
    }
    return TEST_RUNNER.test(rest);
  });
}

/** Whether a tool call failed: the CLI says so, or it reports a non-zero exit code. */
function failed(ev: ToolCall): boolean {
  return ev.isError || (ev.exitCode !== undefined && ev.exitCode !== 0);
}

/** Shortens a string for evidence. */
function clip(s: string, max = EVIDENCE_CHARS): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

/** Unix ms as ISO 8601. */
function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A call as shown in evidence: `Bash: npm test`. */
function showCall(ev: ToolCall): string {
  return clip(`${ev.name}: ${normalizeToolInput(ev.name, ev.input)}`, 200);
}

/** One line describing an event, e.g. for a run's `lastEvents`: `tool_call Bash: npm test → exit 1`. */
export function describeEvent(ev: AgentEvent): string {
  switch (ev.kind) {
    case 'init':
      return clip(`init ${ev.model ?? ''} ${ev.cliVersion ?? ''}`);
    case 'tool_call': {
      const status = ev.exitCode !== undefined ? `exit ${ev.exitCode}` : ev.isError ? 'error' : 'ok';
      return clip(`tool_call ${showCall(ev)} → ${status}`);
    }
    case 'file_change':
      return clip(`file_change ${ev.paths.join(', ')}`);
    case 'usage':
      return `usage in=${ev.inputTokens} out=${ev.outputTokens} cache_read=${ev.cacheReadTokens} cache_write=${ev.cacheWriteTokens}`;
    case 'message':
      return clip(`message ${ev.text}`, 200);
    case 'final':
      return clip(`final ${ev.subtype}${ev.isError ? ' (error)' : ''} ${ev.text}`, 200);
  }
}

interface Seen {
  at: number;
  call: string;
}

/**
 * Watches one attempt's events and reaches a {@link StuckVerdict} when a rule fires (see the
 * module comment for the rules and the normalization).
 */
export class StuckDetector {
  private readonly testCommand: string | undefined;
  private lastEventAt: number;
  private lastEvent: string | undefined;
  private finished = false;
  private current: StuckVerdict | undefined;
  /** repeated_failing_call: failures per call key since the last file change / success of that call. */
  private failures = new Map<string, { seen: Seen[]; error: string }>();
  /** repeated_error: per error signature, the first failure of each distinct call, since the last file change. */
  private errors = new Map<string, Map<string, Seen>>();
  /** alternating_loop: the last calls since the last file change. */
  private recent: { key: string; outcome: string; seen: Seen }[] = [];
  /** no_progress: the open window, if the last test run failed. */
  private window: { startedAt: number; calls: Seen[]; test: string; excerpt: string } | undefined;
  private lastTest: { failed: boolean; call: string; excerpt: string } | undefined;

  constructor(
    private readonly thresholds: StuckThresholds,
    options: StuckDetectorOptions = {},
  ) {
    this.testCommand = options.testCommand;
    this.lastEventAt = (options.now ?? Date.now)();
  }

  /** The verdict, once one is reached; it never changes afterwards. */
  get verdict(): StuckVerdict | undefined {
    return this.current;
  }

  /**
   * Takes the next event of the stream.
   * @returns the verdict when one exists (reached now or earlier), else undefined
   */
  observe(ev: AgentEvent): StuckVerdict | undefined {
    if (this.current) return this.current;
    this.lastEventAt = ev.at;
    this.lastEvent = describeEvent(ev);
    switch (ev.kind) {
      case 'file_change':
        this.fileChanged(ev.at);
        break;
      case 'tool_call':
        this.current = this.toolCall(ev);
        break;
      case 'final':
        this.finished = true;
        break;
      default:
        break;
    }
    return this.current;
  }

  /**
   * Checks for silence: no event for `silenceSeconds` before `nowMs` (Unix ms, the clock of the
   * events). Never fires after the agent's `final` event.
   * @returns the verdict when one exists, else undefined
   */
  checkSilence(nowMs: number): StuckVerdict | undefined {
    if (this.current || this.finished) return this.current;
    const silentMs = nowMs - this.lastEventAt;
    if (silentMs < this.thresholds.silenceSeconds * 1000) return undefined;
    const seconds = Math.floor(silentMs / 1000);
    this.current = this.decide('silence', 1, this.lastEventAt, nowMs, `no event from the agent for ${seconds} s (limit ${this.thresholds.silenceSeconds} s)`, [
      this.lastEvent ? `last event at ${iso(this.lastEventAt)}: ${this.lastEvent}` : `no event since ${iso(this.lastEventAt)}`,
      `checked at ${iso(nowMs)}`,
    ]);
    return this.current;
  }

  private fileChanged(at: number): void {
    this.failures.clear();
    this.errors.clear();
    this.recent = [];
    // The edit may be the fix; until the tests run again, count from here if they were failing.
    this.window = this.lastTest?.failed ? { startedAt: at, calls: [], test: this.lastTest.call, excerpt: this.lastTest.excerpt } : undefined;
  }

  private toolCall(ev: ToolCall): StuckVerdict | undefined {
    const key = callKey(ev.name, ev.input);
    const call = showCall(ev);
    const seen: Seen = { at: ev.at, call };
    const isFailure = failed(ev);
    const signature = isFailure ? errorSignature(ev.result) : '';
    const t = this.thresholds;
    let verdict: StuckVerdict | undefined;

    // repeated_failing_call
    if (isFailure) {
      const entry = this.failures.get(key) ?? { seen: [], error: signature };
      entry.seen.push(seen);
      if (signature) entry.error = signature;
      this.failures.set(key, entry);
      if (entry.seen.length >= t.repeatedFailingCall) {
        verdict = this.decide(
          'repeated_failing_call',
          entry.seen.length,
          entry.seen[0]!.at,
          ev.at,
          `the same call failed ${entry.seen.length} times with no file change in between: ${call}`,
          [`call: ${call}`, ...(entry.error ? [`error: ${entry.error}`] : []), `failed at: ${entry.seen.map((s) => iso(s.at)).join(', ')}`],
        );
      }
    } else {
      this.failures.delete(key);
    }

    // repeated_error
    if (!verdict && signature) {
      const calls = this.errors.get(signature) ?? new Map<string, Seen>();
      if (!calls.has(key)) calls.set(key, seen);
      this.errors.set(signature, calls);
      if (calls.size >= t.repeatedError) {
        const all = [...calls.values()];
        verdict = this.decide(
          'repeated_error',
          calls.size,
          all[0]!.at,
          ev.at,
          `the same error came back from ${calls.size} different calls: ${clip(signature, 160)}`,
          [`error: ${signature}`, ...all.map((s) => `call at ${iso(s.at)}: ${s.call}`)],
        );
      }
    }

    // alternating_loop
    const outcome = `${isFailure ? 'E' : 'O'}:${normalizeVolatile(ev.result).slice(0, OUTCOME_CHARS)}`;
    this.recent.push({ key, outcome, seen });
    const span = 2 * t.alternatingCycles;
    if (this.recent.length > span) this.recent.shift();
    if (!verdict && this.recent.length === span) {
      const [a, b] = this.recent;
      const alternates =
        a!.key !== b!.key && this.recent.every((r, i) => (i % 2 === 0 ? r.key === a!.key && r.outcome === a!.outcome : r.key === b!.key && r.outcome === b!.outcome));
      if (alternates) {
        verdict = this.decide(
          'alternating_loop',
          t.alternatingCycles,
          a!.seen.at,
          ev.at,
          `the agent alternated between the same two calls ${t.alternatingCycles} times, with the same results and no file change`,
          [`A: ${a!.seen.call}`, `B: ${b!.seen.call}`, `calls at: ${this.recent.map((r) => iso(r.seen.at)).join(', ')}`],
        );
      }
    }

    // no_progress
    const command = commandOf(ev.input);
    const isTest = command !== undefined && isTestCommand(command, this.testCommand);
    if (isTest) {
      const excerpt = signature || clip(normalizeVolatile(ev.result).split('\n').slice(-3).join(' | '));
      this.lastTest = { failed: isFailure, call, excerpt };
      if (!isFailure) this.window = undefined;
      else if (!this.window) this.window = { startedAt: ev.at, calls: [], test: call, excerpt };
      else {
        this.window.test = call;
        this.window.excerpt = excerpt;
      }
    }
    if (this.window) {
      this.window.calls.push(seen);
      const n = this.window.calls.length;
      if (!verdict && n >= t.noProgressCalls) {
        verdict = this.decide(
          'no_progress',
          n,
          this.window.startedAt,
          ev.at,
          `${n} tool calls without a file change while the tests keep failing`,
          [
            `failing test run: ${this.window.test}`,
            ...(this.window.excerpt ? [`test error: ${this.window.excerpt}`] : []),
            `since ${iso(this.window.startedAt)}; last calls: ${this.window.calls
              .slice(-3)
              .map((s) => s.call)
              .join(' ; ')}`,
          ],
        );
      }
    }
    return verdict;
  }

  private decide(rule: StuckRule, repeats: number, startedAt: number, decidedAt: number, message: string, evidence: string[]): StuckVerdict {
    return { rule, repeats, startedAt, decidedAt, message, evidence: evidence.map((e) => clip(e, 2 * EVIDENCE_CHARS)) };
  }
}
