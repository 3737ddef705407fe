/**
 * Helpers shared by the agent stream parsers ({@link ./claudeStream.ts}, {@link ./codexStream.ts}).
 *
 * The parsers read untrusted, evolving JSON: everything here is defensive (unknown shapes give
 * `undefined`, never an exception).
 */

/** Largest `result` text a `tool_call` event carries, in characters (~4 KB). */
export const MAX_RESULT_CHARS = 4096;

/** Characters kept from the start of a truncated text; the rest of the budget keeps its end. */
const HEAD_CHARS = 1024;

/**
 * Shortens `text` to at most about `max` characters, keeping its head (1 KB) and its tail (the
 * rest): the start of a tool's output says what ran, the end holds the error or the test summary.
 * The cut is marked with `…[N chars omitted]…`.
 */
export function truncateMiddle(text: string, max: number = MAX_RESULT_CHARS): string {
  if (text.length <= max) return text;
  const head = Math.min(HEAD_CHARS, Math.floor(max / 4));
  const marker = (n: number): string => `\n…[${n} chars omitted]…\n`;
  // The marker's own length depends on n; its upper bound is good enough.
  const tail = Math.max(0, max - head - marker(text.length).length);
  const omitted = text.length - head - tail;
  return text.slice(0, head) + marker(omitted) + text.slice(text.length - tail);
}

/** `value` as a plain object, or undefined. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** `value` when it is a string, else undefined. */
export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `value` when it is a finite number, else undefined. */
export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `value` when it is an array, else an empty array. */
export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Parses one line of JSON Lines into an object; undefined for blank lines, non-JSON and non-objects. */
export function parseJsonLine(line: string): Record<string, unknown> | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    return asRecord(JSON.parse(trimmed));
  } catch {
    // Not JSON (a CLI warning, a partial line): ignored by design.
    return undefined;
  }
}

/** Clock of a parsed transcript: when each line was "read". */
export interface TranscriptClock {
  /** `at` of the first line, Unix ms. Default 0. */
  startAt?: number;
  /** Milliseconds between consecutive lines. Default 1000. */
  stepMs?: number;
}

/**
 * Feeds every line of a stored transcript to `push`, with a synthetic clock (stored stream-json
 * and exec-json lines carry no timestamps): line `i` (0-based, blank lines included) is read at
 * `startAt + i * stepMs`.
 */
export function parseLines<E>(text: string, push: (line: string, at: number) => E[], clock: TranscriptClock = {}): E[] {
  const startAt = clock.startAt ?? 0;
  const stepMs = clock.stepMs ?? 1000;
  const out: E[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    out.push(...push(line, startAt + i * stepMs));
  });
  return out;
}
