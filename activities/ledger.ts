/**
 * The run ledger's activities (thin and idempotent: the workflow calls them at phase changes) and
 * the trace recorder `runAgent` feeds with an attempt's normalized agent events. Secrets never
 * reach the ledger: every string goes through worker/redact.ts first.
 */
import type { Ledger, LedgerActivities, TraceEventKind, TraceEventRow } from '../ledger/types.js';
import type { AgentEvent } from '../workflows/types.js';
import type { Logger } from '../worker/logger.js';
import { redact, redactDeep } from '../worker/redact.js';
import { commandOf, normalizeToolInput } from './stuck/normalize.js';

/** Longest text kept per trace event, characters (the head of a command, the tail of its output). */
export const TRACE_TEXT_CHARS = 4000;
/** Trace seq numbers of one activity try start at `(try − 1) × SEQ_PER_TRY`: a retried attempt's fresh stream never collides with the first try's. */
export const SEQ_PER_TRY = 1_000_000;

const EDIT_TOOLS = new Set(['Edit', 'MultiEdit', 'Write', 'NotebookEdit', 'apply_patch', 'str_replace_based_edit_tool']);

function clipText(s: string, max = TRACE_TEXT_CHARS): string {
  if (s.length <= max) return s;
  const head = Math.floor(max * 0.4);
  return `${s.slice(0, head)}\n…\n${s.slice(s.length - (max - head - 3))}`;
}

/** A trace event's text, redacted and clipped. */
function safe(text: string): string {
  return clipText(redact(text));
}

/**
 * An agent event as a trace row (`undefined` for events the trace does not keep: init, usage).
 * Shell calls become `command` (the command, then its output), edits `edit`, other tools
 * `tool_call`, assistant text `message`, a failed end `error`.
 */
export function traceRowOf(workflowId: string, attempt: number, seq: number, ev: AgentEvent): TraceEventRow | undefined {
  const base = { workflowId, attempt, seq, ts: ev.at };
  let kind: TraceEventKind;
  let text: string;
  let extra: Partial<TraceEventRow> = {};
  switch (ev.kind) {
    case 'tool_call': {
      const command = commandOf(ev.input);
      const failedCall = ev.isError || (ev.exitCode !== undefined && ev.exitCode !== 0);
      extra = { tool: ev.name, isError: failedCall, ...(ev.exitCode !== undefined ? { exitCode: ev.exitCode } : {}) };
      if (command !== undefined) {
        kind = 'command';
        text = `$ ${command}\n${ev.result}`;
      } else {
        kind = EDIT_TOOLS.has(ev.name) ? 'edit' : 'tool_call';
        text = `${ev.name} ${normalizeToolInput(ev.name, ev.input)}\n${ev.result}`;
      }
      break;
    }
    case 'file_change':
      kind = 'edit';
      text = ev.paths.join('\n');
      break;
    case 'message':
      kind = 'message';
      text = ev.text;
      break;
    case 'final':
      kind = ev.isError ? 'error' : 'message';
      text = ev.isError ? `${ev.subtype}: ${ev.text}` : ev.text;
      extra = { isError: ev.isError };
      break;
    default:
      return undefined;
  }
  return { ...base, kind, text: safe(text), ...extra };
}

/** Trace rows of an attempt's events, numbered from `firstSeq`. */
export function traceRowsOf(workflowId: string, attempt: number, events: AgentEvent[], firstSeq = 0): TraceEventRow[] {
  const rows: TraceEventRow[] = [];
  for (const ev of events) {
    const row = traceRowOf(workflowId, attempt, firstSeq + rows.length, ev);
    if (row) rows.push(row);
  }
  return rows;
}

/**
 * Appends the normalized agent events of one attempt to the ledger in one batch (idempotent:
 * the same events numbered the same way add nothing twice). Resolves to how many were new.
 * @throws LedgerError when the ledger cannot be written
 */
export async function recordTraceFromAttempt(
  ledger: Ledger,
  input: { workflowId: string; attempt: number; events: AgentEvent[]; firstSeq?: number },
): Promise<number> {
  return ledger.appendEvents(traceRowsOf(input.workflowId, input.attempt, input.events, input.firstSeq));
}

/**
 * Streams an attempt's events to the ledger as they come: `add` buffers (never throws), a flush
 * runs every `flushMs` (default 2000) or at `maxBatch` (default 200) events, `close` flushes the
 * rest. A ledger failure is logged and the batch kept for the next flush: the trace must never
 * fail an attempt.
 */
export class TraceRecorder {
  private buffer: TraceEventRow[] = [];
  private seq: number;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly ledger: Ledger,
    private readonly run: { workflowId: string; attempt: number; activityTry?: number },
    private readonly opts: { logger?: Logger; flushMs?: number; maxBatch?: number } = {},
  ) {
    this.seq = ((run.activityTry ?? 1) - 1) * SEQ_PER_TRY;
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? 2000);
    this.timer.unref();
  }

  /** Buffers one event (already redacted or not: it is redacted here). */
  add(ev: AgentEvent): void {
    const row = traceRowOf(this.run.workflowId, this.run.attempt, this.seq, ev);
    if (!row) return;
    this.seq += 1;
    this.buffer.push(row);
    if (this.buffer.length >= (this.opts.maxBatch ?? 200)) void this.flush();
  }

  /** Writes what is buffered; resolves when written (or the failure logged). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.buffer.length === 0) return;
      const batch = this.buffer;
      this.buffer = [];
      try {
        await this.ledger.appendEvents(batch);
      } catch (err) {
        this.buffer = [...batch, ...this.buffer];
        this.opts.logger?.warn({ err: redact(String(err)), events: batch.length }, 'could not write the trace to the ledger; will retry');
      }
    });
    return this.flushing;
  }

  /** Stops the timer and flushes. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}

/**
 * The ledger activities over an open ledger. Inputs are redacted (every string) before they are
 * written; event texts are clipped to {@link TRACE_TEXT_CHARS}.
 */
export function createLedgerActivities(ledger: Ledger): LedgerActivities {
  return {
    ledgerUpsertRun: async (patch) => ledger.upsertRun(redactDeep(patch)),
    ledgerRecordAttempt: async (row) => ledger.recordAttempt(redactDeep(row)),
    ledgerAppendEvents: async (events) => ledger.appendEvents(events.map((e) => ({ ...redactDeep(e), text: safe(e.text) }))),
    ledgerRecordValidation: async (row) => ledger.recordValidation({ ...redactDeep(row), outputTail: safe(row.outputTail) }),
  };
}
