import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asksForDependencyChange, gateFindings, matchesRiskyPattern } from '../../activities/gate/diffGate.js';
import { runnerModules, runnerShadowing } from '../../activities/gate/review.js';

const file = (path: string, added = 1, removed = 0) => ({ path, status: 'modified' as const, added, removed });

test('risky patterns: directory prefixes, exact paths, globs; near misses do not match', () => {
  assert.ok(matchesRiskyPattern('migrations/0001_init.sql', 'migrations/'));
  assert.ok(!matchesRiskyPattern('app/migrations.py', 'migrations/'));
  assert.ok(matchesRiskyPattern('src/auth/login.ts', 'src/auth'));
  assert.ok(!matchesRiskyPattern('src/authors.ts', 'src/auth'));
  assert.ok(matchesRiskyPattern('services/pay/charge.go', 'services/*/charge.go'));
  assert.ok(!matchesRiskyPattern('services/pay/x/charge.go', 'services/*/charge.go'));
  assert.ok(matchesRiskyPattern('a/b/c/secrets.yml', '**/secrets.yml'));
});

test('built-in risky paths: CI, git config files, Dockerfiles; lock files unless the task asks for dependencies', () => {
  const files = ['.github/workflows/ci.yml', '.gitlab-ci.yml', '.gitattributes', 'docker/Dockerfile.ci', 'package-lock.json', 'src/app.ts'].map((p) => file(p));
  const rules = gateFindings({ files, riskyPaths: [], taskText: 'Fix the date picker' });
  assert.deepEqual(rules.map((f) => (f.kind === 'risky_path' ? f.path : f.rule)), ['.github/workflows/ci.yml', '.gitlab-ci.yml', '.gitattributes', 'docker/Dockerfile.ci', 'package-lock.json']);
  const dep = gateFindings({ files, riskyPaths: [], taskText: 'Bump lodash to 4.17.21' });
  assert.ok(!dep.some((f) => f.kind === 'risky_path' && f.path === 'package-lock.json'), 'a dependency task may change the lock file');
  assert.ok(asksForDependencyChange('upgrade the dependencies'));
  assert.ok(!asksForDependencyChange('fix add()'));
});

test('configured risky paths and the size policy', () => {
  const f = gateFindings({ files: [file('db/migrations/1.sql', 10, 0), file('src/a.ts', 30, 20)], riskyPaths: ['db/migrations/'], maxChangedFiles: 1, maxChangedLines: 50, taskText: 't' });
  assert.deepEqual(f, [
    { kind: 'risky_path', path: 'db/migrations/1.sql', rule: 'riskyPaths: db/migrations/' },
    { kind: 'size', rule: '2 files changed (limit 1)' },
    { kind: 'size', rule: '60 lines changed (limit 50)' },
  ]);
  assert.deepEqual(gateFindings({ files: [file('src/a.ts', 30, 20)], riskyPaths: ['db/'], maxChangedFiles: 1, maxChangedLines: 50, taskText: 't' }), [], 'at the limits: nothing');
});

test('a module that would replace the test runner is a change to what passing means', () => {
  assert.deepEqual(runnerModules('python3 -m unittest -v').sort(), ['sitecustomize', 'unittest', 'usercustomize']);
  assert.ok(runnerModules('cd app && pytest -q').includes('pytest'));
  const changes = runnerShadowing(
    [
      { path: 'unittest/__main__.py', status: 'added' },
      { path: 'unittest.py', status: 'added' },
      { path: 'sitecustomize.py', status: 'added' },
      { path: 'node_modules/.bin/jest', status: 'modified' },
      { path: 'calc.py', status: 'modified' },
      { path: 'docs/unittest.md', status: 'added' },
      { path: 'unittest_helpers.py', status: 'added' },
    ],
    'python3 -m unittest -v',
  );
  assert.deepEqual(changes.map((c) => c.path), ['unittest/__main__.py', 'unittest.py', 'sitecustomize.py', 'node_modules/.bin/jest']);
  assert.ok(changes.every((c) => c.kind === 'test_runner_shadowed'));
});
