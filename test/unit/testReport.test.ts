import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { failingTestsFrom, parseTestReport } from '../../activities/validate/testReport.js';
import { fixturePath } from '../helpers/paths.js';

/** A captured output (test/fixtures/test-output, made by generate.sh there). */
const out = (name: string): string => readFileSync(fixturePath('test-output', `${name}.txt`), 'utf8');

// Every capture comes from the same 5-test project in each framework: adds (pass), divides (fails
// in base), legacy (skipped), plus framework-specific extras. Expected: names and counts.
const BASE: Record<string, { framework: string; failed: string[]; skipped: string[]; total: number; complete: boolean; known?: boolean }> = {
  'node-tap': { framework: 'tap', failed: ['calc > divides'], skipped: ['calc > legacy'], total: 5, complete: true },
  'node-spec': { framework: 'node-spec', failed: ['calc > divides'], skipped: ['calc > legacy'], total: 5, complete: true },
  'jest-verbose': { framework: 'jest', failed: ['test/calc.test.js > calc > divides'], skipped: ['test/calc.test.js > calc > legacy'], total: 5, complete: true },
  jest: { framework: 'jest', failed: ['test/calc.test.js > calc > divides'], skipped: [], total: 5, complete: false },
  'vitest-verbose': { framework: 'vitest', failed: ['test/calc.test.js > calc > divides'], skipped: ['test/calc.test.js > calc > legacy'], total: 5, complete: true },
  vitest: { framework: 'vitest', failed: ['test/calc.test.js > calc > divides'], skipped: [], total: 5, complete: false },
  'pytest-v': { framework: 'pytest', failed: ['tests/test_calc.py::TestCalc::test_divides', 'tests/test_calc.py::TestCalc::test_parses'], skipped: ['tests/test_calc.py::TestCalc::test_legacy'], total: 5, complete: true },
  pytest: { framework: 'pytest', failed: ['tests/test_calc.py::TestCalc::test_divides', 'tests/test_calc.py::TestCalc::test_parses'], skipped: [], total: 5, complete: false },
  'unittest-v': { framework: 'unittest', failed: ['tests.test_calc.TestCalc.test_divides', 'tests.test_calc.TestCalc.test_parses'], skipped: ['tests.test_calc.TestCalc.test_legacy'], total: 4, complete: true },
  unittest: { framework: 'unittest', failed: ['tests.test_calc.TestCalc.test_divides', 'tests.test_calc.TestCalc.test_parses'], skipped: [], total: 4, complete: false },
  'go-v': { framework: 'go', failed: ['example.com/calc/calc.TestDivides'], skipped: ['example.com/calc/calc.TestLegacy'], total: 7, complete: true },
  go: { framework: 'go', failed: ['example.com/calc/calc.TestDivides'], skipped: [], total: 1, complete: false, known: false },
};

describe('parseTestReport on real captures', () => {
  for (const [name, want] of Object.entries(BASE)) {
    test(`${name}: framework, failing and skipped names, counts, completeness`, () => {
      const r = parseTestReport(out(`${name}.base`));
      assert.deepEqual(r.frameworks, [want.framework]);
      const by = (s: string): string[] => Object.entries(r.tests).filter(([, v]) => v === s).map(([n]) => n).sort();
      assert.deepEqual(by('failed'), [...want.failed].sort());
      assert.deepEqual(by('skipped'), [...want.skipped].sort());
      assert.equal(r.counts.total, want.total);
      assert.equal(r.counts.failed, want.failed.length);
      assert.equal(r.counts.passed + r.counts.failed + r.counts.skipped, r.counts.total);
      assert.equal(r.namesComplete, want.complete);
      assert.equal(r.countsKnown, want.known ?? true);
    });
  }

  test('the same test has the same name before and after (durations stripped), in every verbose format', () => {
    for (const name of ['node-tap', 'node-spec', 'jest-verbose', 'vitest-verbose', 'pytest-v', 'unittest-v', 'go-v']) {
      const before = parseTestReport(out(`${name}.base`));
      const after = parseTestReport(out(`${name}.fixed`));
      assert.deepEqual(Object.keys(after.tests).sort(), Object.keys(before.tests).sort(), name);
      assert.equal(after.counts.failed, 0, name);
      for (const n of Object.keys(after.tests)) assert.doesNotMatch(n, /\d+(\.\d+)? ?m?s\)?$/, `${name}: ${n}`);
    }
  });

  test('summaries give the counts when names are not listed: skipped and deleted tests show in them', () => {
    assert.deepEqual(parseTestReport(out('pytest.skipped')).counts, { passed: 3, failed: 0, skipped: 2, total: 5 });
    assert.deepEqual(parseTestReport(out('pytest.deleted')).counts, { passed: 3, failed: 0, skipped: 1, total: 4 });
    assert.deepEqual(parseTestReport(out('unittest.skipped')).counts, { passed: 2, failed: 0, skipped: 2, total: 4 });
    assert.deepEqual(parseTestReport(out('jest.skipped')).counts, { passed: 3, failed: 0, skipped: 2, total: 5 });
    assert.deepEqual(parseTestReport(out('vitest.deleted')).counts, { passed: 3, failed: 0, skipped: 1, total: 4 });
  });
});

describe('parseTestReport on formats not captured here', () => {
  test('older unittest names `test_x (mod.Class)` normalise like 3.11+ `test_x (mod.Class.test_x)`', () => {
    const old = parseTestReport('test_a (m.C) ... ok\ntest_b (m.C) ... FAIL\n\nRan 2 tests in 0.001s\n\nFAILED (failures=1)\n');
    const now = parseTestReport('test_a (m.C.test_a) ... ok\ntest_b (m.C.test_b) ... FAIL\n\nRan 2 tests in 0.001s\n\nFAILED (failures=1)\n');
    assert.deepEqual(old.tests, { 'm.C.test_a': 'passed', 'm.C.test_b': 'failed' });
    assert.deepEqual(now.tests, old.tests);
    assert.equal(old.namesComplete, true);
  });

  test('unittest with a docstring line, expected failures and OK (skipped=1)', () => {
    const r = parseTestReport("test_a (m.C.test_a)\nAdds numbers. ... ok\ntest_b (m.C.test_b) ... expected failure\ntest_c (m.C.test_c) ... skipped 'no'\n\nRan 3 tests in 0.0s\n\nOK (skipped=1, expected failures=1)\n");
    assert.deepEqual(r.tests, { 'm.C.test_a': 'passed', 'm.C.test_b': 'skipped', 'm.C.test_c': 'skipped' });
    assert.deepEqual(r.counts, { passed: 1, failed: 0, skipped: 2, total: 3 });
  });

  test('pytest -q summary without rulers, errors and xfail; xdist lines', () => {
    const r = parseTestReport('..E.x\nERROR t/test_a.py::test_e - RuntimeError\n1 error, 3 passed, 1 xfailed in 0.10s\n');
    assert.deepEqual(r.counts, { passed: 3, failed: 1, skipped: 1, total: 5 });
    assert.equal(r.namesComplete, false);
    const x = parseTestReport('[gw0] [ 50%] PASSED t/test_a.py::test_x[1-2]\n[gw1] [100%] FAILED t/test_a.py::test_y\n=== 1 failed, 1 passed in 0.2s ===\n');
    assert.deepEqual(x.tests, { 't/test_a.py::test_x[1-2]': 'passed', 't/test_a.py::test_y': 'failed' });
    assert.equal(x.namesComplete, true);
  });

  test('generic TAP with a TODO and colours; jest with ANSI codes', () => {
    const tap = parseTestReport('TAP version 13\nok 1 - a\nnot ok 2 - b # TODO later\nnot ok 3 - c\n1..3\n');
    assert.deepEqual(tap.tests, { a: 'passed', b: 'skipped', c: 'failed' });
    const jest = parseTestReport('\u001b[1mPASS\u001b[22m src/a.test.ts\n  \u001b[32m✓\u001b[39m works (3 ms)\n\nTests:       1 passed, 1 total\n');
    assert.deepEqual(jest.tests, { 'src/a.test.ts > works': 'passed' });
    assert.equal(jest.namesComplete, true);
  });

  test('unrecognised output (a test script replaced by `node -e 0`) gives nothing, not a pass', () => {
    const r = parseTestReport('');
    assert.deepEqual(r, { frameworks: [], tests: {}, counts: { passed: 0, failed: 0, skipped: 0, total: 0 }, namesComplete: false, countsKnown: false });
  });

  test('failingTestsFrom lists the failures by their normalised names', () => {
    assert.deepEqual(failingTestsFrom(out('go-v.base')), ['example.com/calc/calc.TestDivides']);
    assert.deepEqual(failingTestsFrom(out('unittest.base')).sort(), ['tests.test_calc.TestCalc.test_divides', 'tests.test_calc.TestCalc.test_parses']);
    assert.deepEqual(failingTestsFrom(out('node-tap.fixed')), []);
  });
});
