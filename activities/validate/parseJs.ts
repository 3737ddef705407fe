/**
 * Parsers for JavaScript test runners' default outputs: node:test (TAP and spec reporters, see
 * https://nodejs.org/api/test.html#test-reporters, https://testanything.org/tap-version-14-specification.html),
 * Jest (default and `--verbose`, https://jestjs.io/docs/cli#--verbose) and Vitest (default and
 * `--reporter=verbose`, https://vitest.dev/guide/reporters). Input lines are ANSI-free.
 */
import { addCounts, record, normaliseName, wordCounts, type FrameworkResult, type TestCounts, type TestStatus } from './reportTypes.js';

const JOIN = ' > ';

/** node:test summary (`# tests 4` in TAP, `ℹ tests 4` in spec) summed over every summary block. */
interface NodeSummary {
  counts?: TestCounts;
  suites: number;
}

function nodeSummary(lines: string[], prefix: '#' | 'ℹ'): NodeSummary {
  const re = new RegExp(`^${prefix} (tests|suites|pass|fail|cancelled|skipped|todo) (\\d+)$`);
  let counts: TestCounts | undefined;
  let suites = 0;
  let block: Record<string, number> = {};
  const flush = (): void => {
    if (block.tests === undefined) return;
    counts = addCounts(counts, { total: block.tests, passed: block.pass ?? 0, failed: (block.fail ?? 0) + (block.cancelled ?? 0), skipped: (block.skipped ?? 0) + (block.todo ?? 0) });
    suites += block.suites ?? 0;
    block = {};
  };
  for (const line of lines) {
    const m = re.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'tests') flush();
    block[m[1] as string] = Number(m[2]);
  }
  flush();
  return counts ? { counts, suites } : { suites };
}

/** TAP as node:test prints it: `# Subtest: name` headers, `ok N - name # SKIP`, 4-space nesting. */
export function parseTap(lines: string[]): FrameworkResult | null {
  const tests = new Map<string, TestStatus>();
  const names: string[] = [];
  const childSeen: boolean[] = [];
  const childFailed: boolean[] = [];
  let parents = 0;
  let seen = false;
  for (const line of lines) {
    const sub = /^(\s*)# Subtest: (.*)$/.exec(line);
    if (sub) {
      const level = Math.floor((sub[1] ?? '').length / 4);
      names.length = level;
      names[level] = unescapeTap(sub[2] ?? '');
      childSeen[level + 1] = false;
      childFailed[level + 1] = false;
      continue;
    }
    const m = /^(\s*)(not )?ok(?: \d+)?(?: -)?(?: (.*))?$/.exec(line);
    if (!m || !/^\s*(not )?ok( \d+| -|$)/.test(line)) continue;
    seen = true;
    const level = Math.floor((m[1] ?? '').length / 4);
    const { name, directive } = splitDirective(m[3] ?? '');
    const failed = Boolean(m[2]) && directive !== 'TODO';
    const isParent = childSeen[level + 1] === true;
    const hadFailingChild = childFailed[level + 1] === true;
    childSeen[level + 1] = false;
    childFailed[level + 1] = false;
    childSeen[level] = true;
    if (failed) childFailed[level] = true;
    if (isParent) {
      parents += 1;
      if (failed && !hadFailingChild) record(tests, [...names.slice(0, level), name].join(JOIN), 'failed');
      continue;
    }
    const status: TestStatus = directive ? 'skipped' : failed ? 'failed' : 'passed';
    record(tests, [...names.slice(0, level), name].join(JOIN), status);
  }
  const { counts, suites } = nodeSummary(lines, '#');
  if (!seen && !counts) return null;
  const complete = counts ? tests.size + parents >= counts.total + suites : true;
  return counts ? { framework: 'tap', tests, summary: counts, complete } : { framework: 'tap', tests, complete };
}

function unescapeTap(s: string): string {
  return s.replace(/\\([#\\])/g, '$1');
}

function splitDirective(desc: string): { name: string; directive?: 'SKIP' | 'TODO' } {
  const m = /^(.*?)\s*(?<!\\)#\s*(SKIP|TODO)\b.*$/i.exec(desc);
  if (!m) return { name: unescapeTap(desc) };
  return { name: unescapeTap(m[1] ?? ''), directive: (m[2] ?? '').toUpperCase() as 'SKIP' | 'TODO' };
}

/** node:test's spec reporter: `▶ suite`, `✔ name (1.2ms)`, `✖ name`, `﹣ name # reason`, 2-space nesting. */
export function parseNodeSpec(lines: string[]): FrameworkResult | null {
  const tests = new Map<string, TestStatus>();
  const stack: string[] = [];
  let parents = 0;
  let seen = false;
  for (const line of lines) {
    if (/^✖ failing tests:$/.test(line.trim())) break; // the recap repeats failures without their suites
    const m = /^(\s*)([▶✔✖﹣]) (.+)$/.exec(line);
    if (!m) continue;
    const level = Math.floor((m[1] ?? '').length / 2);
    const raw = m[3] ?? '';
    const hasDuration = /\(\d+(?:\.\d+)?ms\)/.test(raw);
    const name = normaliseName(raw.replace(/\s+#\s.*$/, '').replace(/\s+\(\d+(?:\.\d+)?ms\)/, ''));
    seen = true;
    if (m[2] === '▶' && !(hasDuration && stack[level] === name && stack.length === level + 1)) {
      stack.length = level;
      stack[level] = name;
      continue;
    }
    if (stack.length === level + 1 && stack[level] === name) {
      parents += 1; // the end line of a suite or of a test with subtests
      stack.length = level;
      continue;
    }
    stack.length = Math.min(stack.length, level);
    const status: TestStatus = m[2] === '✔' ? 'passed' : m[2] === '✖' ? 'failed' : 'skipped';
    record(tests, [...stack, name].join(JOIN), status);
  }
  const { counts, suites } = nodeSummary(lines, 'ℹ');
  if (!seen && !counts) return null;
  const complete = counts ? tests.size + parents >= counts.total + suites : true;
  return counts ? { framework: 'node-spec', tests, summary: counts, complete } : { framework: 'node-spec', tests, complete };
}

/**
 * Jest: `PASS|FAIL file` headers, the tree (`✓ name (3 ms)`, `✕`, `○ skipped`, `✎ todo`, describe
 * titles by indentation; printed for a single file or with `--verbose`), `● suite › name` failure
 * blocks, and `Tests: 1 failed, 1 skipped, 2 passed, 4 total`. Names are `file > describe > test`.
 */
export function parseJest(lines: string[]): FrameworkResult | null {
  const tests = new Map<string, TestStatus>();
  let file: string | undefined;
  const describes: string[] = [];
  let summary: TestCounts | undefined;
  for (const line of lines) {
    const header = /^(PASS|FAIL) (?:\S+ {2})?(\S+)(?: \(\d+(?:\.\d+)? m?s(?:, [^)]*)?\))?$/.exec(line);
    if (header) {
      file = header[2];
      describes.length = 0;
      continue;
    }
    const sum = /^Tests:\s+(.*?)(\d+) total$/.exec(line);
    if (sum) {
      const w = wordCounts(sum[1] ?? '');
      summary = addCounts(summary, { total: Number(sum[2]), failed: w('failed'), skipped: w('skipped') + w('todo') + w('pending'), passed: w('passed') });
      file = undefined;
      continue;
    }
    if (file === undefined) continue;
    const fail = /^ {2}● (.+)$/.exec(line);
    if (fail) {
      const title = fail[1] ?? '';
      if (title !== 'Console' && title !== 'Test suite failed to run') record(tests, [file, ...title.split(' › ')].join(JOIN), 'failed');
      continue;
    }
    const t = /^( +)(✓|✕|√|×|○ skipped|○|✎ todo) (.+)$/.exec(line);
    if (t) {
      const level = Math.max(0, Math.floor(((t[1] ?? '').length - 2) / 2));
      const sym = t[2] ?? '';
      const status: TestStatus = sym === '✓' || sym === '√' ? 'passed' : sym === '✕' || sym === '×' ? 'failed' : 'skipped';
      record(tests, [file, ...describes.slice(0, level), t[3] ?? ''].join(JOIN), status);
      continue;
    }
    const d = /^( {2,})(\S.*)$/.exec(line);
    if (d && !/^\s+at /.test(line)) {
      const level = Math.floor(((d[1] ?? '').length - 2) / 2);
      describes.length = level;
      describes[level] = (d[2] ?? '').trim();
    }
  }
  if (tests.size === 0 && !summary) return null;
  const complete = summary ? tests.size >= summary.total : false;
  return summary ? { framework: 'jest', tests, summary, complete } : { framework: 'jest', tests, complete };
}

/**
 * Vitest: verbose lines `✓ file > suite > name 3ms` (`×` failed, `↓` skipped), default
 * reporter's ` FAIL  file > suite > name`, and the summary `Tests  1 failed | 2 passed | 1 skipped (4)`.
 */
export function parseVitest(lines: string[]): FrameworkResult | null {
  const tests = new Map<string, TestStatus>();
  let summary: TestCounts | undefined;
  for (const line of lines) {
    const v = /^\s*([✓×✗↓]) (\S+\.\S+ > .+?)(?: \d+ms)?$/.exec(line);
    if (v) {
      const status: TestStatus = v[1] === '✓' ? 'passed' : v[1] === '↓' ? 'skipped' : 'failed';
      record(tests, v[2] ?? '', status);
      continue;
    }
    const f = /^\s*FAIL {2}(\S+\.\S+ > .+)$/.exec(line);
    if (f) {
      record(tests, f[1] ?? '', 'failed');
      continue;
    }
    const s = /^\s*Tests {2,}(.*)\((\d+)\)\s*$/.exec(line);
    if (s) {
      const w = wordCounts(s[1] ?? '');
      summary = addCounts(summary, { total: Number(s[2]), failed: w('failed'), skipped: w('skipped') + w('todo'), passed: w('passed') });
    }
  }
  if (tests.size === 0 && !summary) return null;
  const complete = summary ? tests.size >= summary.total : false;
  return summary ? { framework: 'vitest', tests, summary, complete } : { framework: 'vitest', tests, complete };
}
