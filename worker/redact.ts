/**
 * Redaction of known secret values: the one function every boundary uses before text leaves the
 * process (activity failures and results, log lines, reports posted to Linear or Slack).
 *
 * Secrets are registered by value (the worker's tokens from the environment, each run's gateway
 * token while the run is open), with the encodings they travel in: as is, JSON-escaped, and inside
 * an HTTP Basic credential (`base64("x-access-token:<token>")`, the form git's push header takes).
 * Redaction by value catches a secret wherever it ends up (an argv echoed in an error, a header in
 * a stack trace), which key-based redaction cannot.
 */
import { Buffer } from 'node:buffer';

/** What a redacted secret is replaced by. */
export const REDACTED = '[redacted]';

/** Secrets shorter than this are not registered: redacting them would shred ordinary text. */
export const MIN_SECRET_CHARS = 8;

const secrets = new Set<string>();
let pattern: RegExp | undefined;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The forms a secret value travels in: itself, JSON-escaped, and as HTTP Basic credentials. */
function formsOf(value: string): string[] {
  const forms = new Set<string>([value, JSON.stringify(value).slice(1, -1)]);
  for (const user of ['x-access-token', 'x-oauth-basic', '']) {
    forms.add(Buffer.from(`${user}:${value}`).toString('base64'));
  }
  return [...forms].filter((f) => f.length >= MIN_SECRET_CHARS);
}

function rebuild(): void {
  const all = [...secrets].sort((a, b) => b.length - a.length);
  pattern = all.length ? new RegExp(all.map(escapeRegExp).join('|'), 'g') : undefined;
}

/**
 * Registers a secret value (and its encodings) for redaction. Values shorter than
 * {@link MIN_SECRET_CHARS} and `undefined` are ignored. Returns a function that unregisters it.
 */
export function registerSecret(value: string | undefined): () => void {
  if (!value || value.length < MIN_SECRET_CHARS) return () => undefined;
  const forms = formsOf(value).filter((f) => !secrets.has(f));
  for (const f of forms) secrets.add(f);
  rebuild();
  return () => {
    for (const f of forms) secrets.delete(f);
    rebuild();
  };
}

/** Registers every defined value of a secrets object (e.g. `Secrets` read from the environment). */
export function registerSecrets(values: Record<string, string | undefined>): void {
  for (const v of Object.values(values)) registerSecret(v);
}

/** `text` with every registered secret replaced by {@link REDACTED}. */
export function redact(text: string): string {
  if (!pattern || text.length < MIN_SECRET_CHARS) return text;
  pattern.lastIndex = 0;
  return text.replace(pattern, REDACTED);
}

/**
 * A deep copy of a JSON-like value with every string redacted (object keys included). Errors
 * become `{ name, message, stack }` with those redacted. Cycles are cut (`[cycle]`).
 */
export function redactDeep<T>(value: T): T {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return '[cycle]';
    seen.add(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v instanceof Error) return { name: v.name, message: redact(v.message), stack: v.stack ? redact(v.stack) : undefined };
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) out[redact(k)] = walk(val);
    return out;
  };
  return (pattern ? walk(value) : value) as T;
}

/** A copy of `err` safe to carry across the process boundary: its message and stack redacted, its cause too. */
export function redactError(err: Error): Error {
  const copy = new Error(redact(err.message));
  copy.name = err.name;
  copy.stack = err.stack ? redact(err.stack) : undefined;
  if (err.cause instanceof Error) (copy as { cause?: unknown }).cause = redactError(err.cause);
  return copy;
}
