/**
 * Parser of `codex exec --json` output into {@link AgentEvent}s.
 *
 * Format (one JSON object per line; source: openai/codex `docs/exec.md` and
 * `codex-rs/exec/src/exec_events.rs`, https://github.com/openai/codex/blob/main/docs/exec.md):
 * - `thread.started {thread_id}`, `turn.started`
 * - `item.started | item.updated | item.completed {item: {id, type, …}}` with item types
 *   `agent_message {text}`, `reasoning {text}`, `command_execution {command, aggregated_output,
 *   exit_code, status: in_progress|completed|failed|declined}`, `file_change {changes[{path,
 *   kind: add|delete|update}], status: completed|failed}`, `mcp_tool_call {server, tool,
 *   arguments, result?{content[]}, error?{message}, status}`, `web_search {query}`, `todo_list`,
 *   `error {message}` (non-fatal)
 * - `turn.completed {usage: {input_tokens, cached_input_tokens, output_tokens}}`,
 *   `turn.failed {error: {message}}`, `error {message}` (fatal stream error)
 *
 * Events come from `item.completed` (an item's terminal state has everything); `item.started`
 * only tracks commands still running, for `pendingCalls()`. Unknown line types,
 * item types and fields, and non-JSON lines are ignored.
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

/**
 * Stateful line parser of one `codex exec --json` session.
 *
 * - `init` from `thread.started` (`sessionId` = thread id; Codex reports no model or version here).
 * - `message` for each completed `agent_message`, and for `error` items and stream `error` lines
 *   (text prefixed `error: `).
 * - `tool_call` for each completed `command_execution` (name `exec_command`, input `{command}`,
 *   result `aggregated_output` truncated to ~4 KB, `exitCode` = `exit_code`, `isError` when the
 *   exit code is non-zero or the status is `failed` / `declined`), `file_change` (name
 *   `apply_patch`, input `{changes}`), `mcp_tool_call` (name `mcp__<server>__<tool>`, as Claude
 *   Code names MCP tools) and `web_search` (name `web_search`).
 * - `file_change` for each `file_change` item that did not fail.
 * - On `turn.completed`: `usage`, then `final` (text = the last agent message, `isError` false,
 *   subtype `turn.completed`). Codex's `input_tokens` *includes* `cached_input_tokens` (OpenAI
 *   Responses usage semantics), so `cacheReadTokens` = cached and `inputTokens` = input − cached;
 *   Codex reports no cache writes (0).
 * - On `turn.failed`: `final` with `isError` true, subtype `turn.failed`, text = the error message.
 */
export class CodexStreamParser {
  private lastAgentMessage = '';
  private readonly pending = new Map<string, { name: string; input: unknown }>();

  /** Commands started (`item.started`) whose completion has not arrived. */
  pendingCalls(): Array<{ name: string; input: unknown }> {
    return [...this.pending.values()];
  }

  /**
   * Parses one line of output.
   * @param line one line of stdout (with or without its newline)
   * @param at when the line was read, Unix ms (default: now)
   * @returns the events of the line; [] for non-JSON lines and unknown types
   */
  push(line: string, at: number = Date.now()): AgentEvent[] {
    const obj = parseJsonLine(line);
    if (!obj) return [];
    switch (obj.type) {
      case 'thread.started':
        return [{ kind: 'init', at, sessionId: asString(obj.thread_id) }];
      case 'item.started': {
        const item = asRecord(obj.item);
        const id = asString(item?.id);
        if (item && id && item.type === 'command_execution') this.pending.set(id, { name: 'exec_command', input: { command: item.command } });
        return [];
      }
      case 'item.completed': {
        const item = asRecord(obj.item);
        const id = asString(item?.id);
        if (id) this.pending.delete(id);
        return item ? this.item(item, at) : [];
      }
      case 'turn.completed':
        return this.turnCompleted(obj, at);
      case 'turn.failed': {
        const message = asString(asRecord(obj.error)?.message) ?? 'turn failed';
        return [{ kind: 'final', at, text: message, isError: true, subtype: 'turn.failed', permissionDenials: 0 }];
      }
      case 'error': {
        const message = asString(obj.message);
        return message ? [{ kind: 'message', at, text: `error: ${message}` }] : [];
      }
      default:
        return [];
    }
  }

  private item(item: Record<string, unknown>, at: number): AgentEvent[] {
    const id = asString(item.id) ?? '';
    switch (item.type) {
      case 'agent_message': {
        const text = asString(item.text) ?? '';
        if (!text.trim()) return [];
        this.lastAgentMessage = text;
        return [{ kind: 'message', at, text }];
      }
      case 'command_execution': {
        const exitCode = asNumber(item.exit_code);
        const status = asString(item.status);
        const ev: AgentEvent = {
          kind: 'tool_call',
          at,
          id,
          name: 'exec_command',
          input: { command: asString(item.command) ?? '' },
          result: truncateMiddle(asString(item.aggregated_output) ?? ''),
          isError: status === 'failed' || status === 'declined' || (exitCode !== undefined && exitCode !== 0),
        };
        if (exitCode !== undefined) ev.exitCode = exitCode;
        return [ev];
      }
      case 'file_change': {
        const changes = asArray(item.changes)
          .map(asRecord)
          .filter((c): c is Record<string, unknown> => typeof c?.path === 'string')
          .map((c) => ({ path: c.path as string, kind: asString(c.kind) ?? 'update' }));
        const failed = item.status === 'failed';
        const out: AgentEvent[] = [
          {
            kind: 'tool_call',
            at,
            id,
            name: 'apply_patch',
            input: { changes },
            result: changes.map((c) => `${c.kind} ${c.path}`).join('\n'),
            isError: failed,
          },
        ];
        if (!failed && changes.length > 0) out.push({ kind: 'file_change', at, paths: changes.map((c) => c.path) });
        return out;
      }
      case 'mcp_tool_call': {
        const error = asString(asRecord(item.error)?.message);
        const content = asArray(asRecord(item.result)?.content)
          .map((c) => {
            const block = asRecord(c);
            return block?.type === 'text' && typeof block.text === 'string' ? block.text : '';
          })
          .filter(Boolean)
          .join('\n');
        return [
          {
            kind: 'tool_call',
            at,
            id,
            name: `mcp__${asString(item.server) ?? 'unknown'}__${asString(item.tool) ?? 'unknown'}`,
            input: item.arguments ?? {},
            result: truncateMiddle(error ?? content),
            isError: item.status === 'failed' || error !== undefined,
          },
        ];
      }
      case 'web_search':
        return [{ kind: 'tool_call', at, id, name: 'web_search', input: { query: asString(item.query) ?? '' }, result: '', isError: false }];
      case 'error': {
        const message = asString(item.message);
        return message ? [{ kind: 'message', at, text: `error: ${message}` }] : [];
      }
      default:
        return [];
    }
  }

  private turnCompleted(obj: Record<string, unknown>, at: number): AgentEvent[] {
    const out: AgentEvent[] = [];
    const usage = asRecord(obj.usage);
    if (usage) {
      const input = asNumber(usage.input_tokens) ?? 0;
      const cached = Math.min(input, asNumber(usage.cached_input_tokens) ?? 0);
      out.push({
        kind: 'usage',
        at,
        inputTokens: input - cached,
        outputTokens: asNumber(usage.output_tokens) ?? 0,
        cacheReadTokens: cached,
        cacheWriteTokens: 0,
      });
    }
    out.push({ kind: 'final', at, text: this.lastAgentMessage, isError: false, subtype: 'turn.completed', permissionDenials: 0 });
    return out;
  }
}

/**
 * Parses a whole stored `codex exec --json` transcript. Stored lines carry no read time, so line
 * `i` is given `at = startAt + i * stepMs` (default 0 and 1000 ms).
 */
export function parseCodexTranscript(text: string, clock?: TranscriptClock): AgentEvent[] {
  const parser = new CodexStreamParser();
  return parseLines(text, (line, at) => parser.push(line, at), clock);
}
