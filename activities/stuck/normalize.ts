/**
 * Normalization of agent events for stuck detection: the same thing done twice must look the same
 * even when its volatile parts differ (see the rules in ./index.ts).
 * - a call is its tool name + normalized input ({@link normalizeToolInput}): shell commands are
 *   unwrapped from `bash -lc '…'`, stripped of `cd <dir> &&` prefixes, `timeout N` prefixes,
 *   trailing `2>&1`, `| tail -n N` / `| head …` and `; echo $?`, and whitespace-collapsed; other
 *   inputs drop volatile keys (`description`, `timeout`, `run_in_background`, …) and `/workspace/`
 *   path prefixes, and are serialized with sorted keys;
 * - an error is one line of a failing call's output ({@link errorSignature}), with timestamps,
 *   durations, temp paths, uuids, hashes, hex addresses, pids, ports and file line:col numbers
 *   replaced by placeholders ({@link normalizeVolatile}).
 */

/** Longest evidence string, in characters. */
export const EVIDENCE_CHARS = 300;
/** Characters of a call's output compared by the alternating-loop rule. */
export const OUTCOME_CHARS = 2000;
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
