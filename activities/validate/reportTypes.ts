/**
 * Shapes shared by the test-output parsers ({@link ./testReport.ts}) and the contract check.
 * Plain JSON (records, no Maps) so a report crosses Temporal activity boundaries unchanged.
 */

/** What a test did in one run. `skipped` includes TODO, xfail and "expected failure" (it did not count as a run). */
export type TestStatus = 'passed' | 'failed' | 'skipped';

/** Numbers of tests. `total = passed + failed + skipped`. */
export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  total: number;
}

/** What one framework's output told us. Internal to the parsers; {@link TestReport} aggregates them. */
export interface FrameworkResult {
  /** `tap` (node:test TAP), `node-spec`, `jest`, `vitest`, `pytest`, `unittest`, `go`. */
  framework: string;
  /** Normalised test name → status, in the order first seen. */
  tests: Map<string, TestStatus>;
  /** Sum of the framework's own summary lines, when it printed any. */
  summary?: TestCounts;
  /** True when the output listed every test by name (a verbose listing, or names ≥ the summary's total). */
  complete: boolean;
  /**
   * Whole-suite results, where the framework reports them (`go test`: `ok pkg` / `FAIL pkg`, which
   * terse output gives even when it names no passing test).
   */
  suites?: Map<string, TestStatus>;
}

/**
 * A test run, as recognised from its combined stdout/stderr.
 * - `tests`: normalised name → status. Names are stable across runs of the same framework
 *   (durations stripped, unittest's `test_x (mod.Class)` and `test_x (mod.Class.test_x)` both
 *   become `mod.Class.test_x`, nested suites joined with ` > `, Go names prefixed by package).
 * - `counts`: from the names when they are complete, else from the frameworks' summary lines.
 * - `namesComplete`: every test that ran was listed by name (false when nothing was recognised).
 * - `countsKnown`: `counts` covers every test (names complete or a summary line for each framework).
 */
export interface TestReport {
  frameworks: string[];
  tests: Record<string, TestStatus>;
  counts: TestCounts;
  namesComplete: boolean;
  countsKnown: boolean;
  /** Suite (Go package) → status, when a framework reports whole suites; test names start with `<suite>.`. */
  suites?: Record<string, TestStatus>;
}

/** Adds `status` for `name`; a failure is sticky, a pass beats a skip (retries, teardown errors). */
export function record(tests: Map<string, TestStatus>, name: string, status: TestStatus): void {
  const key = normaliseName(name);
  if (!key) return;
  const prev = tests.get(key);
  if (prev === 'failed' || (prev === 'passed' && status === 'skipped')) return;
  tests.set(key, status);
}

/** Trims a name, collapses inner whitespace and strips a trailing duration (`(3 ms)`, `(0.01s)`, ` 12ms`). */
export function normaliseName(name: string): string {
  return name
    .replace(/\s+\((?:\d+(?:\.\d+)?\s*(?:ms|s|m)|cached)\)\s*$/, '')
    .replace(/\s+\d+(?:\.\d+)?ms$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Counts the statuses of a name map. */
export function countNames(tests: Map<string, TestStatus>): TestCounts {
  const c: TestCounts = { passed: 0, failed: 0, skipped: 0, total: 0 };
  for (const s of tests.values()) {
    c[s] += 1;
    c.total += 1;
  }
  return c;
}

/** Adds summary numbers into an accumulator (several summary lines: several processes or packages). */
export function addCounts(acc: TestCounts | undefined, add: Omit<TestCounts, 'total'> & { total?: number }): TestCounts {
  const total = add.total ?? add.passed + add.failed + add.skipped;
  const base = acc ?? { passed: 0, failed: 0, skipped: 0, total: 0 };
  return {
    passed: base.passed + Math.max(0, total - add.failed - add.skipped),
    failed: base.failed + add.failed,
    skipped: base.skipped + add.skipped,
    total: base.total + total,
  };
}

/** `"1 failed, 2 passed, "` → lookup of the number before a word (0 when absent). */
export function wordCounts(text: string): (word: string) => number {
  const found = new Map<string, number>();
  for (const m of text.matchAll(/(\d+) ([a-z]+)/gi)) {
    const w = (m[2] ?? '').toLowerCase();
    found.set(w, (found.get(w) ?? 0) + Number(m[1]));
  }
  return (word) => found.get(word) ?? 0;
}
