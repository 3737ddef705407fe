/**
 * Preflight: reads the base commit's test run ("tests before") and tells a broken environment
 * (the command cannot run: a tool, module or package is missing, or it hangs before any test) from
 * failing tests (the agent's job). Pure. The rules: {@link ./preflightRules.ts}.
 */
import type { TestReport } from '../validate/testReport.js';
import type { ValidationResult } from '../../workflows/types.js';
import { commandsNotFound, ecosystemOfCommand, findMissingDependency, firstWord, isToolchain, type Ecosystem } from './preflightRules.js';

/** The verdict on a base commit's test run. */
export interface PreflightVerdict {
  verdict: 'ok' | 'tests_failing' | 'environment_broken';
  /** Id of the rule that decided (`passed`, `tests-failed`, `timeout`, `exit-127`, `node-module-not-found`, …). */
  rule: string;
  /** One line, e.g. "`npm`: command not found (exit 127)". */
  reason: string;
  /** The test command that ran. */
  command: string;
  /** Last lines of its output (as the run kept them). */
  outputTail: string;
  /** What to declare so the environment has what is missing (environment_broken only). */
  hint?: string;
}

/** What {@link classifyPreflight} reads. */
export interface PreflightInput {
  result: ValidationResult;
  report: TestReport;
  /** Paths tracked at the base commit (to tell the repository's own Python modules from missing packages). */
  trackedPaths: string[];
  /** The environment as declared: its setup commands and where it was declared (`config`, `devcontainer`, `default`). */
  declared: { setup: string[]; source: string };
  /** Dependency manifests / lock files of the repository (paths; see isDependencyFile). */
  dependencyFiles: string[];
  /** True when the run was stopped by its time limit. */
  timedOut?: boolean;
}

/**
 * Tests that failed without running: a test file node:test could not load (its "test" is named
 * after the file), pytest collection errors, unittest's `_FailedTest` import failures.
 */
function loadFailures(report: TestReport, output: string): number {
  const files = Object.entries(report.tests).filter(([n, s]) => s === 'failed' && /\.[cm]?[jt]sx?$/.test(n)).length;
  const collect = output.match(/ ERROR collecting \S+ _/g)?.length ?? 0;
  const unittest = output.match(/^ERROR: \S+ \(unittest\.loader\._FailedTest\b/gm)?.length ?? 0;
  return files + collect + unittest;
}

/** The install step a repository's manifests call for, by ecosystem; undefined when none fits. */
export function setupFor(ecosystem: Ecosystem, dependencyFiles: string[]): string | undefined {
  const names = new Set(dependencyFiles.map((p) => p.split('/').pop() ?? p));
  if (ecosystem === 'node') {
    if (names.has('pnpm-lock.yaml')) return 'corepack pnpm install --frozen-lockfile';
    if (names.has('yarn.lock')) return 'corepack yarn install --immutable';
    if (names.has('package-lock.json') || names.has('npm-shrinkwrap.json')) return 'npm ci';
    if (names.has('package.json')) return 'npm install';
  }
  if (ecosystem === 'python') {
    const req = names.has('requirements.txt') ? 'requirements.txt' : [...names].find((n) => /^requirements[\w.-]*\.txt$/.test(n));
    if (req) return `pip install -r ${dependencyFiles.find((p) => p.endsWith(req)) ?? req}`;
    if (names.has('pyproject.toml') || names.has('setup.py')) return 'pip install -e . (or pip install -e ".[test]")';
  }
  if (ecosystem === 'go' && names.has('go.mod')) return 'go mod download';
  return undefined;
}

const WHERE = 'declare it as repos.<name>.environment.setup in the Nightshift config, or as a postCreateCommand in .devcontainer/devcontainer.json';

/** The hint of a broken environment: what to declare, given what is missing. */
function hintFor(ecosystem: Ecosystem, missing: string, kind: 'command' | 'package', input: PreflightInput): string {
  const ran = input.declared.setup.length > 0 ? ` The declared setup (${input.declared.source}: ${input.declared.setup.join('; ')}) ran and did not provide it.` : '';
  const step = setupFor(ecosystem, input.dependencyFiles);
  if (kind === 'command' && (isToolchain(missing) || !step)) {
    return `\`${missing}\` is not in the environment's image: use a base image that has it (repos.<name>.environment.image or environment.dockerfile, or image / build.dockerfile in .devcontainer/devcontainer.json).${ran}`;
  }
  if (step) return `Install the dependencies before the tests: setup: [${step}] — ${WHERE}.${ran}`;
  if (ecosystem === 'python') return `Install it before the tests, e.g. setup: [pip install ${missing}] (the package that provides the module) — ${WHERE}.${ran}`;
  if (ecosystem === 'node') return `Install it before the tests, e.g. setup: [npm install ${missing}] — ${WHERE}.${ran}`;
  return `Declare what provides \`${missing}\`: a setup command, or a base image that has it — ${WHERE}.${ran}`;
}

/**
 * Classifies the base commit's test run. In order:
 * 1. exit 0 and passed → `ok`;
 * 2. recognised tests ran (beyond files that failed to load) and some failed → `tests_failing`,
 *    even when a failure mentions a missing module;
 * 3. timed out before any test was recognised → `environment_broken` (`timeout`);
 * 4. exit 126 / 127, or the shell's "not found" for the command's first word → `environment_broken`;
 * 5. no test ran and the output shows a missing dependency (a rule of DEPENDENCY_RULES that is not
 *    a near miss: a relative import, a module of the repository) → `environment_broken`;
 * 6. otherwise → `tests_failing` (`no-environment-signal`).
 */
export function classifyPreflight(input: PreflightInput): PreflightVerdict {
  const { result, report } = input;
  const output = result.outputTail;
  const base = { command: result.command, outputTail: output };
  const broken = (rule: string, reason: string, hint: string): PreflightVerdict => ({ verdict: 'environment_broken', rule, reason, hint, ...base });
  const failing = (rule: string, reason: string): PreflightVerdict => ({ verdict: 'tests_failing', rule, reason, ...base });

  if (result.passed && result.exitCode === 0 && !input.timedOut) return { verdict: 'ok', rule: 'passed', reason: 'the tests pass', ...base };
  const ranTests = report.counts.passed + report.counts.failed - loadFailures(report, output);
  if (report.frameworks.length > 0 && ranTests > 0 && report.counts.failed > 0) {
    return failing('tests-failed', `${report.counts.failed} of ${report.counts.total} tests fail`);
  }
  const recognised = report.frameworks.length > 0 && report.counts.total > 0;
  if (input.timedOut && !recognised) {
    const step = setupFor(ecosystemOfCommand(firstWord(result.command)), input.dependencyFiles);
    const install = step ? ` If it downloads dependencies, install them first: setup: [${step}] — ${WHERE}.` : ` Install what it needs beforehand — ${WHERE} — or use a base image that has it (environment.image / dockerfile).`;
    return broken('timeout', 'the test command timed out before any test was recognised', `The tests never started: something they need is missing or waiting (a download with no network, a service, a prompt).${install}`);
  }
  const notFound = commandsNotFound(output);
  const first = firstWord(result.command);
  if (result.exitCode === 127 || result.exitCode === 126) {
    const cmd = notFound[0] ?? first;
    const why = result.exitCode === 127 ? 'command not found' : 'command cannot be executed (permission denied or not a program)';
    return broken(`exit-${result.exitCode}`, `\`${cmd}\`: ${why} (exit ${result.exitCode})`, hintFor(ecosystemOfCommand(cmd), cmd, 'command', input));
  }
  if (first && notFound.includes(first)) {
    return broken('command-not-found', `\`${first}\`: command not found (exit ${result.exitCode})`, hintFor(ecosystemOfCommand(first), first, 'command', input));
  }
  if (input.timedOut) return failing('timeout-after-tests', 'the test command timed out after tests had started');
  if (ranTests <= 0) {
    const dep = findMissingDependency(output, { trackedPaths: input.trackedPaths });
    if (dep) {
      const what = dep.rule.ecosystem === 'python' ? 'Python module' : dep.rule.ecosystem === 'go' ? 'Go dependency' : 'Node package';
      return broken(dep.rule.id, `missing ${what} \`${dep.missing}\` (exit ${result.exitCode})`, hintFor(dep.rule.ecosystem, dep.missing, 'package', input));
    }
  }
  return failing('no-environment-signal', `the tests fail (exit ${result.exitCode}) and nothing in the output shows a missing tool or dependency`);
}
