/**
 * The fault matrix's shared part: what a row observed after a fault ({@link FaultRow}), the check
 * of the five invariants every row must hold ({@link assertRow}), the row's record (one JSON line
 * appended to `$NIGHTSHIFT_FAULT_TABLE`, else to `<tmpdir>/nightshift-fault-table.jsonl`), and
 * the Markdown table of rows ({@link renderTable}), which each fault test prints in its `after`
 * hook and `scripts/fault-table.mjs` prints for the whole matrix.
 *
 * The invariants (issue 11): exactly one final message at the origin; no duplicate PR or comment;
 * no container left; nothing lost (the PR branch, the WIP branch or the kept workspace holds the
 * agent's work); spend recorded (the ledger's spend of the run equals the run's own account).
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { run } from '../../activities/exec.js';
import { RUN_LABEL } from '../../activities/sandbox.js';
import { openLedger } from '../../ledger/open.js';
import type { RunOutcome } from '../../workflows/types.js';

/** One row of the matrix: a fault, where it struck, and what the run did about it. */
export interface FaultRow {
  /** The fault, e.g. `model 429 retry-after 1 s`. */
  fault: string;
  /** The run's phase when the fault struck (`scope`, `prepare`, `tests before`, `agent`, `validation`, `delivery`, `notify`). */
  phase: string;
  /** The run's outcome kind, or `awaiting_human` for an escalation that waits for a reply. */
  outcome: string;
  /** Final messages posted at the origin (Linear comments on the issue, Slack thread replies). */
  finalMessages: number;
  /** Pull requests opened. */
  prs: number;
  /** Comments or messages posted twice with the same text (at the origin and on the PR). */
  duplicates: number;
  /** Containers left with the run's label. */
  containersLeft: number;
  /** Where the agent's work is: `PR branch <b>`, `WIP branch <b>`, `workspace <path>`, or `-` (the fault struck before any change). */
  workKept: string;
  /** USD recorded in the ledger for the run; undefined when the ledger has no row. */
  spendUsd: number | undefined;
  /** USD the run itself accounted (the outcome's spend or the status query's). */
  runSpendUsd: number;
  /** Seconds from the run's start to the observation. */
  seconds: number;
}

/** What {@link observeRun} needs to see of a stack. */
export interface Observed {
  workflowId: string;
  /** The run's outcome, or the status of a run that waits for a human. */
  outcome: Pick<RunOutcome, 'kind' | 'spend' | 'branch' | 'wipBranch'> | { kind: 'awaiting_human'; spend: { usd: number }; wipBranch?: string; branch?: undefined };
  /** Messages at the origin (their texts), in order. */
  originMessages: string[];
  /** Comments on the PRs (their texts). */
  prComments: string[];
  prs: number;
  /** Bare repository backing the GitHub stand-in. */
  bareRepo: string;
  /** The state directory of the worker (ledger, workspaces). */
  stateDir: string;
  /** A file and a pattern that prove the agent's change (e.g. `calc.py`, /return a \+ b/); undefined when none was made. */
  work?: { path: string; pattern: RegExp };
  startedAt: number;
}

/** Counts duplicated texts in a list. */
function duplicates(texts: string[]): number {
  const seen = new Set<string>();
  let n = 0;
  for (const t of texts) {
    if (seen.has(t)) n++;
    seen.add(t);
  }
  return n;
}

/** Finds where the agent's work is: a branch of the remote, else a kept workspace under the state directory. */
async function findWork(o: Observed): Promise<string> {
  if (!o.work) return '-';
  const work = o.work;
  const branches = [o.outcome.branch, o.outcome.wipBranch].filter((b): b is string => Boolean(b));
  const { stdout } = await run('git', ['-C', o.bareRepo, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/nightshift']);
  for (const b of [...branches, ...stdout.split('\n').filter(Boolean)]) {
    const shown = await run('git', ['-C', o.bareRepo, 'show', `${b}:${work.path}`]).catch(() => undefined);
    if (shown && work.pattern.test(shown.stdout)) return `${b === o.outcome.branch ? 'PR' : 'WIP'} branch ${b}`;
  }
  const root = join(o.stateDir, 'workspaces');
  const { stdout: found } = await run('find', [root, '-maxdepth', '3', '-name', work.path.split('/').pop()!, '-type', 'f']).catch(() => ({ stdout: '' }));
  for (const f of found.split('\n').filter(Boolean)) {
    if (work.pattern.test(readFileSync(f, 'utf8'))) return `workspace ${f.slice(0, -work.path.length - 1)}`;
  }
  return 'LOST';
}

/** Builds the row of an observed run: counts containers, finds the work, reads the ledger. */
export async function observeRun(fault: string, phase: string, o: Observed): Promise<FaultRow> {
  const containers = await new Docker().listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${o.workflowId}`] } });
  const ledger = await openLedger({ stateDir: o.stateDir });
  let spendUsd: number | undefined;
  try {
    spendUsd = (await ledger.getRun(o.workflowId))?.run.spend.usd;
  } finally {
    await ledger.close();
  }
  return {
    fault,
    phase,
    outcome: o.outcome.kind,
    finalMessages: o.originMessages.length,
    prs: o.prs,
    duplicates: duplicates(o.originMessages) + duplicates(o.prComments),
    containersLeft: containers.length,
    workKept: await findWork(o),
    spendUsd,
    runSpendUsd: o.outcome.spend.usd,
    seconds: Math.round((Date.now() - o.startedAt) / 1000),
  };
}

/** Where rows are appended: `$NIGHTSHIFT_FAULT_TABLE`, else a file in the temp directory. */
export function tablePath(): string {
  return process.env.NIGHTSHIFT_FAULT_TABLE ?? join(tmpdir(), 'nightshift-fault-table.jsonl');
}

/**
 * Checks the five invariants of a row (throws an AssertionError naming the broken one), then
 * records the row (also when one is broken, marked `held: false`) and returns it.
 * `expected.outcome` is the outcome the row must end in (`pr_opened`, `awaiting_human`, ...).
 */
export function assertRow(row: FaultRow, expected: { outcome: string | string[]; prs?: number }, rows?: FaultRow[]): FaultRow {
  const record = (held: boolean): void => {
    rows?.push(row);
    appendFileSync(tablePath(), `${JSON.stringify({ ...row, held })}\n`);
  };
  try {
    const outcomes = Array.isArray(expected.outcome) ? expected.outcome : [expected.outcome];
    assert.ok(outcomes.includes(row.outcome), `${row.fault}: outcome ${row.outcome}, expected ${outcomes.join(' or ')}`);
    assert.equal(row.finalMessages, 1, `${row.fault}: exactly one final message at the origin`);
    assert.ok(row.prs <= 1, `${row.fault}: no duplicate PR (${row.prs})`);
    if (expected.prs !== undefined) assert.equal(row.prs, expected.prs, `${row.fault}: PRs`);
    assert.equal(row.duplicates, 0, `${row.fault}: no comment posted twice`);
    assert.equal(row.containersLeft, 0, `${row.fault}: no container left`);
    assert.notEqual(row.workKept, 'LOST', `${row.fault}: the agent's work is on a branch or in a kept workspace`);
    assert.ok(row.spendUsd !== undefined, `${row.fault}: the ledger has the run`);
    assert.ok(Math.abs(row.spendUsd - row.runSpendUsd) < 1e-9, `${row.fault}: ledger spend ${row.spendUsd} = run spend ${row.runSpendUsd}`);
  } catch (err) {
    record(false);
    throw err;
  }
  record(true);
  return row;
}

/** Renders rows as a Markdown table (fault × outcome and the invariants). */
export function renderTable(rows: Array<FaultRow & { held?: boolean }>): string {
  const head = '| fault | phase | outcome | final msgs | PRs | dup. | containers left | work kept | spend (ledger) | s | holds |';
  const sep = '|---|---|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map((r) =>
    [
      r.fault,
      r.phase,
      r.outcome,
      r.finalMessages,
      r.prs,
      r.duplicates,
      r.containersLeft,
      r.workKept.replace(/\s\/\S*\/workspaces\/\S*/, ' workspace (kept)'),
      r.spendUsd === undefined ? 'none' : `$${r.spendUsd.toFixed(4)}`,
      r.seconds,
      r.held === false ? 'NO' : 'yes',
    ].join(' | '),
  );
  return [head, sep, ...lines.map((l) => `| ${l} |`)].join('\n');
}

/** Reads the rows recorded at `path` (JSON lines). */
export function readRows(path = tablePath()): Array<FaultRow & { held: boolean }> {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as FaultRow & { held: boolean });
}
