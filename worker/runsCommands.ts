/**
 * `nightshift runs …`: the run ledger from a terminal (no Temporal needed: the ledger outlives
 * workflow histories).
 *
 *   nightshift runs list [--repo R] [--team T] [--status S] [--since 24h|7d|ISO] [--limit N] [--json]
 *   nightshift runs show ID [--full] [--json]       the run, its attempts, validations and trace
 *   nightshift runs search TEXT [--limit N] [--json] full text over commands, errors and messages
 *
 * Exit codes: 0 done; 1 unknown run (show) or bad arguments.
 */
import { Command, InvalidArgumentError } from 'commander';
import { openLedger } from '../ledger/open.js';
import { LEDGER_RUN_STATUSES, type Ledger, type LedgerRunStatus, type RunDetail, type RunRow, type SearchHit, type TraceEventRow } from '../ledger/types.js';
import type { Config } from './config.js';
import { printable } from './envCommands.js';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * `--since` as Unix ms: a duration back from `now` (`30m`, `24h`, `7d`, `2w`) or an ISO 8601 date.
 * @throws InvalidArgumentError for anything else
 */
export function parseSince(value: string, now = Date.now()): number {
  const m = /^(\d+(?:\.\d+)?)([mhdw])$/.exec(value.trim());
  if (m) return now - Number(m[1]) * (UNITS[m[2]!] ?? 0);
  const t = Date.parse(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && Number.isFinite(t)) return t;
  throw new InvalidArgumentError('expected a duration (30m, 24h, 7d, 2w) or an ISO date');
}

function parseStatus(value: string): LedgerRunStatus[] {
  const all = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of all) {
    if (!(LEDGER_RUN_STATUSES as readonly string[]).includes(s)) throw new InvalidArgumentError(`expected one of ${LEDGER_RUN_STATUSES.join(', ')}`);
  }
  return all as LedgerRunStatus[];
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

const time = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));
const usd = (n: number): string => `$${n.toFixed(4)}`;
const oneLine = (s: string, max = 160): string => {
  const l = printable(s.replace(/\s+/g, ' ').trim());
  return l.length <= max ? l : `${l.slice(0, max - 1)}…`;
};

/** Rows as a left-aligned table (the last column not padded). */
function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** `runs list` as a person reads it. */
export function formatRunList(runs: RunRow[]): string {
  if (runs.length === 0) return 'no runs\n';
  const rows = runs.map((r) => [
    r.workflowId, r.status, r.outcome ?? '-', r.repo, r.team ?? '-', String(r.priority), String(r.attempts), usd(r.spend.usd), time(r.createdAt), oneLine(r.title, 60),
  ]);
  const total = runs.reduce((s, r) => s + r.spend.usd, 0);
  return `${table(['ID', 'STATUS', 'OUTCOME', 'REPO', 'TEAM', 'PRI', 'ATT', 'USD', 'CREATED (UTC)', 'TITLE'], rows)}\n\n${runs.length} run(s), ${usd(total)}\n`;
}

function eventLine(e: TraceEventRow, full: boolean): string {
  const tag = [e.kind, e.tool, e.exitCode !== undefined ? `exit ${e.exitCode}` : e.isError ? 'error' : undefined].filter(Boolean).join(' ');
  const head = `  ${String(e.seq).padStart(4)}  ${time(e.ts).slice(11)}  ${tag}: `;
  if (!full) return `${head}${oneLine(e.text)}`;
  return `${head}\n${printable(e.text).split('\n').map((l) => `        ${l}`).join('\n')}`;
}

/** `runs show` as a person reads it: the run, then each attempt with its validation and trace. */
export function formatRunDetail(d: RunDetail, opts: { full?: boolean } = {}): string {
  const r = d.run;
  const out: string[] = [
    `run:        ${r.workflowId}`,
    `title:      ${oneLine(r.title, 200)}`,
    `origin:     ${r.originKind}${r.originLink ? ` ${r.originLink}` : ''} (requested by ${r.requester || '-'})`,
    `repo:       ${r.repo}${r.team ? ` (team ${r.team})` : ''}, priority ${r.priority}`,
    `status:     ${r.status}${r.phase ? ` / ${r.phase}` : ''}${r.outcome ? ` → ${r.outcome}` : ''}`,
  ];
  if (r.reason) out.push(`reason:     ${oneLine(r.reason, 300)}`);
  if (r.prUrl) out.push(`PR:         ${r.prUrl}`);
  if (r.wipBranch) out.push(`wip:        ${r.wipBranch}`);
  if (r.agent || r.model) out.push(`agent:      ${r.agent ?? '-'} ${r.model ?? ''}`.trimEnd());
  out.push(`spend:      ${usd(r.spend.usd)}, ${r.spend.tokens} tokens, ${r.attempts} attempt(s)`);
  out.push(`times:      created ${time(r.createdAt)}, started ${time(r.startedAt)}, finished ${time(r.finishedAt)} (UTC)`);
  const attemptNos = [...new Set([0, ...d.attempts.map((a) => a.attempt), ...d.events.map((e) => e.attempt), ...d.validations.map((v) => v.attempt)])].sort((a, b) => a - b);
  for (const n of attemptNos) {
    const a = d.attempts.find((x) => x.attempt === n);
    const v = d.validations.find((x) => x.attempt === n);
    const events = d.events.filter((e) => e.attempt === n);
    if (!a && !v && events.length === 0) continue;
    out.push('');
    if (n === 0) out.push('before the attempts:');
    else if (a) {
      const why = [a.end, a.stuckRule && `stuck: ${a.stuckRule}`, a.budgetKind && `budget: ${a.budgetKind}`].filter(Boolean).join(', ');
      out.push(`attempt ${n}: ${why || 'running'}, ${usd(a.spend.usd)}, ${a.spend.tokens} tokens, ${time(a.startedAt)} → ${time(a.endedAt)}`);
      if (a.failure) out.push(`  failure: ${oneLine(a.failure, 300)}`);
      if (a.filesChanged?.length) out.push(`  files:   ${a.filesChanged.join(', ')}`);
    } else out.push(`attempt ${n}:`);
    if (v) {
      const counts = v.counts ? ` (${v.counts.passed} passed, ${v.counts.failed} failed)` : '';
      out.push(`  tests:   ${v.passed ? 'PASS' : 'FAIL'} exit ${v.exitCode}${counts}: ${oneLine(v.command, 100)}${v.failingTests.length ? `; failing: ${v.failingTests.join(', ')}` : ''}`);
      if (v.contractSummary) out.push(`  contract: ${oneLine(v.contractSummary, 200)}`);
    }
    if (events.length) out.push(`  trace (${events.length} events):`, ...events.map((e) => eventLine(e, opts.full === true)));
  }
  return `${out.join('\n')}\n`;
}

/** `runs search` as a person reads it: run id, attempt and seq, kind, snippet. */
export function formatSearchHits(hits: SearchHit[]): string {
  if (hits.length === 0) return 'no matches\n';
  const rows = hits.map((h) => [h.workflowId, `${h.attempt}.${h.seq}`, [h.kind, h.tool].filter(Boolean).join(' '), time(h.ts), oneLine(h.snippet, 200)]);
  return `${table(['RUN', 'ATTEMPT.SEQ', 'KIND', 'WHEN (UTC)', 'MATCH'], rows)}\n`;
}

async function withLedger<T>(load: () => Config, fn: (ledger: Ledger) => Promise<T>): Promise<T> {
  const ledger = await openLedger(load());
  try {
    return await fn(ledger);
  } finally {
    await ledger.close();
  }
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

/** Adds `runs list|show|search` to the program; `load` reads the configuration (for `stateDir` and `ledger`). */
export function registerRunsCommands(program: Command, load: () => Config): void {
  const runs = program.command('runs').description('the run ledger: list runs, show one with its trace, search traces');
  runs
    .command('list')
    .description('runs, newest first')
    .option('--repo <name>', 'only this repository')
    .option('--team <name>', 'only this team')
    .option('--status <s>', `only these statuses (comma-separated: ${LEDGER_RUN_STATUSES.join(', ')})`, parseStatus)
    .option('--since <when>', 'created since: 30m, 24h, 7d, 2w or an ISO date', (v) => parseSince(v))
    .option('--limit <n>', 'at most this many (default 50)', parseLimit)
    .option('--json', 'print JSON')
    .action(async (o: { repo?: string; team?: string; status?: LedgerRunStatus[]; since?: number; limit?: number; json?: boolean }) => {
      const list = await withLedger(load, (l) => l.listRuns({ repo: o.repo, team: o.team, status: o.status, since: o.since, limit: o.limit ?? 50 }));
      process.stdout.write(o.json ? json(list) : formatRunList(list));
    });
  runs
    .command('show')
    .description('a run: request, outcome, spend, attempts, validations and its trace')
    .argument('<id>', 'workflow id')
    .option('--full', 'each trace event in full (default: its first line)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { full?: boolean; json?: boolean }) => {
      const d = await withLedger(load, (l) => l.getRun(id));
      if (!d) {
        process.stderr.write(`no run ${id} in the ledger\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(o.json ? json(d) : formatRunDetail(d, { full: o.full }));
    });
  runs
    .command('search')
    .description('full-text search over the traces (commands, errors, messages); "quoted phrases" keep their order')
    .argument('<text>', 'words to find, all of them')
    .option('--limit <n>', 'at most this many (default 20)', parseLimit)
    .option('--json', 'print JSON')
    .action(async (text: string, o: { limit?: number; json?: boolean }) => {
      const hits = await withLedger(load, (l) => l.search(text, o.limit ?? 20));
      process.stdout.write(o.json ? json(hits) : formatSearchHits(hits));
    });
}
