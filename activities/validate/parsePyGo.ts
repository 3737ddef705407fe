/**
 * Parsers for pytest (https://docs.pytest.org/en/stable/how-to/output.html), Python unittest
 * (https://docs.python.org/3/library/unittest.html#command-line-interface) and `go test`
 * (https://pkg.go.dev/cmd/go#hdr-Test_packages) outputs, with and without their verbose flags.
 * Input lines are ANSI-free.
 */
import { addCounts, record, wordCounts, type FrameworkResult, type TestCounts, type TestStatus } from './reportTypes.js';

const PYTEST_STATUS: Record<string, TestStatus> = { PASSED: 'passed', XPASS: 'passed', FAILED: 'failed', ERROR: 'failed', SKIPPED: 'skipped', XFAIL: 'skipped' };

/**
 * pytest: `path::test PASSED [ 20%]` (`-v`), `[gw0] [ 20%] PASSED path::test` (xdist), the short
 * summary `FAILED path::test - msg`, and the final `=== 2 failed, 1 passed, 1 skipped in 0.02s ===`.
 */
export function parsePytest(lines: string[]): FrameworkResult | null {
  const tests = new Map<string, TestStatus>();
  let summary: TestCounts | undefined;
  let verbose = false;
  for (const line of lines) {
    const v = /^(\S+?::.+?) (PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR)\b/.exec(line);
    if (v) {
      verbose = true;
      record(tests, v[1] ?? '', PYTEST_STATUS[v[2] ?? ''] ?? 'failed');
      continue;
    }
    const x = /^\[gw\d+\] \[\s*\d+%\] (PASSED|FAILED|SKIPPED|XFAIL|XPASS|ERROR) (\S+?::.+?)\s*$/.exec(line);
    if (x) {
      verbose = true;
      record(tests, x[2] ?? '', PYTEST_STATUS[x[1] ?? ''] ?? 'failed');
      continue;
    }
    const s = /^(FAILED|ERROR|XFAIL|XPASS|PASSED) (\S+?::.+?)(?: - .*)?$/.exec(line);
    if (s) {
      record(tests, s[2] ?? '', PYTEST_STATUS[s[1] ?? ''] ?? 'failed');
      continue;
    }
    const end = /^=*\s*((?:\d+ [a-z]+(?:, )?)+) in \d+(?:\.\d+)?s\b.*?=*$/.exec(line.trim());
    if (end && /\b(passed|failed|skipped|errors?|xfailed|xpassed|deselected)\b/.test(end[1] ?? '')) {
      const w = wordCounts(end[1] ?? '');
      summary = addCounts(summary, { passed: w('passed') + w('xpassed'), failed: w('failed') + w('error') + w('errors'), skipped: w('skipped') + w('xfailed') });
      continue;
    }
    if (/^=+ no tests ran in /.test(line)) summary = addCounts(summary, { passed: 0, failed: 0, skipped: 0 });
  }
  if (tests.size === 0 && !summary) return null;
  const complete = summary ? tests.size >= summary.total : verbose;
  return summary ? { framework: 'pytest', tests, summary, complete } : { framework: 'pytest', tests, complete };
}

const UNITTEST_RESULT = /^(ok|FAIL|ERROR|skipped(?: .*)?|expected failure|unexpected success)$/;

function unittestStatus(result: string): TestStatus {
  if (result === 'ok') return 'passed';
  if (result.startsWith('skipped') || result === 'expected failure') return 'skipped';
  return 'failed';
}

/** `test_x (mod.Class.test_x)` (3.11+) and `test_x (mod.Class)` (older) both → `mod.Class.test_x`. */
export function unittestName(method: string, where: string): string {
  return where === method || where.endsWith(`.${method}`) ? where : `${where}.${method}`;
}

/**
 * unittest: `test_x (mod.Class.test_x) ... ok|FAIL|ERROR|skipped 'why'` (`-v`, also with a
 * docstring line between), `FAIL: test_x (mod.Class)` blocks, `Ran N tests`, `OK (skipped=1)`,
 * `FAILED (failures=1, errors=1, skipped=2)`.
 */
export function parseUnittest(lines: string[]): FrameworkResult | null {
  const tests = new Map<string, TestStatus>();
  let summary: TestCounts | undefined;
  let ran: number | undefined;
  let pending: string | undefined;
  let verbose = false;
  for (const line of lines) {
    const head = /^(\w+) \(([\w.]+)\)(?: \(.*\))?(?: \.\.\. (.*))?$/.exec(line);
    if (head) {
      const name = unittestName(head[1] ?? '', head[2] ?? '');
      const result = head[3]?.trim();
      if (result !== undefined && UNITTEST_RESULT.test(result)) {
        verbose = true;
        record(tests, name, unittestStatus(result));
        pending = undefined;
      } else {
        pending = name;
      }
      continue;
    }
    const tail = /(?:^| \.\.\. )(ok|FAIL|ERROR|skipped(?: .*)?|expected failure|unexpected success)$/.exec(line);
    if (pending && tail && (line.includes(' ... ') || UNITTEST_RESULT.test(line))) {
      verbose = true;
      record(tests, pending, unittestStatus(tail[1] ?? ''));
      pending = undefined;
      continue;
    }
    const fail = /^(?:FAIL|ERROR): (\w+) \(([\w.]+)\)/.exec(line);
    if (fail) {
      record(tests, unittestName(fail[1] ?? '', fail[2] ?? ''), 'failed');
      continue;
    }
    const r = /^Ran (\d+) tests? in /.exec(line);
    if (r) {
      ran = Number(r[1]);
      continue;
    }
    const end = /^(OK|FAILED|NO TESTS RAN)(?: \((.*)\))?$/.exec(line.trim());
    if (end && ran !== undefined) {
      const n = (key: string): number => Number(new RegExp(`\\b${key}=(\\d+)`).exec(end[2] ?? '')?.[1] ?? 0);
      summary = addCounts(summary, { total: ran, failed: n('failures') + n('errors') + n('unexpected successes'), skipped: n('skipped') + n('expected failures'), passed: 0 });
      ran = undefined;
    }
  }
  if (tests.size === 0 && !summary) return null;
  const complete = summary ? tests.size >= summary.total : verbose;
  return summary ? { framework: 'unittest', tests, summary, complete } : { framework: 'unittest', tests, complete };
}

const GO_STATUS: Record<string, TestStatus> = { PASS: 'passed', FAIL: 'failed', SKIP: 'skipped' };

/**
 * `go test`: `--- PASS|FAIL|SKIP: TestX (0.00s)` (subtests indented, named `TestX/sub`), `=== RUN`
 * (`-v`), package lines `ok  pkg 0.01s`, `FAIL pkg 0.01s`. Names are `pkg.TestX` when the package
 * line follows (it does in `go test` output), else `TestX`. Without `-v` only failures are named.
 */
export function parseGoTest(lines: string[]): FrameworkResult | null {
  const tests = new Map<string, TestStatus>();
  let pending: [string, TestStatus][] = [];
  let verbose = false;
  let packages = 0;
  const suites = new Map<string, TestStatus>();
  const flush = (pkg?: string): void => {
    for (const [name, status] of pending) record(tests, pkg ? `${pkg}.${name}` : name, status);
    pending = [];
  };
  for (const line of lines) {
    if (/^=== RUN\s/.test(line)) {
      verbose = true;
      continue;
    }
    const t = /^\s*--- (PASS|FAIL|SKIP): (\S+)(?: \([\d.]+s\))?$/.exec(line);
    if (t) {
      pending.push([t[2] ?? '', GO_STATUS[t[1] ?? ''] ?? 'failed']);
      continue;
    }
    const p = /^(ok|FAIL)\s+(\S+)\s+(?:[\d.]+s|\(cached\)|\[[^\]]+\])/.exec(line);
    if (p) {
      packages += 1;
      suites.set(p[2] ?? '', p[1] === 'ok' ? 'passed' : 'failed');
      flush(p[2]);
    }
  }
  flush();
  if (tests.size === 0 && packages === 0) return null;
  return { framework: 'go', tests, complete: verbose, suites };
}
