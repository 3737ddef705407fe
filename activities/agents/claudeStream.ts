/**
 * Parser of Claude Code's `claude -p --output-format stream-json --verbose` output into
 * {@link AgentEvent}s.
 *
 * Format (one JSON object per line; source: `@anthropic-ai/claude-agent-sdk` message types,
 * https://docs.anthropic.com/en/docs/claude-code/sdk/sdk-headless, and real CLI 2.1.x transcripts
 * in test/fixtures/agents):
 * - `{type:"system", subtype:"init", session_id, model, claude_code_version, cwd, tools, …}`
 * - `{type:"assistant", message:{id, model, content:[block], usage}, parent_tool_use_id}`: one line
 *   per content block (`text`, `thinking`, `tool_use {id, name, input}`); several lines share
 *   `message.id` and the per-line `usage` is not final (output tokens are counted so far).
 * - `{type:"user", message:{content:[{type:"tool_result", tool_use_id, content, is_error}]},
 *   tool_use_result}`: `content` is a string or text/image blocks; a failing Bash call reads
 *   `Exit code N\n<output>`; `tool_use_result` is the tool's structured output (Bash:
 *   `{stdout, stderr, interrupted, returnCodeInterpretation?}`; an error: a string).
 * - `{type:"result", subtype, is_error, result, num_turns, total_cost_usd, usage, modelUsage,
 *   permission_denials[], errors[]?}`: one per turn. `is_error: true` with `subtype: "success"`
 *   is an API error: `is_error` decides, not `subtype`.
 *
 * Unknown line types, unknown fields and non-JSON lines are ignored.
 */
import type { AgentEvent } from '../../workflows/types.js';
import {
  asArray,
  asNumber,
  asRecord,
  asString,
  parseJsonLine,
  parseLines,
  truncateMiddle,
  type TranscriptClock,
} from './common.js';

/** Claude Code tools whose success means a file changed, and the input keys naming the file. */
const FILE_TOOLS: Record<string, readonly string[]> = {
  Edit: ['file_path'],
  Write: ['file_path'],
  MultiEdit: ['file_path'],
  NotebookEdit: ['notebook_path'],
};

/** Token totals, cumulative for the session. */
interface Totals {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/**
 * Stateful line parser of one Claude Code stream-json session.
 *
 * - `init` from `system/init`.
 * - `message` for each non-empty assistant `text` block.
 * - `tool_call` when a `tool_result` arrives for a `tool_use` seen earlier (paired by
 *   `tool_use_id`; a result whose call was never seen is ignored). `result` is the tool's output
 *   truncated to ~4 KB (head and tail kept); `exitCode` is read from a Bash error's
 *   `Exit code N` prefix, or 0 for a Bash success with no `returnCodeInterpretation`.
 * - `file_change` after a successful Edit / Write / MultiEdit / NotebookEdit (paths from
 *   `input.file_path` / `input.notebook_path`). File changes made through Bash are not seen.
 * - `usage` from the `result` line only. Per-assistant-line usage is not final (several lines
 *   share a `message.id` and output tokens grow until the message ends, which stream-json does not
 *   report), so it is never used. The `result`'s `modelUsage` (per-model totals, including side
 *   and sub-agent calls) is preferred, else its `usage` (main loop). Totals are treated as
 *   cumulative for the session, like `total_cost_usd`: when a session has several `result` lines
 *   only the growth since the previous one is emitted. Nightshift's gateway meters spend
 *   independently; this event is evidence.
 * - `final` from the `result` line.
 */
export class ClaudeStreamParser {
  private readonly pending = new Map<string, { name: string; input: unknown }>();
  private emitted: Totals = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };

  /**
   * Parses one line of output.
   * @param line one line of stdout (with or without its newline)
   * @param at when the line was read, Unix ms (default: now)
   * @returns the events the line completes; [] for lines that complete none, non-JSON lines and
   *   unknown types
   */
  /** Tool calls the agent started whose result has not arrived (e.g. a command still running when it was stopped). */
  pendingCalls(): Array<{ name: string; input: unknown }> {
    return [...this.pending.values()];
  }

  push(line: string, at: number = Date.now()): AgentEvent[] {
    const obj = parseJsonLine(line);
    if (!obj) return [];
    switch (obj.type) {
      case 'system':
        return obj.subtype === 'init' ? [this.init(obj, at)] : [];
      case 'assistant':
        return this.assistant(obj, at);
      case 'user':
        return this.user(obj, at);
      case 'result':
        return this.result(obj, at);
      default:
        return [];
    }
  }

  private init(obj: Record<string, unknown>, at: number): AgentEvent {
    return {
      kind: 'init',
      at,
      sessionId: asString(obj.session_id),
      model: asString(obj.model),
      cliVersion: asString(obj.claude_code_version),
    };
  }

  private assistant(obj: Record<string, unknown>, at: number): AgentEvent[] {
    const message = asRecord(obj.message);
    const out: AgentEvent[] = [];
    for (const raw of asArray(message?.content)) {
      const block = asRecord(raw);
      if (!block) continue;
      if (block.type === 'text') {
        const text = asString(block.text);
        if (text && text.trim()) out.push({ kind: 'message', at, text });
      } else if (block.type === 'tool_use') {
        const id = asString(block.id);
        if (id) this.pending.set(id, { name: asString(block.name) ?? 'unknown', input: block.input });
      }
    }
    return out;
  }

  private user(obj: Record<string, unknown>, at: number): AgentEvent[] {
    const message = asRecord(obj.message);
    const blocks = asArray(message?.content)
      .map(asRecord)
      .filter((b): b is Record<string, unknown> => b?.type === 'tool_result');
    // `tool_use_result` describes the line's result only when there is exactly one.
    const structured = blocks.length === 1 ? obj.tool_use_result : undefined;
    const out: AgentEvent[] = [];
    for (const block of blocks) {
      const id = asString(block.tool_use_id);
      const call = id ? this.pending.get(id) : undefined;
      if (!id || !call) continue;
      this.pending.delete(id);
      const text = resultText(block.content);
      const isError = block.is_error === true;
      const exitCode = call.name === 'Bash' ? bashExitCode(text, isError, structured) : undefined;
      const ev: AgentEvent = { kind: 'tool_call', at, id, name: call.name, input: call.input, result: truncateMiddle(text), isError };
      if (exitCode !== undefined) ev.exitCode = exitCode;
      out.push(ev);
      const keys = FILE_TOOLS[call.name];
      if (keys && !isError) {
        const input = asRecord(call.input);
        const paths = keys.map((k) => asString(input?.[k])).filter((p): p is string => !!p);
        if (paths.length > 0) out.push({ kind: 'file_change', at, paths });
      }
    }
    return out;
  }

  private result(obj: Record<string, unknown>, at: number): AgentEvent[] {
    const out: AgentEvent[] = [];
    const totals = resultTotals(obj);
    if (totals) {
      const delta: Totals = {
        input: Math.max(0, totals.input - this.emitted.input),
        output: Math.max(0, totals.output - this.emitted.output),
        cacheRead: Math.max(0, totals.cacheRead - this.emitted.cacheRead),
        cacheWrite: Math.max(0, totals.cacheWrite - this.emitted.cacheWrite),
      };
      this.emitted = totals;
      if (delta.input + delta.output + delta.cacheRead + delta.cacheWrite > 0) {
        out.push({
          kind: 'usage',
          at,
          inputTokens: delta.input,
          outputTokens: delta.output,
          cacheReadTokens: delta.cacheRead,
          cacheWriteTokens: delta.cacheWrite,
        });
      }
    }
    const errors = asArray(obj.errors).map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
    const text = asString(obj.result) ?? errors.join('\n');
    const final: AgentEvent = {
      kind: 'final',
      at,
      text,
      isError: obj.is_error === true,
      subtype: asString(obj.subtype) ?? 'unknown',
      permissionDenials: asArray(obj.permission_denials).length,
    };
    const cost = asNumber(obj.total_cost_usd);
    if (cost !== undefined) final.reportedCostUsd = cost;
    const turns = asNumber(obj.num_turns);
    if (turns !== undefined) final.numTurns = turns;
    out.push(final);
    return out;
  }
}

/** Text of a `tool_result`'s content: a string, or text blocks joined by newlines (images as `[image]`). */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  const parts: string[] = [];
  for (const raw of asArray(content)) {
    const block = asRecord(raw);
    if (block?.type === 'text' && typeof block.text === 'string') parts.push(block.text);
    else if (block?.type === 'image') parts.push('[image]');
  }
  return parts.join('\n');
}

/**
 * Exit code of a Bash call: `Exit code N` at the start of an error result (Claude Code's format,
 * optionally after `Error: `), or 0 for a success whose structured output is a plain, completed
 * run (no `interrupted`, no `returnCodeInterpretation`, which marks a non-zero code that is not an
 * error, e.g. grep's 1), else undefined.
 */
function bashExitCode(text: string, isError: boolean, structured: unknown): number | undefined {
  if (isError) {
    const m = /^(?:Error: )?Exit code (\d+)\b/.exec(text.trimStart());
    return m ? Number(m[1]) : undefined;
  }
  const out = asRecord(structured);
  if (out && typeof out.stdout === 'string' && out.interrupted !== true && out.returnCodeInterpretation === undefined) return 0;
  return undefined;
}

/** Token totals of a `result` line: `modelUsage` summed over models, else `usage`; undefined when neither. */
function resultTotals(obj: Record<string, unknown>): Totals | undefined {
  const models = asRecord(obj.modelUsage);
  if (models && Object.keys(models).length > 0) {
    const t: Totals = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    for (const raw of Object.values(models)) {
      const m = asRecord(raw);
      t.input += asNumber(m?.inputTokens) ?? 0;
      t.output += asNumber(m?.outputTokens) ?? 0;
      t.cacheRead += asNumber(m?.cacheReadInputTokens) ?? 0;
      t.cacheWrite += asNumber(m?.cacheCreationInputTokens) ?? 0;
    }
    return t;
  }
  const usage = asRecord(obj.usage);
  if (!usage) return undefined;
  return {
    input: asNumber(usage.input_tokens) ?? 0,
    output: asNumber(usage.output_tokens) ?? 0,
    cacheRead: asNumber(usage.cache_read_input_tokens) ?? 0,
    cacheWrite: asNumber(usage.cache_creation_input_tokens) ?? 0,
  };
}

/**
 * Parses a whole stored stream-json transcript. Stored lines carry no read time, so line `i` is
 * given `at = startAt + i * stepMs` (default 0 and 1000 ms).
 */
export function parseClaudeTranscript(text: string, clock?: TranscriptClock): AgentEvent[] {
  const parser = new ClaudeStreamParser();
  return parseLines(text, (line, at) => parser.push(line, at), clock);
}
