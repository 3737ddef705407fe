import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { checkTestContract, type ContractViolationKind } from '../../activities/validate/contract.js';
import { parseTestReport, type TestReport } from '../../activities/validate/testReport.js';
import { fixturePath } from '../helpers/paths.js';

const run = (name: string): TestReport => parseTestReport(readFileSync(fixturePath('test-output', `${name}.txt`), 'utf8'));
const kinds = (before: TestReport, after: TestReport): ContractViolationKind[] => checkTestContract(before, after).violations.map((v) => v.kind).sort();

// Captures of one project per framework (see test/fixtures/test-output/SOURCES.md): `base` has a
// failing `divides`; `fixed` fixes it; `deleted` removes it; `skipped` marks it skipped; `renamed`
// renames it (still failing). Verbose reporters list names; terse ones only counts.
const VERBOSE = ['node-tap', 'node-spec', 'jest-verbose', 'vitest-verbose', 'pytest-v', 'unittest-v', 'go-v'];
const TERSE = ['jest', 'vitest', 'pytest', 'unittest'];

describe('checkTestContract by names (verbose reporters)', () => {
  for (const fw of VERBOSE) {
    test(`${fw}: fixing the failing test holds the contract; deleting, skipping or renaming it breaks it`, () => {
      const before = run(`${fw}.base`);
      const fixed = checkTestContract(before, run(`${fw}.fixed`));
      assert.equal(fixed.ok, true, fixed.summary);
      assert.equal(fixed.basis, 'names');
      assert.ok(fixed.fixed.some((n) => /divides|Divides/.test(n)));

      const deleted = checkTestContract(before, run(`${fw}.deleted`));
      assert.equal(deleted.ok, false);
      const missing = deleted.violations.find((v) => v.kind === 'missing');
      assert.ok(missing && missing.tests.length === 1 && /divides|Divides/.test(missing.tests[0] ?? ''), deleted.summary);

      const skipped = checkTestContract(before, run(`${fw}.skipped`));
      assert.deepEqual(skipped.violations.find((v) => v.kind === 'newly_skipped')?.tests.length, 1, skipped.summary);

      // A renamed test is a missing one plus an added one (and here it still fails).
      const renamed = checkTestContract(before, run(`${fw}.renamed`));
      assert.ok(renamed.violations.some((v) => v.kind === 'missing'));
      assert.ok(renamed.added.some((n) => /halves|Halves/.test(n)));
      assert.ok(!renamed.ok);
    });

    test(`${fw}: the test script rewritten to \`node -e 0\` (no output) loses every test`, () => {
      const before = run(`${fw}.base`);
      const v = checkTestContract(before, parseTestReport(''));
      assert.equal(v.ok, false);
      assert.deepEqual(v.violations.map((x) => x.kind), ['missing']);
      assert.equal(v.violations[0]?.tests.length, Object.keys(before.tests).length);
    });
  }

  test('added tests are welcome; a test that passed before and fails now is a regression', () => {
    const before: TestReport = { frameworks: ['tap'], tests: { a: 'passed', b: 'failed', s: 'skipped' }, counts: { passed: 1, failed: 1, skipped: 1, total: 3 }, namesComplete: true, countsKnown: true };
    const good = checkTestContract(before, { ...before, tests: { a: 'passed', b: 'passed', s: 'skipped', c: 'passed' }, counts: { passed: 3, failed: 0, skipped: 1, total: 4 } });
    assert.equal(good.ok, true, good.summary);
    assert.deepEqual(good.added, ['c']);
    assert.deepEqual(good.fixed, ['b']);
    assert.match(good.summary, /holds/);
    const bad = checkTestContract(before, { ...before, tests: { a: 'failed', b: 'passed', s: 'skipped' } });
    assert.deepEqual(bad.violations.map((x) => [x.kind, x.tests]), [['regressed', ['a']]]);
    assert.match(bad.summary, /^test contract broken: .*a/);
    // A test skipped before may stay skipped, but must not disappear.
    assert.deepEqual(kinds(before, { ...before, tests: { a: 'passed', b: 'passed' } }), ['missing']);
  });
});

describe('checkTestContract by counts (terse reporters)', () => {
  for (const fw of TERSE) {
    test(`${fw}: fixed holds; deleted drops the count; skipped raises the skips; renamed still fails`, () => {
      const before = run(`${fw}.base`);
      const fixed = checkTestContract(before, run(`${fw}.fixed`));
      assert.equal(fixed.ok, true, fixed.summary);
      assert.equal(fixed.basis, 'counts');
      assert.deepEqual(kinds(before, run(`${fw}.deleted`)), ['count_dropped']);
      assert.ok(kinds(before, run(`${fw}.skipped`)).includes('skipped_rose'));
      assert.ok(kinds(before, run(`${fw}.renamed`)).includes('still_failing'));
      // No output at all: fewer tests, and the failing one (listed by name before) is gone.
      assert.deepEqual(kinds(before, parseTestReport('')), ['count_dropped', 'missing']);
    });
  }
});

describe('checkTestContract when the base run cannot be checked', () => {
  test('go test without -v: packages are checked, but a test that failed must be seen passing by name (`ok pkg` can vouch for tests that never ran)', () => {
    const before = run('go.base');
    assert.deepEqual(before.suites, { 'example.com/calc/calc': 'failed', 'example.com/calc/util': 'passed' });
    const terse = checkTestContract(before, run('go.fixed'));
    assert.equal(terse.ok, false, 'a terse `ok` is not proof (Nightshift runs go test with GOFLAGS=-v)');
    assert.equal(terse.basis, 'suites');
    assert.deepEqual(terse.violations.map((x) => x.kind), ['still_failing']);
    // With the names (what GOFLAGS=-v gives), the fix is seen.
    const v = checkTestContract(before, run('go-v.fixed'));
    assert.equal(v.ok, true, v.summary);
    assert.deepEqual(v.fixed, ['example.com/calc/calc.TestDivides']);
    // The failing test renamed away (its package still fails): still failing.
    assert.deepEqual(kinds(before, run('go.renamed')), ['still_failing']);
    // A package gone, a passing package now failing.
    const gone = parseTestReport('ok  \texample.com/calc/calc\t0.003s\n');
    assert.deepEqual(kinds(before, gone), ['missing', 'still_failing']);
    const regressed = parseTestReport('ok  \texample.com/calc/calc\t0.003s\n--- FAIL: TestPad (0.00s)\nFAIL\nFAIL\texample.com/calc/util\t0.002s\n');
    assert.deepEqual(kinds(before, regressed), ['regressed', 'still_failing']);
    // A package that prints `ok` without running the failing test (TestMain exiting 0): still failing.
    const skippedRun = parseTestReport('ok  \texample.com/calc/calc\t0.001s\nok  \texample.com/calc/util\t0.002s\n');
    assert.deepEqual(kinds(before, skippedRun), ['still_failing']);
  });

  test('an unrecognised base output is unverifiable', () => {
    assert.deepEqual(kinds(parseTestReport('all good\n'), parseTestReport('all good\n')), ['unverifiable']);
  });
});
