/**
 * The diff gate: which changed paths need a human's approval before anything is pushed (as a PR
 * or as partial work), and whether the change is over the repository's size policy. Pure over its
 * inputs, so it is tested without git.
 *
 * Risky paths = the repository's `riskyPaths` (config) + {@link BUILT_IN_RISKY}: CI definitions
 * (they run with the repository's secrets on push), git's own configuration files, Dockerfiles, and
 * the package managers' lock files when the task did not ask for a dependency change.
 */
import type { ChangedFileSummary, GateFinding } from '../../workflows/activityTypes.js';

/** A built-in risky-path rule: a test on a repository-relative path, and why it is risky. */
interface BuiltInRule {
  test: (path: string) => boolean;
  why: string;
  /** Only when the task did not ask for a dependency change. */
  unlessDependencyTask?: boolean;
}

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** Lock files of the package managers Nightshift knows. */
export const LOCK_FILES = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'pnpm-lock.yaml',
  'yarn.lock',
  'bun.lockb',
  'bun.lock',
  'poetry.lock',
  'uv.lock',
  'Pipfile.lock',
  'pdm.lock',
  'go.sum',
  'Cargo.lock',
  'Gemfile.lock',
  'composer.lock',
  'gradle.lockfile',
  'packages.lock.json',
]);

/** Paths risky in every repository. */
export const BUILT_IN_RISKY: readonly BuiltInRule[] = [
  { test: (p) => p.startsWith('.github/workflows/') || p.startsWith('.github/actions/'), why: 'GitHub Actions definition (runs with the repository secrets on push)' },
  { test: (p) => p === '.gitlab-ci.yml' || p.startsWith('.gitlab/'), why: 'GitLab CI definition' },
  { test: (p) => p.startsWith('.circleci/') || p.startsWith('.buildkite/') || p === 'azure-pipelines.yml' || p === 'Jenkinsfile' || p === 'bitbucket-pipelines.yml' || p === '.travis.yml', why: 'CI definition' },
  { test: (p) => ['.gitattributes', '.gitmodules'].includes(base(p)) || p === '.github/CODEOWNERS' || p === 'CODEOWNERS', why: 'git or review configuration' },
  { test: (p) => /^(Dockerfile|Containerfile)(\..+)?$/.test(base(p)) || /\.dockerfile$/i.test(p) || /^docker-compose.*\.ya?ml$/.test(base(p)), why: 'container build definition' },
  { test: (p) => LOCK_FILES.has(base(p)), why: 'dependency lock file (the task did not ask for a dependency change)', unlessDependencyTask: true },
];

/** Whether a task's text asks for a dependency change (then lock files are expected to change). */
export function asksForDependencyChange(text: string): boolean {
  return /\b(dependenc(y|ies)|upgrade|bump|downgrade|lock ?file|npm (install|update)|pip install|go get|cargo update|renovate|dependabot)\b/i.test(text);
}

/**
 * Whether `path` matches a configured risky pattern: a directory prefix (`migrations/`), an exact
 * path, or a glob with `*` (one segment) and `**` (any depth).
 */
export function matchesRiskyPattern(path: string, pattern: string): boolean {
  const pat = pattern.replace(/^\.?\//, '');
  if (!pat) return false;
  if (!pat.includes('*')) return pat.endsWith('/') ? path.startsWith(pat) : path === pat || path.startsWith(`${pat}/`);
  const re = pat
    .split('**')
    .map((part) => part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${re}(/.*)?$`).test(path);
}

/** Inputs of {@link gateFindings}. */
export interface GateInput {
  files: ChangedFileSummary[];
  /** The repository's `riskyPaths`. */
  riskyPaths: string[];
  /** `maxChangedFiles` / `maxChangedLines` of the repository (undefined: no limit). */
  maxChangedFiles?: number;
  maxChangedLines?: number;
  /** The task's title and text. */
  taskText: string;
}

/**
 * The gate's findings: every risky path with its rule, and the size findings. An empty list means
 * the change may be pushed without asking.
 */
export function gateFindings(input: GateInput): GateFinding[] {
  const findings: GateFinding[] = [];
  const dependencyTask = asksForDependencyChange(input.taskText);
  for (const f of input.files) {
    const configured = input.riskyPaths.find((p) => matchesRiskyPattern(f.path, p));
    if (configured) {
      findings.push({ kind: 'risky_path', path: f.path, rule: `riskyPaths: ${configured}` });
      continue;
    }
    const builtIn = BUILT_IN_RISKY.find((r) => r.test(f.path) && !(r.unlessDependencyTask && dependencyTask));
    if (builtIn) findings.push({ kind: 'risky_path', path: f.path, rule: builtIn.why });
  }
  const lines = input.files.reduce((s, f) => s + Math.max(0, f.added) + Math.max(0, f.removed), 0);
  if (input.maxChangedFiles !== undefined && input.files.length > input.maxChangedFiles) {
    findings.push({ kind: 'size', rule: `${input.files.length} files changed (limit ${input.maxChangedFiles})` });
  }
  if (input.maxChangedLines !== undefined && lines > input.maxChangedLines) {
    findings.push({ kind: 'size', rule: `${lines} lines changed (limit ${input.maxChangedLines})` });
  }
  return findings;
}
