/** How events and calls are shown in verdict evidence and in a run's `lastEvents`. */
import type { AgentEvent } from '../../workflows/types.js';
import { EVIDENCE_CHARS, normalizeToolInput } from './normalize.js';

/** Tool-call event. */
export type ToolCall = Extract<AgentEvent, { kind: 'tool_call' }>;

/** Whether a tool call failed: the CLI says so, or it reports a non-zero exit code. */
export function failed(ev: ToolCall): boolean {
  return ev.isError || (ev.exitCode !== undefined && ev.exitCode !== 0);
}

/** Shortens a string for evidence. */
export function clip(s: string, max = EVIDENCE_CHARS): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

/** Unix ms as ISO 8601. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A call as shown in evidence: `Bash: npm test`. */
export function showCall(ev: ToolCall): string {
  return clip(`${ev.name}: ${normalizeToolInput(ev.name, ev.input)}`, 200);
}

/** One line describing an event, e.g. for a run's `lastEvents`: `tool_call Bash: npm test → exit 1`. */
export function describeEvent(ev: AgentEvent): string {
  switch (ev.kind) {
    case 'init':
      return clip(`init ${ev.model ?? ''} ${ev.cliVersion ?? ''}`);
    case 'tool_call': {
      const status = ev.exitCode !== undefined ? `exit ${ev.exitCode}` : ev.isError ? 'error' : 'ok';
      return clip(`tool_call ${showCall(ev)} → ${status}`);
    }
    case 'file_change':
      return clip(`file_change ${ev.paths.join(', ')}`);
    case 'usage':
      return `usage in=${ev.inputTokens} out=${ev.outputTokens} cache_read=${ev.cacheReadTokens} cache_write=${ev.cacheWriteTokens}`;
    case 'message':
      return clip(`message ${ev.text}`, 200);
    case 'final':
      return clip(`final ${ev.subtype}${ev.isError ? ' (error)' : ''} ${ev.text}`, 200);
  }
}
