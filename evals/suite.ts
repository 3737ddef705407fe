/**
 * Eval suites: a folder of tasks laid out like Harbor / Terminal-Bench tasks, so suites can be
 * shared (https://harborframework.com/docs/tasks, https://www.tbench.ai/docs/task-overview):
 *
 * ```
 * <suite>/<task>/instruction.md   the task text given to the agent (its first heading is the title)
 * <suite>/<task>/task.toml        [metadata] language; [repo] path | bundle + commit, test_command;
 *                                 [agent] timeout_sec; [verifier] command, hidden_dir, timeout_sec
 * <suite>/<task>/repo/            the repository snapshot (or a git bundle named by [repo].bundle)
 * <suite>/<task>/tests/           hidden tests, copied to [verifier].hidden_dir after the agent finished
 * <suite>/<task>/judge.md         notes for the judge: what a good implementation looks like
 * ```
 * A sub-folder without task.toml (e.g. `variants/`) is not a task. Unknown TOML keys are kept
 * out of the way (Harbor's [environment] and others are accepted and ignored).
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { EvalError } from './errors.js';

const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a relative path inside the task folder');

/** The parts of task.toml the harness reads (TOML: https://toml.io/en/v1.0.0). */
export const taskTomlSchema = z.looseObject({
  version: z.string().optional(),
  metadata: z.looseObject({ language: z.string().min(1), difficulty: z.string().optional(), tags: z.array(z.string()).optional() }),
  repo: z
    .strictObject({
      /** A directory holding the snapshot (committed as one commit on `main`). */
      path: relPath.optional(),
      /** A git bundle (`git bundle create`), checked out at `commit`. */
      bundle: relPath.optional(),
      commit: z.string().regex(/^[0-9a-f]{7,40}$/, 'a commit id (hex)').optional(),
      /** The repository's own test command (`sh -c`): Nightshift's validation runs it. */
      test_command: z.string().min(1),
    })
    .refine((r) => (r.path === undefined) !== (r.bundle === undefined), 'give exactly one of `path` or `bundle`')
    .refine((r) => r.bundle === undefined || r.commit !== undefined, '`bundle` needs `commit`'),
  agent: z.looseObject({ timeout_sec: z.number().positive().optional() }).optional(),
  verifier: z.looseObject({
    /** The hidden test command (`sh -c`, from the repository root, in a sandbox without network). */
    command: z.string().min(1),
    /** Where tests/ is copied in the work tree. */
    hidden_dir: relPath.default('hidden_tests'),
    timeout_sec: z.number().positive().default(300),
  }),
});

/** Where a task's repository comes from. */
export type RepoSnapshot = { kind: 'dir'; path: string } | { kind: 'bundle'; path: string; commit: string };

/** One task of a suite, paths absolute. */
export interface EvalTask {
  /** The folder name; also the repository's name in the eval's configuration. */
  name: string;
  dir: string;
  /** First Markdown heading of instruction.md (else its first line). */
  title: string;
  /** instruction.md, whole. */
  instruction: string;
  /** judge.md, whole ('' when absent). */
  judgeNotes: string;
  language: string;
  repo: RepoSnapshot;
  testCommand: string;
  /** Agent wall-clock limit from [agent].timeout_sec, ms. */
  agentTimeoutMs?: number;
  /** The hidden tests: the `tests/` folder (absent: none), where they go, how they run. */
  hidden: { testsDir?: string; hiddenDir: string; command: string; timeoutMs: number };
}

/** A loaded suite. */
export interface EvalSuite {
  dir: string;
  tasks: EvalTask[];
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

function titleOf(instruction: string, fallback: string): string {
  const heading = /^#\s+(.+)$/m.exec(instruction)?.[1];
  return (heading ?? instruction.split('\n').find((l) => l.trim()) ?? fallback).trim().slice(0, 120);
}

/**
 * Loads one task folder.
 * @throws EvalError SUITE_INVALID naming the file and the bad key.
 */
export async function loadTask(dir: string): Promise<EvalTask> {
  const name = dir.split('/').filter(Boolean).at(-1) ?? dir;
  const tomlPath = join(dir, 'task.toml');
  let raw: unknown;
  try {
    raw = parseToml(await readFile(tomlPath, 'utf8'));
  } catch (err) {
    const why = err instanceof TomlError ? `line ${err.line}, column ${err.column}` : 'unreadable';
    throw new EvalError('SUITE_INVALID', `${tomlPath}: not valid TOML (${why})`, { task: name }, { cause: err });
  }
  const parsed = taskTomlSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new EvalError('SUITE_INVALID', `${tomlPath}:\n  ${issues.join('\n  ')}`, { task: name, issues });
  }
  const t = parsed.data;
  const instructionPath = join(dir, 'instruction.md');
  if (!(await exists(instructionPath))) throw new EvalError('SUITE_INVALID', `${instructionPath}: missing`, { task: name });
  const instruction = await readFile(instructionPath, 'utf8');
  if (!instruction.trim()) throw new EvalError('SUITE_INVALID', `${instructionPath}: empty`, { task: name });
  const judgePath = join(dir, 'judge.md');
  const judgeNotes = (await exists(judgePath)) ? await readFile(judgePath, 'utf8') : '';
  const repo: RepoSnapshot = t.repo.path !== undefined ? { kind: 'dir', path: join(dir, t.repo.path) } : { kind: 'bundle', path: join(dir, t.repo.bundle ?? ''), commit: t.repo.commit ?? '' };
  if (!(await exists(repo.path))) throw new EvalError('SUITE_INVALID', `${tomlPath}: repo snapshot ${repo.path} does not exist`, { task: name });
  const testsDir = join(dir, 'tests');
  // Suites are shared: a snapshot or tests folder that is a link out of the task folder would copy
  // the operator's files into the agent's repository or sandbox.
  const inside = await realpath(dir);
  for (const p of [repo.path, ...((await exists(testsDir)) ? [testsDir] : [])]) {
    const real = await realpath(p);
    if (real !== inside && !real.startsWith(inside + sep)) throw new EvalError('SUITE_INVALID', `${tomlPath}: ${p} leads out of the task folder (to ${real})`, { task: name });
  }
  return {
    name,
    dir,
    title: titleOf(instruction, name),
    instruction,
    judgeNotes,
    language: t.metadata.language,
    repo,
    testCommand: t.repo.test_command,
    ...(t.agent?.timeout_sec ? { agentTimeoutMs: t.agent.timeout_sec * 1000 } : {}),
    hidden: { ...((await exists(testsDir)) ? { testsDir } : {}), hiddenDir: t.verifier.hidden_dir, command: t.verifier.command, timeoutMs: t.verifier.timeout_sec * 1000 },
  };
}

/**
 * Loads a suite: every sub-folder holding a task.toml, sorted by name; `only` keeps the named ones.
 * @throws EvalError SUITE_INVALID when the folder has no task, a task is malformed, or `only` names an unknown task.
 */
export async function loadSuite(dir: string, only?: string[]): Promise<EvalSuite> {
  const root = resolve(dir);
  let entries: string[];
  try {
    entries = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (err) {
    throw new EvalError('SUITE_INVALID', `${root}: not a readable folder`, {}, { cause: err });
  }
  const names: string[] = [];
  for (const e of entries) if (await exists(join(root, e, 'task.toml'))) names.push(e);
  const unknown = (only ?? []).filter((n) => !names.includes(n));
  if (unknown.length) throw new EvalError('SUITE_INVALID', `no task named ${unknown.join(', ')} in ${root} (tasks: ${names.join(', ')})`);
  const chosen = only?.length ? names.filter((n) => only.includes(n)) : names;
  if (chosen.length === 0) throw new EvalError('SUITE_INVALID', `${root}: no task folder (a folder with task.toml)`);
  const tasks: EvalTask[] = [];
  for (const n of chosen) tasks.push(await loadTask(join(root, n)));
  return { dir: root, tasks };
}
