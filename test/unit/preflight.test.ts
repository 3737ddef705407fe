/**
 * Preflight verdicts on real captures (test/fixtures/preflight, made by generate.sh there): every
 * rule, and the near misses that must stay `tests_failing`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { classifyPreflight, setupFor, type PreflightInput, type PreflightVerdict } from '../../activities/environment/preflight.js';
import { DEPENDENCY_RULES } from '../../activities/environment/preflightRules.js';
import { parseTestReport } from '../../activities/validate/testReport.js';
import { fixturePath } from '../helpers/paths.js';

const EXITS = new Map(
  readFileSync(fixturePath('preflight', 'EXITS'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' ') as [string, string]),
);

/** The preflight input of a capture, as runRepoTests would give it. */
function capture(name: string, command: string, extra: Partial<PreflightInput> = {}): PreflightInput {
  const output = readFileSync(fixturePath('preflight', `${name}.txt`), 'utf8');
  const code = EXITS.get(name);
  assert.ok(code !== undefined, `no exit code for ${name}`);
  const exitCode = Number(code);
  return synthetic(output, exitCode, command, extra);
}

function synthetic(output: string, exitCode: number, command: string, extra: Partial<PreflightInput> = {}): PreflightInput {
  const report = parseTestReport(output);
  return {
    result: { passed: exitCode === 0, exitCode, outputTail: output, failingTests: [], durationMs: 10, command },
    report,
    trackedPaths: [],
    declared: { setup: [], source: 'default' },
    dependencyFiles: [],
    ...extra,
  };
}

function expectBroken(v: PreflightVerdict, rule: string, reason: RegExp, hint?: RegExp): void {
  assert.equal(v.verdict, 'environment_broken', `${v.rule}: ${v.reason}`);
  assert.equal(v.rule, rule);
  assert.match(v.reason, reason);
  if (hint) assert.match(v.hint ?? '', hint);
  assert.match(v.hint ?? '', /environment/);
}

describe('environment_broken on real captures', () => {
  test('exit 127: the missing command named; a toolchain wants a base image even with a lock file', () => {
    const v = classifyPreflight(capture('npm-not-found', 'npm test', { dependencyFiles: ['package.json', 'package-lock.json'] }));
    expectBroken(v, 'exit-127', /^`npm`: command not found \(exit 127\)$/, /`npm` is not in the environment's image: use a base image that has it \(repos\.<name>\.environment\.image or environment\.dockerfile/);
    assert.equal(v.command, 'npm test');
    assert.match(v.outputTail, /npm: not found/);
  });

  test('exit 127 of a package binary (jest) behind npm: install from the lock file, or a base image without a manifest', () => {
    const withLock = classifyPreflight(capture('npm-jest-not-found', 'npm test', { dependencyFiles: ['package.json', 'package-lock.json'] }));
    expectBroken(withLock, 'exit-127', /^`jest`: command not found/, /setup: \[npm ci\].*repos\.<name>\.environment\.setup.*devcontainer/);
    const bare = classifyPreflight(capture('npm-jest-not-found', 'npm test'));
    expectBroken(bare, 'exit-127', /`jest`/, /a base image that has it/);
  });

  test('exit 126: cannot execute', () => {
    expectBroken(classifyPreflight(capture('not-executable', './run-tests.sh')), 'exit-126', /cannot be executed \(permission denied.*\(exit 126\)/);
  });

  test('"command not found" of the first word with another exit code', () => {
    expectBroken(classifyPreflight(capture('bash-npm-not-found', 'CI=1 npm test')), 'command-not-found', /^`npm`: command not found \(exit 2\)$/, /base image/);
    // Not the first word: no verdict from this rule (nothing else shows a missing dependency).
    assert.equal(classifyPreflight(capture('bash-npm-not-found', 'make test')).verdict, 'tests_failing');
  });

  test('Python: pytest missing; the hint follows the manifests', () => {
    const cases: Array<[string[], RegExp]> = [
      [['requirements.txt'], /setup: \[pip install -r requirements\.txt\]/],
      [['api/requirements-dev.txt'], /setup: \[pip install -r api\/requirements-dev\.txt\]/],
      [['pyproject.toml'], /setup: \[pip install -e \. \(or pip install -e "\.\[test\]"\)\]/],
      [[], /setup: \[pip install pytest\]/],
    ];
    for (const [deps, hint] of cases) {
      expectBroken(classifyPreflight(capture('pytest-missing', 'python3 -m pytest', { dependencyFiles: deps })), 'python-no-module', /missing Python module `pytest` \(exit 1\)/, hint);
    }
  });

  test('Python: a third-party module missing at import (unittest loader failure, pytest collection error)', () => {
    const tracked = ['tests/__init__.py', 'tests/test_http.py'];
    expectBroken(classifyPreflight(capture('unittest-missing-module', 'python3 -m unittest -v', { trackedPaths: tracked })), 'python-no-module', /`requests`/);
    expectBroken(classifyPreflight(capture('pytest-missing-module', 'pytest', { trackedPaths: tracked })), 'python-no-module', /`httpx` \(exit 2\)/);
  });

  test('Node: a bare package missing (ESM under node --test, CommonJS)', () => {
    const deps = { dependencyFiles: ['package.json', 'pnpm-lock.yaml'] };
    expectBroken(classifyPreflight(capture('node-test-missing-package', 'npm test', deps)), 'node-module-not-found', /missing Node package `left-pad`/, /corepack pnpm install --frozen-lockfile/);
    expectBroken(classifyPreflight(capture('node-cjs-missing-package', 'node test.js', { dependencyFiles: ['yarn.lock'] })), 'node-module-not-found', /`left-pad`/, /corepack yarn install --immutable/);
  });

  test('Go: each way a module is missing', () => {
    const deps = { dependencyFiles: ['go.mod'] };
    const cases: Array<[string, string, RegExp]> = [
      ['go-proxy-off', 'go-proxy-off', /GOPROXY=off/],
      ['go-missing-sum', 'go-missing-sum', /`github\.com\/google\/go-cmp\/cmp`/],
      ['go-no-required-module', 'go-no-required-module', /`github\.com\/google\/go-cmp\/cmp`/],
      ['go-cannot-find-module', 'go-cannot-find-module', /`github\.com\/google\/go-cmp\/cmp`/],
      ['go-proxy-unreachable', 'go-proxy-unreachable', /`github\.com\/google\/go-cmp@v0\.6\.0`/],
    ];
    for (const [name, rule, reason] of cases) expectBroken(classifyPreflight(capture(name, 'go test ./...', deps)), rule, reason, /setup: \[go mod download\]/);
  });

  test('a timeout before any test was recognised', () => {
    const v = classifyPreflight(synthetic('> test\n> node --test\n', 143, 'npm test', { timedOut: true, dependencyFiles: ['package-lock.json'] }));
    expectBroken(v, 'timeout', /timed out before any test was recognised/, /never started.*setup: \[npm ci\]/);
    expectBroken(classifyPreflight(synthetic('', 143, 'make test', { timedOut: true })), 'timeout', /timed out/, /base image that has it/);
  });

  test('a declared setup that did not provide it is said so', () => {
    const v = classifyPreflight(capture('pytest-missing', 'python3 -m pytest', { declared: { setup: ['pip install -r requirements.txt'], source: 'config' }, dependencyFiles: ['requirements.txt'] }));
    assert.match(v.hint ?? '', /The declared setup \(config: pip install -r requirements\.txt\) ran and did not provide it\./);
  });

  test('every dependency rule fires on some capture', () => {
    const names = [...EXITS.keys()];
    const fired = new Set(names.map((n) => classifyPreflight(capture(n, 'x')).rule));
    for (const rule of DEPENDENCY_RULES) assert.ok(fired.has(rule.id), rule.id);
  });
});

describe('tests_failing and ok: the near misses', () => {
  test('a failing test that imports a missing LOCAL module is tests_failing (Python and Node)', () => {
    const py = classifyPreflight(capture('unittest-local-module', 'python3 -m unittest -v', { trackedPaths: ['src/calc.py', 'tests/__init__.py', 'tests/test_calc.py'] }));
    assert.equal(py.verdict, 'tests_failing');
    assert.equal(py.rule, 'no-environment-signal');
    assert.equal(py.hint, undefined);
    // The same output when the repository has no `calc`: the module is a missing dependency.
    expectBroken(classifyPreflight(capture('unittest-local-module', 'python3 -m unittest -v', { trackedPaths: ['tests/test_calc.py'] })), 'python-no-module', /`calc`/);
    const pkgDir = classifyPreflight(capture('unittest-local-module', 'python3 -m unittest -v', { trackedPaths: ['src/calc/__init__.py'] }));
    assert.equal(pkgDir.verdict, 'tests_failing');
    const node = classifyPreflight(capture('node-test-missing-local', 'node --test'));
    assert.equal(node.verdict, 'tests_failing');
  });

  test('real failures plus a ModuleNotFoundError in one test is tests_failing', () => {
    const v = classifyPreflight(capture('pytest-failures-and-missing-module', 'pytest', { dependencyFiles: ['requirements.txt'] }));
    assert.equal(v.verdict, 'tests_failing');
    assert.equal(v.rule, 'tests-failed');
    assert.equal(v.reason, '2 of 3 tests fail');
  });

  test('exit 1 with no output is tests_failing', () => {
    const v = classifyPreflight(synthetic('', 1, 'npm test'));
    assert.deepEqual(v, { verdict: 'tests_failing', rule: 'no-environment-signal', reason: 'the tests fail (exit 1) and nothing in the output shows a missing tool or dependency', command: 'npm test', outputTail: '' });
  });

  test('recognised failing tests (a real pytest capture) are tests_failing; a passing run is ok', () => {
    const failing = readFileSync(fixturePath('test-output', 'pytest-v.base.txt'), 'utf8');
    assert.equal(classifyPreflight(synthetic(failing, 1, 'pytest -v')).rule, 'tests-failed');
    const passing = readFileSync(fixturePath('test-output', 'pytest-v.fixed.txt'), 'utf8');
    assert.equal(classifyPreflight(synthetic(passing, 0, 'pytest -v')).verdict, 'ok');
    // Tests ran, then the run hung: the agent's problem, not the environment's.
    assert.equal(classifyPreflight(synthetic(failing, 143, 'pytest -v', { timedOut: true })).verdict, 'tests_failing');
  });
});

test('setupFor: lock file precedence per ecosystem', () => {
  assert.equal(setupFor('node', ['package.json', 'package-lock.json']), 'npm ci');
  assert.equal(setupFor('node', ['package.json', 'yarn.lock', 'pnpm-lock.yaml']), 'corepack pnpm install --frozen-lockfile');
  assert.equal(setupFor('node', ['web/package.json']), 'npm install');
  assert.equal(setupFor('go', ['go.mod', 'go.sum']), 'go mod download');
  assert.equal(setupFor('go', ['package.json']), undefined);
  assert.equal(setupFor('shell', ['go.mod']), undefined);
});
