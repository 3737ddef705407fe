/**
 * The test contract: the repository's tests as they ran at the base commit ("before") bind the
 * change ("after"). Pure; the caller runs the tests and parses both outputs with `parseTestReport`.
 */
import type { TestReport, TestStatus } from './reportTypes.js';

/**
 * - `missing`: a test that ran (or was skipped) before is absent after.
 * - `newly_skipped`: a test that ran before is skipped after (skip, TODO, xfail).
 * - `still_failing`: a test that failed before does not pass after (or, by counts, tests fail after).
 * - `regressed`: a test that passed before fails after.
 * - `count_dropped`: fewer tests after than before (used when names are not complete).
 * - `skipped_rose`: more skipped tests after than before (used when names are not complete).
 * - `unverifiable`: the base run's output lists neither every name nor the counts (e.g. `go test`
 *   without `-v`, or an unrecognised runner): the contract cannot be checked.
 */
export type ContractViolationKind = 'missing' | 'newly_skipped' | 'still_failing' | 'regressed' | 'count_dropped' | 'skipped_rose' | 'unverifiable';

/** One broken promise, with the tests concerned (may be empty for count-based kinds). */
export interface ContractViolation {
  kind: ContractViolationKind;
  tests: string[];
  /** One line a human reads. */
  detail: string;
}

/**
 * The verdict. `ok` is false when any violation is present (including `unverifiable`: the system
 * cannot vouch for a change it could not check). `basis` says how it was checked: by `names` (both
 * runs list every test), by `counts` (summary numbers, plus the names that were listed), or `none`.
 */
export interface ContractVerdict {
  ok: boolean;
  basis: 'names' | 'counts' | 'suites' | 'none';
  violations: ContractViolation[];
  /** Tests that failed before and pass after. */
  fixed: string[];
  /** Tests present only after (welcome; never a violation). */
  added: string[];
  /** One line, e.g. `test contract broken: 1 missing (calc > divides)`. */
  summary: string;
}

/** Options of {@link checkTestContract}. */
export interface ContractContext {
  /** At most this many names are listed in a violation's `detail` and in `summary` (default 5). */
  maxNamesInText?: number;
}

/**
 * Checks the after-run against the before-run. An after-output with nothing recognisable (e.g.
 * the test script replaced by `node -e 0`) counts as a run with zero tests. Never throws.
 */
export function checkTestContract(before: TestReport, after: TestReport, ctx: ContractContext = {}): ContractVerdict {
  const max = ctx.maxNamesInText ?? 5;
  const list = (names: string[]): string => (names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`);
  const violations: ContractViolation[] = [];
  /** Adds a violation when it names tests, or always when `always` (count-based kinds). */
  const add = (kind: ContractViolationKind, tests: string[], what: string, always = false): void => {
    if (tests.length > 0 || always) {
      violations.push({ kind, tests, detail: tests.length > 0 ? `${what}: ${list(tests)}` : what });
    }
  };
  const afterEmpty = after.frameworks.length === 0;
  const afterTests: Record<string, TestStatus> = afterEmpty ? {} : after.tests;
  const afterComplete = afterEmpty || after.namesComplete;
  const afterCounts = afterEmpty ? { passed: 0, failed: 0, skipped: 0, total: 0 } : after.counts;
  const afterCountsKnown = afterEmpty || after.countsKnown;
  const beforeNames = Object.entries(before.tests);
  const fixed = beforeNames.filter(([n, s]) => s === 'failed' && afterTests[n] === 'passed').map(([n]) => n);
  const added = Object.keys(afterTests).filter((n) => !(n in before.tests));

  let basis: ContractVerdict['basis'];
  if (before.namesComplete && afterComplete) {
    basis = 'names';
    add('missing', beforeNames.filter(([n]) => afterTests[n] === undefined).map(([n]) => n), 'tests that existed before are gone');
    add('newly_skipped', beforeNames.filter(([n, s]) => s !== 'skipped' && afterTests[n] === 'skipped').map(([n]) => n), 'tests that ran before are skipped now');
    add('still_failing', beforeNames.filter(([n, s]) => s === 'failed' && afterTests[n] === 'failed').map(([n]) => n), 'tests that failed before still fail');
    add('regressed', beforeNames.filter(([n, s]) => s !== 'failed' && afterTests[n] === 'failed').map(([n]) => n), 'tests that passed before fail now');
  } else if (before.countsKnown && afterCountsKnown) {
    basis = 'counts';
    // The names both runs did list still count (failures are listed even by terse reporters).
    add('newly_skipped', beforeNames.filter(([n, s]) => s !== 'skipped' && afterTests[n] === 'skipped').map(([n]) => n), 'tests that ran before are skipped now');
    if (afterComplete) add('missing', beforeNames.filter(([n]) => afterTests[n] === undefined).map(([n]) => n), 'tests that existed before are gone');
    if (afterCounts.total < before.counts.total) add('count_dropped', [], `fewer tests run: ${afterCounts.total} after, ${before.counts.total} before`, true);
    if (afterCounts.skipped > before.counts.skipped) add('skipped_rose', [], `more tests skipped: ${afterCounts.skipped} after, ${before.counts.skipped} before`, true);
    if (afterCounts.failed > 0) {
      const failing = Object.entries(afterTests).filter(([, s]) => s === 'failed').map(([n]) => n);
      const was = new Set(beforeNames.filter(([, s]) => s === 'failed').map(([n]) => n));
      add('still_failing', failing.filter((n) => was.has(n)), `${afterCounts.failed} test(s) fail after the change`, true);
      add('regressed', failing.filter((n) => !was.has(n) && n in before.tests), 'tests that passed before fail now');
    }
  } else if (before.suites && !afterEmpty && after.suites && beforeNames.every(([n]) => suiteOf(n, before.suites!) !== undefined)) {
    // Terse `go test`: names only for failures, a result per package (`ok pkg`). Packages that ran
    // must still run and not regress; but a test that failed before must be SEEN passing by name:
    // a package can print `ok` without running it (a TestMain that exits 0, a build constraint).
    // Nightshift runs Go verbose (GOFLAGS=-v, see sandboxTestCommand), so names are there.
    basis = 'suites';
    const bs = before.suites;
    const as = after.suites;
    add('missing', Object.keys(bs).filter((s) => as[s] === undefined), 'test packages that ran before are gone');
    const passedAfter = (n: string): boolean => afterTests[n] === 'passed';
    add('still_failing', beforeNames.filter(([n, s]) => s === 'failed' && !passedAfter(n)).map(([n]) => n), 'tests that failed before still fail');
    add('regressed', Object.keys(bs).filter((s) => bs[s] === 'passed' && as[s] === 'failed'), 'test packages that passed before fail now');
    fixed.push(...beforeNames.filter(([n, s]) => s === 'failed' && passedAfter(n) && !fixed.includes(n)).map(([n]) => n));
  } else {
    basis = 'none';
    add('unverifiable', [], before.frameworks.length === 0
      ? "the base commit's test output has no test names or counts Nightshift recognises"
      : `the base commit's ${before.frameworks.join('/')} output names neither every test nor the counts (use a verbose reporter, e.g. go test -v)`, true);
  }
  const ok = violations.length === 0;
  const summary = ok
    ? `test contract holds (by ${basis}): ${afterCounts.total} test(s) ran after, ${before.counts.total} before${fixed.length ? `; fixed: ${list(fixed)}` : ''}${added.length ? `; added: ${added.length}` : ''}`
    : `test contract broken: ${violations.map((v) => v.detail).join('; ')}`;
  return { ok, basis, violations, fixed, added, summary };
}

/** The suite (longest match) a test name belongs to: names are `<suite>.<test>`. */
function suiteOf(name: string, suites: Record<string, TestStatus>): string | undefined {
  let best: string | undefined;
  for (const s of Object.keys(suites)) if (name.startsWith(`${s}.`) && (!best || s.length > best.length)) best = s;
  return best;
}
