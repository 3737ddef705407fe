/**
 * Reviewing a change before it is pushed: stage the work tree in the host git directory, list the
 * changed files with their line counts, run the diff gate, find changes to the test definitions,
 * and record the tree object reviewed (delivery pushes exactly that tree or nothing).
 */
import type { ChangeReview, RunPlan } from '../../workflows/activityTypes.js';
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
  const testChanges = testDefinitionChanges(contents, opts.plan.testCommand);
  const lines = files.reduce((s, f) => s + Math.max(0, f.added) + Math.max(0, f.removed), 0);
  return { files, totals: { files: files.length, lines }, findings, testChanges, treeSha };
}
