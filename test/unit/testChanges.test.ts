import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testDefinitionChanges, type ChangedFileContent, type TestChangeKind } from '../../activities/validate/testChanges.js';

const mod = (path: string, before: string, after: string): ChangedFileContent => ({ path, status: 'modified', before, after });
const kinds = (files: ChangedFileContent[], cmd = 'npm test'): TestChangeKind[] => testDefinitionChanges(files, cmd).map((c) => c.kind);
const pkg = (scripts: Record<string, string>, extra: Record<string, unknown> = {}): string => JSON.stringify({ name: 'x', scripts, ...extra }, null, 2);

const PY = 'import unittest\n\nclass TestCalc(unittest.TestCase):\n    def test_adds(self):\n        self.assertEqual(1 + 1, 2)\n\n    def test_divides(self):\n        self.assertEqual(1 / 2, 1)\n';
const NODE = "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\ntest('adds', () => assert.equal(1 + 1, 2));\ntest('divides', () => assert.equal(1 / 2, 1));\n";
const GO = 'package calc\n\nimport "testing"\n\nfunc TestAdds(t *testing.T) {\n\tif 1+1 != 2 {\n\t\tt.Fatal("no")\n\t}\n}\n\nfunc TestDivides(t *testing.T) {\n\tif 1.0/2 != 1 {\n\t\tt.Fatal("no")\n\t}\n}\n';

describe('testDefinitionChanges: the test command', () => {
  test('node: scripts.test rewritten to `node -e 0` is named with both values', () => {
    const changes = testDefinitionChanges([mod('package.json', pkg({ test: 'node --test' }), pkg({ test: 'node -e 0' }))], 'npm test');
    assert.deepEqual(changes, [{ path: 'package.json', kind: 'test_command', description: 'package.json: scripts.test changed from "node --test" to "node -e 0"' }]);
  });

  test('scripts the command names, what they name in turn, and their pre/post hooks; other scripts are free', () => {
    const before = pkg({ test: 'npm run lint && npm run test:unit', 'test:unit': 'jest', lint: 'eslint .', pretest: 'tsc', build: 'tsc' });
    const after = pkg({ test: 'npm run lint && npm run test:unit', 'test:unit': 'jest --testPathIgnorePatterns calc', lint: 'true', pretest: 'tsc', posttest: 'rm -rf x', build: 'tsc -b' });
    const d = testDefinitionChanges([mod('package.json', before, after)], 'npm test').map((c) => c.description);
    assert.deepEqual(d, [
      'package.json: scripts.lint changed from "eslint ." to "true"',
      'package.json: scripts.posttest added from absent to "rm -rf x"',
      'package.json: scripts.test:unit changed from "jest" to "jest --testPathIgnorePatterns calc"',
    ]);
    assert.deepEqual(kinds([mod('package.json', pkg({ t: 'a' }), pkg({ t: 'b' }))], 'yarn t'), ['test_command']);
    assert.deepEqual(kinds([mod('package.json', pkg({ test: 'a', dev: 'vite' }), pkg({ test: 'a', dev: 'vite --host' }))]), []);
  });

  test('package.json jest key, unparsable package.json, and a file the test script runs', () => {
    assert.deepEqual(kinds([mod('package.json', pkg({ test: 'jest' }, { jest: { bail: 1 } }), pkg({ test: 'jest' }, { jest: { testPathIgnorePatterns: ['calc'] } }))]), ['test_config']);
    assert.deepEqual(kinds([mod('package.json', pkg({ test: 'jest' }), '{ nope')]), ['test_command']);
    const runner = mod('scripts/run-tests.mjs', 'run all', 'process.exit(0)');
    assert.deepEqual(kinds([mod('package.json', pkg({ test: 'node scripts/run-tests.mjs' }), pkg({ test: 'node scripts/run-tests.mjs' })), runner]), ['test_command']);
    assert.deepEqual(kinds([mod('run_tests.sh', 'pytest', 'exit 0')], './run_tests.sh'), ['test_command']);
  });

  test('pytest: pytest.ini, the pyproject/setup.cfg pytest sections (other sections are free), tox.ini, any conftest.py', () => {
    assert.deepEqual(kinds([mod('pytest.ini', '[pytest]\n', '[pytest]\naddopts = -k "not divides"\n')], 'pytest'), ['test_config']);
    const pp = (opts: string, ver: string): string => `[project]\nname = "x"\nversion = "${ver}"\n\n[tool.pytest.ini_options]\n${opts}\n\n[tool.ruff]\nline-length = 100\n`;
    assert.deepEqual(kinds([mod('pyproject.toml', pp('testpaths = ["tests"]', '1'), pp('testpaths = ["tests"]\naddopts = "--deselect tests/test_calc.py::TestCalc::test_divides"', '1'))], 'pytest'), ['test_config']);
    assert.deepEqual(kinds([mod('pyproject.toml', pp('testpaths = ["tests"]', '1'), pp('testpaths = ["tests"]', '2'))], 'pytest'), []);
    assert.deepEqual(kinds([mod('setup.cfg', '[metadata]\nname = x\n', '[metadata]\nname = x\n[tool:pytest]\naddopts = -x\n')], 'pytest'), ['test_config']);
    assert.deepEqual(kinds([{ path: 'tests/conftest.py', status: 'added', after: 'collect_ignore = ["test_calc.py"]\n' }], 'pytest'), ['test_config']);
  });

  test('unittest/go via make: the recipe of the named target and its prerequisites, not other targets', () => {
    const mk = (recipe: string, other = 'go build ./...'): string => `build:\n\t${other}\n\ntest: vet\n\t${recipe}\n\nvet:\n\tgo vet ./...\n`;
    assert.deepEqual(kinds([mod('Makefile', mk('python -m unittest -v'), mk('true'))], 'make test'), ['test_command']);
    assert.deepEqual(kinds([mod('Makefile', mk('go test -v ./...'), mk('go test -v ./... -run TestAdds'))], 'make -C . test'), ['test_command']);
    assert.deepEqual(kinds([mod('Makefile', mk('go test ./...'), mk('go test ./...').replace('go vet ./...', 'true'))], 'make test'), ['test_command']);
    assert.deepEqual(kinds([mod('Makefile', mk('go test ./...'), mk('go test ./...', 'go build -o bin ./...'))], 'make test'), []);
    assert.deepEqual(kinds([mod('Makefile', mk('go test ./...'), mk('go test ./...', 'go build -o bin ./...'))], 'go test ./...'), []);
  });

  test('runner configs and CI files, by name', () => {
    for (const p of ['jest.config.ts', 'vitest.config.mts', 'packages/a/jest.config.js', '.mocharc.yml', 'karma.conf.js', 'tox.ini']) assert.deepEqual(kinds([mod(p, 'a', 'b')]), ['test_config'], p);
    assert.deepEqual(kinds([mod('vite.config.ts', 'export default { test: { include: ["a"] } }', 'export default { test: { include: [] } }')]), ['test_config']);
    assert.deepEqual(kinds([mod('vite.config.ts', 'export default { base: "/" }', 'export default { base: "/x" }')]), []);
    for (const p of ['.github/workflows/ci.yml', '.gitlab-ci.yml', '.circleci/config.yml', 'azure-pipelines.yml', 'Jenkinsfile', '.buildkite/pipeline.yml']) assert.deepEqual(kinds([{ path: p, status: 'added', after: 'x' }]), ['ci_config'], p);
    assert.deepEqual(kinds([mod('go.mod', 'module a\n', 'module a\n\ngo 1.22\n')], 'go test ./...'), []);
  });
});

describe('testDefinitionChanges: existing test cases', () => {
  const cases: [string, string, string, string][] = [
    ['node', 'test/calc.test.js', NODE, 'node --test'],
    ['pytest', 'tests/test_calc.py', PY, 'pytest'],
    ['unittest', 'tests/test_calc.py', PY, 'python -m unittest'],
    ['go', 'calc/calc_test.go', GO, 'go test ./...'],
  ];
  for (const [fw, path, src, cmd] of cases) {
    test(`${fw}: deleting the failing test (its lines, or the file) or marking it skipped needs a human`, () => {
      const lines = src.split('\n');
      const at = lines.findIndex((l) => /divides|Divides/.test(l));
      const removed = [...lines.slice(0, at), ...lines.slice(at + (fw === 'go' ? 5 : fw === 'node' ? 1 : 2))].join('\n');
      const del = testDefinitionChanges([mod(path, src, removed)], cmd);
      assert.deepEqual(del.map((c) => c.kind), ['test_case_changed']);
      assert.match(del[0]?.description ?? '', /divides|Divides/);
      assert.deepEqual(kinds([{ path, status: 'deleted', before: src }], cmd), ['test_file_deleted']);
      const skip = { node: (s: string) => s.replace("test('divides'", "test.skip('divides'"), pytest: (s: string) => s.replace('    def test_divides', '    @pytest.mark.skip\n    def test_divides'),
        unittest: (s: string) => s.replace('    def test_divides', '    @unittest.skip("flaky")\n    def test_divides'), go: (s: string) => s.replace('func TestDivides(t *testing.T) {', 'func TestDivides(t *testing.T) {\n\tt.Skip("flaky")') }[fw];
      // A pure addition of a skip marker: the old lines are all still there, but a marker was added.
      const k = kinds([mod(path, src, skip?.(src) ?? src)], cmd);
      assert.ok(k.includes('skip_added'), `${fw}: ${k.join(',')}`);
    });
  }

  test('near misses: new test files, new cases and comments are welcome', () => {
    assert.deepEqual(kinds([{ path: 'tests/test_new.py', status: 'added', after: 'def test_new():\n    assert True\n' }]), []);
    assert.deepEqual(kinds([mod('tests/test_calc.py', PY, `${PY}\n    def test_halves(self):\n        self.assertEqual(1 / 2, 0.5)\n`)]), []);
    assert.deepEqual(kinds([mod('tests/test_calc.py', PY, `# Calculator tests.\n${PY}`)]), []);
    assert.deepEqual(kinds([mod('calc/calc_test.go', GO, GO.replace('func TestDivides', '// TestDivides checks halves.\nfunc TestDivides'))]), []);
    // Source changes outside tests are the point of the run.
    assert.deepEqual(kinds([mod('src/calc.js', 'export const div = (a, b) => a * b;\n', 'export const div = (a, b) => a / b;\n')]), []);
  });

  test('near misses that are changes: a changed assertion, a removed line, `.only`, `{ skip: true }` in a new file', () => {
    assert.deepEqual(kinds([mod('tests/test_calc.py', PY, PY.replace('self.assertEqual(1 / 2, 1)', 'self.assertEqual(1 / 2, 0.5)'))]), ['test_case_changed']);
    assert.deepEqual(kinds([mod('test/calc.test.js', NODE, NODE.replace("import assert from 'node:assert/strict';\n", ''))]), ['test_case_changed']);
    assert.deepEqual(kinds([mod('test/calc.test.js', NODE, `${NODE}test.only('adds again', () => {});\n`)]), ['skip_added']);
    assert.deepEqual(kinds([{ path: 'test/new.test.js', status: 'added', after: "test('x', { skip: true }, () => {});\n" }]), ['skip_added']);
  });
});
