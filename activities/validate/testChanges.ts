/**
 * Changes to what "passing" means, found in a change's files: the test command's definition
 * (package.json scripts, pytest/tox settings, conftest.py, the Makefile target, runner configs,
 * scripts the command names), existing test cases (a test file deleted or with a line removed or
 * changed; pure additions are welcome), skip/only markers added anywhere, and CI configuration.
 * Pure: the caller reads the contents with git.
 */
import { commandScripts, makeTargets, makeRecipe, pathTokens, scriptReferences, section } from './testDefs.js';

/** One changed file, as the caller read it at the base commit (`before`) and in the change (`after`). */
export interface ChangedFileContent {
  path: string;
  status: 'added' | 'modified' | 'deleted';
  before?: string | undefined;
  after?: string | undefined;
}

/**
 * - `test_command`: the test command's definition (a package.json script it runs, a Makefile
 *   target, a file the command or its scripts run).
 * - `test_config`: runner configuration (pytest.ini, pyproject/setup.cfg pytest sections, tox.ini,
 *   conftest.py, jest/vitest/mocha/karma/playwright configs, package.json `jest`/`mocha`/`ava`).
 * - `test_file_deleted`, `test_case_changed`: an existing test file deleted, or a line of it removed/changed.
 * - `skip_added`: more skip/only markers than before in a source file.
 * - `ci_config`: CI pipeline definitions.
 */
export type TestChangeKind = 'test_command' | 'test_config' | 'test_file_deleted' | 'test_case_changed' | 'skip_added' | 'ci_config';

/** A change that needs a human. `description` is one line, e.g. `package.json: scripts.test changed from "node --test" to "node -e 0"`. */
export interface TestChange {
  path: string;
  kind: TestChangeKind;
  description: string;
}

const CI = [/^\.github\/workflows\//, /^\.github\/actions\//, /^\.gitlab-ci\.ya?ml$/, /^\.circleci\//, /^azure-pipelines\.ya?ml$/, /(^|\/)Jenkinsfile$/, /^\.buildkite\//, /^\.travis\.ya?ml$/, /^bitbucket-pipelines\.ya?ml$/];
const RUNNER_CONFIG = /(^|\/)(pytest\.ini|tox\.ini|conftest\.py|noxfile\.py|(jest|vitest|vitest\.workspace|playwright|ava|cypress)\.config\.[cm]?[jt]s(on)?|vitest\.workspace\.[cm]?[jt]s(on)?|\.mocharc(\.[a-z]+)?|karma\.conf(\.[cm]?[jt]s)?)$/;
const TEST_FILE = /(^|\/)(test_[^/]*\.py|[^/]*_test\.py|[^/]*_test\.go|[^/]*\.(test|spec)\.[cm]?[jt]sx?)$|(^|\/)(tests?|__tests__)\//;
const SOURCE = /\.(py|go|[cm]?[jt]sx?)$/;
const SKIP_MARKERS = /@unittest\.skip\w*|@pytest\.mark\.(skip\w*|xfail)|\bpytest\.(skip|xfail)\(|\.skipTest\(|\bSkipTest\(|\bt\.Skip(f|Now)?\(|\b(it|test|describe|suite|context)\.(skip|only|todo)\b|\b(xit|xtest|xdescribe|fit|fdescribe)\(|\bskip\s*:\s*(true|['"`])|\btodo\s*:\s*(true|['"`])|\bt\.skip\(/g;

const quote = (s: string | undefined): string => (s === undefined ? 'absent' : JSON.stringify(s.length > 120 ? `${s.slice(0, 117)}...` : s));

/**
 * The test-definition changes in `files` that need a human, for the repository's `testCommand`
 * (e.g. `npm test`, `make test`, `python -m pytest`). Never throws (unparsable JSON is itself reported).
 */
export function testDefinitionChanges(files: ChangedFileContent[], testCommand: string): TestChange[] {
  const out: TestChange[] = [];
  const push = (path: string, kind: TestChangeKind, description: string): void => void out.push({ path, kind, description: `${path}: ${description}` });
  // Files the command (or a script it runs) names are part of the definition.
  const named = new Set(pathTokens(testCommand));
  for (const f of files) {
    const base = f.path.split('/').pop() ?? f.path;
    if (base === 'package.json') for (const p of packageJsonChanges(f, testCommand, push)) named.add(p);
  }
  for (const f of files) {
    const path = f.path.replace(/^\.\//, '');
    const base = path.split('/').pop() ?? path;
    const what = f.status === 'added' ? 'added' : f.status === 'deleted' ? 'deleted' : 'changed';
    if (CI.some((re) => re.test(path))) push(path, 'ci_config', `CI configuration ${what}`);
    if (named.has(path)) push(path, 'test_command', `run by the test command; ${what}`);
    if (RUNNER_CONFIG.test(path)) push(path, 'test_config', `test runner configuration ${what}`);
    else if (/^vite\.config\.[cm]?[jt]s$/.test(base) && /\btest\s*:/.test(`${f.before ?? ''}\n${f.after ?? ''}`)) push(path, 'test_config', `vite config with vitest settings ${what}`);
    else if (base === 'pyproject.toml') diffSection(f, /^\[tool\.pytest(\.ini_options)?\]/, 'pytest settings ([tool.pytest.ini_options])', push);
    else if (base === 'setup.cfg') diffSection(f, /^\[tool:pytest\]/, 'pytest settings ([tool:pytest])', push);
    else if (/^(GNUmakefile|[Mm]akefile)$/.test(base)) makefileChanges(f, testCommand, push);
    if (TEST_FILE.test(path)) testFileChange(f, push);
    if (SOURCE.test(path)) {
      const n = (s?: string): number => (s ? [...s.matchAll(SKIP_MARKERS)].length : 0);
      const added = n(f.after) - n(f.before);
      if (added > 0) push(path, 'skip_added', `${added} skip/only marker(s) added (${[...new Set([...(f.after ?? '').matchAll(SKIP_MARKERS)].map((m) => m[0]))].slice(0, 3).join(', ')})`);
    }
  }
  return out;
}

function packageJsonChanges(f: ChangedFileContent, testCommand: string, push: (p: string, k: TestChangeKind, d: string) => void): string[] {
  const parse = (s?: string): Record<string, unknown> | null | undefined => {
    if (s === undefined) return undefined;
    try {
      const v: unknown = JSON.parse(s);
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };
  const b = parse(f.before);
  const a = parse(f.after);
  const path = f.path.replace(/^\.\//, '');
  if (b === null || a === null) {
    push(path, 'test_command', 'could not be parsed as JSON; its test scripts cannot be checked');
    return [];
  }
  const scripts = (o?: Record<string, unknown>): Record<string, string> => {
    const s = o?.scripts;
    return s && typeof s === 'object' ? Object.fromEntries(Object.entries(s).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};
  };
  const sb = scripts(b);
  const sa = scripts(a);
  // Scripts that run as part of the test command: the ones it names, what they name in turn, pre/post hooks.
  const todo = ['test', ...commandScripts(testCommand)];
  const seen = new Set<string>();
  while (todo.length > 0) {
    const name = todo.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    for (const s of [sb[name], sa[name]]) if (s) todo.push(...scriptReferences(s));
    if (!/^(pre|post)/.test(name)) todo.push(`pre${name}`, `post${name}`);
  }
  const paths: string[] = [];
  const dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
  for (const name of [...seen].sort()) {
    if (sb[name] !== sa[name]) push(path, 'test_command', `scripts.${name} ${sb[name] === undefined ? 'added' : sa[name] === undefined ? 'removed' : 'changed'} from ${quote(sb[name])} to ${quote(sa[name])}`);
    for (const s of [sb[name], sa[name]]) if (s) paths.push(...pathTokens(s).map((p) => dir + p));
  }
  for (const key of ['jest', 'mocha', 'ava', 'vitest']) {
    const x = JSON.stringify(b?.[key]);
    const y = JSON.stringify(a?.[key]);
    if (x !== y) push(path, 'test_config', `"${key}" configuration changed from ${quote(x)} to ${quote(y)}`);
  }
  return paths;
}

function diffSection(f: ChangedFileContent, header: RegExp, label: string, push: (p: string, k: TestChangeKind, d: string) => void): void {
  const b = section(f.before ?? '', header);
  const a = section(f.after ?? '', header);
  if (b !== a) push(f.path, 'test_config', `${label} ${b === undefined ? 'added' : a === undefined ? 'removed' : 'changed'}`);
}

function makefileChanges(f: ChangedFileContent, testCommand: string, push: (p: string, k: TestChangeKind, d: string) => void): void {
  const targets = makeTargets(testCommand);
  if (targets === undefined) return; // the test command does not run make
  if (targets.length === 0) {
    if (f.before !== f.after) push(f.path, 'test_command', 'changed, and the test command runs its default target');
    return;
  }
  for (const t of targets) {
    const b = makeRecipe(f.before ?? '', t);
    const a = makeRecipe(f.after ?? '', t);
    if (b !== a) push(f.path, 'test_command', `target "${t}" ${b === undefined ? 'added' : a === undefined ? 'removed' : 'changed'}`);
  }
}

function testFileChange(f: ChangedFileContent, push: (p: string, k: TestChangeKind, d: string) => void): void {
  if (f.status === 'deleted') return push(f.path, 'test_file_deleted', 'existing test file deleted');
  if (f.status !== 'modified' || f.before === undefined) return;
  const b = f.before.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  const a = (f.after ?? '').split('\n').map((l) => l.trimEnd());
  // Pure additions keep the old lines as a subsequence of the new ones.
  let j = 0;
  for (let i = 0; i < b.length; i++) {
    while (j < a.length && a[j] !== b[i]) j++;
    if (j >= a.length) return push(f.path, 'test_case_changed', `existing lines removed or changed (first: ${quote(b[i]?.trim())})`);
    j++;
  }
}
