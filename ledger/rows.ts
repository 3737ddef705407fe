/**
 * Mapping between the ledger's types and its columns (snake_case, booleans as 0/1, JSON as TEXT,
 * absent as NULL). PostgreSQL returns BIGINT and NUMERIC as strings: every number goes through
 * `num`.
 */
import type { AgentKind, AttemptEnd, BudgetKind, RunOutcomeKind, RunPhase, StuckRule, TaskSource } from '../workflows/types.js';
import type { AttemptRow, LedgerRunStatus, RunPatch, RunRow, TraceEventKind, TraceEventRow, ValidationRow } from './types.js';
import type { SqlRow, SqlValue } from './sql.js';

/** Run fields → columns, in the order of the `runs` table (workflowId excluded). */
export const RUN_COLUMNS: Record<Exclude<keyof RunRow, 'workflowId' | 'spend'>, string> = {
  originKind: 'origin_kind',
  originLink: 'origin_link',
  repo: 'repo',
  team: 'team',
  requester: 'requester',
  title: 'title',
  priority: 'priority',
  status: 'status',
  phase: 'phase',
  outcome: 'outcome',
  reason: 'reason',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  attempts: 'attempts',
  prUrl: 'pr_url',
  wipBranch: 'wip_branch',
  agent: 'agent',
  model: 'model',
  plan: 'plan',
  taskType: 'task_type',
  taskSize: 'task_size',
  taskRisk: 'task_risk',
  modelTier: 'model_tier',
  routingRule: 'routing_rule',
};

/** `o` without its `undefined` fields (rows read back compare equal to what was written). */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k];
  return o;
}

export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}
function optNum(v: unknown): number | undefined {
  return v === null || v === undefined ? undefined : Number(v);
}
function optStr<T extends string = string>(v: unknown): T | undefined {
  return v === null || v === undefined ? undefined : (String(v) as T);
}
function json(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : undefined;
}
/** A JS value as a bound parameter. */
export function param(v: unknown): SqlValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** Columns and values of a run patch (only the fields given; `spend` as two columns). */
export function runPatchColumns(patch: RunPatch): Array<[string, SqlValue]> {
  const out: Array<[string, SqlValue]> = [];
  for (const [field, column] of Object.entries(RUN_COLUMNS)) {
    if (field in patch && (patch as Record<string, unknown>)[field] !== undefined) {
      const v = (patch as Record<string, unknown>)[field];
      out.push([column, field === 'plan' ? JSON.stringify(v) : param(v)]);
    }
  }
  if (patch.spend) out.push(['spend_usd', patch.spend.usd], ['spend_tokens', Math.round(patch.spend.tokens)]);
  return out;
}

export function runFromRow(r: SqlRow): RunRow {
  return compact({
    workflowId: String(r['workflow_id']),
    originKind: String(r['origin_kind']) as TaskSource['kind'],
    originLink: optStr(r['origin_link']),
    repo: String(r['repo']),
    team: optStr(r['team']),
    requester: String(r['requester']),
    title: String(r['title']),
    priority: num(r['priority']),
    status: String(r['status']) as LedgerRunStatus,
    phase: optStr<RunPhase>(r['phase']),
    outcome: optStr<RunOutcomeKind>(r['outcome']),
    reason: optStr(r['reason']),
    createdAt: num(r['created_at']),
    updatedAt: num(r['updated_at']),
    startedAt: optNum(r['started_at']),
    finishedAt: optNum(r['finished_at']),
    spend: { usd: num(r['spend_usd']), tokens: num(r['spend_tokens']) },
    attempts: num(r['attempts']),
    prUrl: optStr(r['pr_url']),
    wipBranch: optStr(r['wip_branch']),
    agent: optStr<AgentKind>(r['agent']),
    model: optStr(r['model']),
    plan: json(r['plan']),
    taskType: optStr(r['task_type']),
    taskSize: optStr(r['task_size']),
    taskRisk: optStr(r['task_risk']),
    modelTier: optStr(r['model_tier']),
    routingRule: optStr(r['routing_rule']),
  });
}

export const ATTEMPT_COLUMNS = [
  'workflow_id', 'attempt', 'started_at', 'ended_at', 'end_kind', 'agent', 'model', 'spend_usd', 'spend_tokens',
  'stuck_rule', 'budget_kind', 'failure', 'final_message', 'diff_stat', 'files_changed',
];

export function attemptParams(a: AttemptRow): SqlValue[] {
  return [
    a.workflowId, a.attempt, a.startedAt, param(a.endedAt), param(a.end), param(a.agent), param(a.model), a.spend.usd,
    Math.round(a.spend.tokens), param(a.stuckRule), param(a.budgetKind), param(a.failure), param(a.finalMessage),
    param(a.diffStat), a.filesChanged ? JSON.stringify(a.filesChanged) : null,
  ];
}

export function attemptFromRow(r: SqlRow): AttemptRow {
  return compact({
    workflowId: String(r['workflow_id']),
    attempt: num(r['attempt']),
    startedAt: num(r['started_at']),
    endedAt: optNum(r['ended_at']),
    end: optStr<AttemptEnd>(r['end_kind']),
    agent: optStr<AgentKind>(r['agent']),
    model: optStr(r['model']),
    spend: { usd: num(r['spend_usd']), tokens: num(r['spend_tokens']) },
    stuckRule: optStr<StuckRule>(r['stuck_rule']),
    budgetKind: optStr<BudgetKind>(r['budget_kind']),
    failure: optStr(r['failure']),
    finalMessage: optStr(r['final_message']),
    diffStat: optStr(r['diff_stat']),
    filesChanged: json(r['files_changed']) as string[] | undefined,
  });
}

export const EVENT_COLUMNS = ['workflow_id', 'attempt', 'seq', 'ts', 'kind', 'tool', 'text', 'is_error', 'exit_code'];

export function eventParams(e: TraceEventRow): SqlValue[] {
  return [e.workflowId, e.attempt, e.seq, e.ts, e.kind, param(e.tool), e.text, param(e.isError), param(e.exitCode)];
}

export function eventFromRow(r: SqlRow): TraceEventRow {
  return compact({
    workflowId: String(r['workflow_id']),
    attempt: num(r['attempt']),
    seq: num(r['seq']),
    ts: num(r['ts']),
    kind: String(r['kind']) as TraceEventKind,
    tool: optStr(r['tool']),
    text: String(r['text']),
    isError: r['is_error'] === null || r['is_error'] === undefined ? undefined : num(r['is_error']) === 1,
    exitCode: optNum(r['exit_code']),
  });
}

export const VALIDATION_COLUMNS = [
  'workflow_id', 'attempt', 'ts', 'passed', 'exit_code', 'command', 'duration_ms', 'failing_tests', 'counts',
  'contract_summary', 'output_tail',
];

export function validationParams(v: ValidationRow): SqlValue[] {
  return [
    v.workflowId, v.attempt, v.ts, v.passed ? 1 : 0, v.exitCode, v.command, Math.round(v.durationMs),
    JSON.stringify(v.failingTests), v.counts ? JSON.stringify(v.counts) : null, param(v.contractSummary), v.outputTail,
  ];
}

export function validationFromRow(r: SqlRow): ValidationRow {
  return compact({
    workflowId: String(r['workflow_id']),
    attempt: num(r['attempt']),
    ts: num(r['ts']),
    passed: num(r['passed']) === 1,
    exitCode: num(r['exit_code']),
    command: String(r['command']),
    durationMs: num(r['duration_ms']),
    failingTests: (json(r['failing_tests']) as string[] | undefined) ?? [],
    counts: json(r['counts']) as ValidationRow['counts'],
    contractSummary: optStr(r['contract_summary']),
    outputTail: String(r['output_tail']),
  });
}
