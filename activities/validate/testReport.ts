/**
 * Recognises test names, statuses and counts in a test run's combined output: node:test (TAP and
 * spec), Jest, Vitest, pytest, unittest and `go test`. Pure; see {@link TestReport} for the shape.
 */
import { parseJest, parseNodeSpec, parseTap, parseVitest } from './parseJs.js';
import { parseGoTest, parsePytest, parseUnittest } from './parsePyGo.js';
import { countNames, type FrameworkResult, type TestCounts, type TestReport, type TestStatus } from './reportTypes.js';

export type { TestCounts, TestReport, TestStatus } from './reportTypes.js';

const PARSERS: ((lines: string[]) => FrameworkResult | null)[] = [parseTap, parseNodeSpec, parseJest, parseVitest, parsePytest, parseUnittest, parseGoTest];

/** Removes ANSI escape sequences (colours, cursor moves) and keeps the last `\r`-overwritten segment of each line. */
export function cleanLines(output: string): string[] {
  return output
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g, '')
    .split(/\r?\n/)
    .map((l) => l.split('\r').pop() ?? '');
}

/**
 * Parses a test run's output (stdout and stderr interleaved, as the sandbox captured it). Never
 * throws; output with nothing recognisable gives `frameworks: []`, no tests, zero counts and
 * `namesComplete: false`, `countsKnown: false`. Several frameworks in one output add up.
 */
export function parseTestReport(output: string): TestReport {
  const lines = cleanLines(output);
  const results = PARSERS.map((p) => p(lines)).filter((r): r is FrameworkResult => r !== null);
  const tests: Record<string, TestStatus> = {};
  const counts: TestCounts = { passed: 0, failed: 0, skipped: 0, total: 0 };
  const suites: Record<string, TestStatus> = {};
  for (const r of results) {
    for (const [name, status] of r.tests) tests[name] = status;
    for (const [suite, status] of r.suites ?? []) suites[suite] = status;
    const c = r.complete || !r.summary ? countNames(r.tests) : r.summary;
    counts.passed += c.passed;
    counts.failed += c.failed;
    counts.skipped += c.skipped;
    counts.total += c.total;
  }
  return {
    frameworks: results.map((r) => r.framework),
    tests,
    counts,
    namesComplete: results.length > 0 && results.every((r) => r.complete),
    countsKnown: results.length > 0 && results.every((r) => r.complete || r.summary !== undefined),
    ...(Object.keys(suites).length > 0 ? { suites } : {}),
  };
}

/** Names of the failed tests in a report, in the order seen. */
export function failedNames(report: TestReport): string[] {
  return Object.entries(report.tests)
    .filter(([, s]) => s === 'failed')
    .map(([n]) => n);
}

/**
 * Names of failing tests recognisable in test output (at most 50), as {@link parseTestReport}
 * normalises them (e.g. unittest `mod.Class.test_x`, pytest `path::test`, Go `pkg.TestX`).
 * Unrecognised output gives an empty list.
 */
export function failingTestsFrom(output: string): string[] {
  return failedNames(parseTestReport(output)).slice(0, 50);
}
