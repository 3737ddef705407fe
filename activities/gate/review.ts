/**
 * Reviewing a change before it is pushed: stage the work tree in the host git directory, list the
 * changed files with their line counts, run the diff gate, find changes to the test definitions,
 * and record the tree object reviewed (delivery pushes exactly that tree or nothing).
 */
import type { ChangeReview, RunPlan, TestDefinitionChange } from '../../workflows/activityTypes.js';
import { changedFiles, fileAt, hostGit, type RepoPaths } from '../git.js';
import { testDefinitionChanges } from '../validate/testChanges.js';
import { gateFindings } from './diffGate.js';

/**
 * Reviews the work tree's change since `baseSha`.
 * @throws NightshiftError GIT_FAILED when git cannot read the repository
 */
export async function reviewChanges(repo: RepoPaths, opts: { baseSha: string; plan: RunPlan; taskText: string }): Promise<ChangeReview> {
  const files = await changedFiles(repo, opts.baseSha);
  const treeSha = (await hostGit(repo, ['write-tree'])).stdout.trim();
  const findings = gateFindings({
    files,
    riskyPaths: opts.plan.riskyPaths,
    maxChangedFiles: opts.plan.maxChangedFiles,
    maxChangedLines: opts.plan.maxChangedLines,
    taskText: opts.taskText,
  });
  // Contents of the changed files at the base commit and as staged (the index, never the work
  // tree's files themselves: what git will commit is what is judged).
  const contents = await Promise.all(
    files.map(async (f) => ({
      path: f.path,
      status: f.status === 'added' ? ('added' as const) : f.status === 'deleted' ? ('deleted' as const) : ('modified' as const),
      before: f.status === 'added' ? undefined : await fileAt(repo, opts.baseSha, f.path),
      after: f.status === 'deleted' ? undefined : await fileAt(repo, '', f.path),
    })),
  );
  const testChanges = [...testDefinitionChanges(contents, opts.plan.testCommand), ...runnerShadowing(contents, opts.plan.testCommand)];
  const lines = files.reduce((s, f) => s + Math.max(0, f.added) + Math.max(0, f.removed), 0);
  return { files, totals: { files: files.length, lines }, findings, testChanges, treeSha };
}

/** Modules Python loads at start-up from the first entry of `sys.path` when they exist. */
const PYTHON_STARTUP_MODULES = ['sitecustomize', 'usercustomize'];

/**
 * The modules a test command runs, by name: `python -m <mod>` → `<mod>`, and the runner itself
 * (`pytest`, `nose2`, …) → its module. Exported for tests.
 */
export function runnerModules(testCommand: string): string[] {
  const words = testCommand.split(/\s+|&&|\|\||;/).filter(Boolean);
  const mods = new Set<string>(PYTHON_STARTUP_MODULES);
  words.forEach((w, i) => {
    if (w === '-m' && words[i + 1]) mods.add(words[i + 1]!.split('.')[0]!);
    const base = w.slice(w.lastIndexOf('/') + 1);
    if (/^(pytest|py\.test|nose2?|tox|nox|unittest)$/.test(base)) mods.add(base === 'py.test' ? 'pytest' : base);
  });
  return [...mods];
}

/**
 * Changes that can replace the test runner itself rather than the tests: a top-level module or
 * package named like the runner the test command starts (`python -m unittest` runs `./unittest/`
 * first: the working directory leads `sys.path`), Python's start-up hooks, and vendored
 * dependencies (`node_modules/`, `vendor/`) the runner loads. Each is a change to what "passing"
 * means.
 */
export function runnerShadowing(files: Array<{ path: string; status: string }>, testCommand: string): TestDefinitionChange[] {
  const mods = new Set(runnerModules(testCommand));
  const out: TestDefinitionChange[] = [];
  for (const f of files) {
    if (f.status === 'deleted') continue;
    const top = f.path.split('/')[0] ?? '';
    const mod = top.replace(/\.(py|pyc|so)$/, '');
    if (mods.has(mod) && (f.path.includes('/') || /\.(py|pyc|so)$/.test(top))) {
      out.push({ path: f.path, kind: 'test_runner_shadowed', description: `${f.path}: a module named like the test runner's "${mod}" (it would run instead of the real one)` });
    } else if (top === 'node_modules' || top === 'vendor' || f.path.endsWith('.pth')) {
      out.push({ path: f.path, kind: 'test_runner_shadowed', description: `${f.path}: vendored code the test runner loads` });
    }
  }
  return out;
}
