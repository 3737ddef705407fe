/**
 * The stuck rules, one small state machine each, fed by {@link ./detector.ts} with the facts of
 * every tool call and every file change (the rules themselves are described in ./index.ts).
 */
import type { StuckThresholds } from '../../worker/config.js';
import type { StuckRule, StuckVerdict } from '../../workflows/types.js';
import { clip, iso, type ToolCall } from './describe.js';
import { EVIDENCE_CHARS, normalizeVolatile, OUTCOME_CHARS } from './normalize.js';

/** A call as remembered for evidence: when (Unix ms) and how it is shown. */
export interface Seen {
  at: number;
  call: string;
}

/** What the detector knows of one tool call. */
export interface CallFacts {
  ev: ToolCall;
  /** Tool name + normalized input ({@link callKey}). */
  key: string;
  seen: Seen;
  failed: boolean;
  /** Error signature of a failed call ('' when none). */
  signature: string;
  /** A read-only tool or shell command ({@link isReadOnlyCall}). */
  readOnly: boolean;
  /** A successful edit tool: its `file_change` follows. */
  edited: boolean;
  /** A shell command that runs the tests. */
  isTest: boolean;
}

/** Builds a verdict, evidence lines clipped. */
export function decide(rule: StuckRule, repeats: number, startedAt: number, decidedAt: number, message: string, evidence: string[]): StuckVerdict {
  return { rule, repeats, startedAt, decidedAt, message, evidence: evidence.map((e) => clip(e, 2 * EVIDENCE_CHARS)) };
}

/** `repeated_failing_call`: failures per call key since the last file change / success of that call. */
export class RepeatedFailingCall {
  private failures = new Map<string, { seen: Seen[]; error: string }>();

  onCall(f: CallFacts, t: StuckThresholds): StuckVerdict | undefined {
    if (!f.failed) {
      this.failures.delete(f.key);
      return undefined;
    }
    const entry = this.failures.get(f.key) ?? { seen: [], error: f.signature };
    entry.seen.push(f.seen);
    if (f.signature) entry.error = f.signature;
    this.failures.set(f.key, entry);
    if (entry.seen.length < t.repeatedFailingCall) return undefined;
    return decide(
      'repeated_failing_call',
      entry.seen.length,
      entry.seen[0]!.at,
      f.ev.at,
      `the same call failed ${entry.seen.length} times with no file change in between: ${f.seen.call}`,
      [`call: ${f.seen.call}`, ...(entry.error ? [`error: ${entry.error}`] : []), `failed at: ${entry.seen.map((s) => iso(s.at)).join(', ')}`],
    );
  }

  onFileChange(): void {
    this.failures.clear();
  }
}

/** `repeated_error`: per error signature, the first failure of each distinct call, since the last file change. */
export class RepeatedError {
  private errors = new Map<string, Map<string, Seen>>();

  onCall(f: CallFacts, t: StuckThresholds): StuckVerdict | undefined {
    if (!f.signature) return undefined;
    const calls = this.errors.get(f.signature) ?? new Map<string, Seen>();
    if (!calls.has(f.key)) calls.set(f.key, f.seen);
    this.errors.set(f.signature, calls);
    if (calls.size < t.repeatedError) return undefined;
    const all = [...calls.values()];
    return decide(
      'repeated_error',
      calls.size,
      all[0]!.at,
      f.ev.at,
      `the same error came back from ${calls.size} different calls: ${clip(f.signature, 160)}`,
      [`error: ${f.signature}`, ...all.map((s) => `call at ${iso(s.at)}: ${s.call}`)],
    );
  }

  onFileChange(): void {
    this.errors.clear();
  }
}

/** `alternating_loop`: the last calls since the last file change, with their normalized outcomes. */
export class AlternatingLoop {
  private recent: { key: string; outcome: string; seen: Seen }[] = [];

  onCall(f: CallFacts, t: StuckThresholds): StuckVerdict | undefined {
    const outcome = `${f.failed ? 'E' : 'O'}:${normalizeVolatile(f.ev.result).slice(0, OUTCOME_CHARS)}`;
    this.recent.push({ key: f.key, outcome, seen: f.seen });
    const span = 2 * t.alternatingCycles;
    if (this.recent.length > span) this.recent.shift();
    if (this.recent.length < span) return undefined;
    const [a, b] = this.recent;
    const alternates =
      a!.key !== b!.key && this.recent.every((r, i) => (i % 2 === 0 ? r.key === a!.key && r.outcome === a!.outcome : r.key === b!.key && r.outcome === b!.outcome));
    if (!alternates) return undefined;
    return decide(
      'alternating_loop',
      t.alternatingCycles,
      a!.seen.at,
      f.ev.at,
      `the agent alternated between the same two calls ${t.alternatingCycles} times, with the same results and no file change`,
      [`A: ${a!.seen.call}`, `B: ${b!.seen.call}`, `calls at: ${this.recent.map((r) => iso(r.seen.at)).join(', ')}`],
    );
  }

  onFileChange(): void {
    this.recent = [];
  }
}

/** The open no-progress window: since a failing test run, or a file change made while the last run failed. */
interface Window {
  startedAt: number;
  /** Calls that count (neither read-only nor a successful edit). */
  calls: Seen[];
  /** Read-only calls, counted against their own, larger cap. */
  readOnly: number;
  test: string;
  excerpt: string;
}

/** What {@link NoProgress.onCall} decided: a verdict now, or one that a file change from this very call would cancel. */
export interface NoProgressOutcome {
  verdict?: StuckVerdict;
  /** Reached on a call that may itself have changed files: stands unless a file change follows. */
  unlessChanged?: StuckVerdict;
}

/** `no_progress`: counts calls without a file change while the most recent test run failed. */
export class NoProgress {
  private window: Window | undefined;
  private lastTest: { failed: boolean; call: string; excerpt: string } | undefined;

  onCall(f: CallFacts, t: StuckThresholds): NoProgressOutcome {
    if (f.isTest) {
      const excerpt = f.signature || clip(normalizeVolatile(f.ev.result).split('\n').slice(-3).join(' | '));
      this.lastTest = { failed: f.failed, call: f.seen.call, excerpt };
      if (!f.failed) this.window = undefined;
      else if (!this.window) this.window = { startedAt: f.ev.at, calls: [], readOnly: 0, test: f.seen.call, excerpt };
      else {
        this.window.test = f.seen.call;
        this.window.excerpt = excerpt;
      }
    }
    const w = this.window;
    if (!w || f.edited) return {};
    if (f.readOnly) {
      w.readOnly++;
      if (w.readOnly < t.readOnlyCalls) return {};
      return { verdict: this.verdict(w, f, `${w.readOnly} read-only calls without a file change while the tests keep failing`, w.readOnly) };
    }
    w.calls.push(f.seen);
    const n = w.calls.length;
    if (n < t.noProgressCalls) return {};
    const notCounted = w.readOnly > 0 ? ` (read-only calls not counted: ${w.readOnly})` : '';
    const verdict = this.verdict(w, f, `${n} tool calls without a file change while the tests keep failing${notCounted}`, n);
    // A test run is judged by its result; anything else that is not read-only may have changed files.
    return f.isTest ? { verdict } : { unlessChanged: verdict };
  }

  onFileChange(at: number): void {
    // The change may be the fix; until the tests run again, count from here if they were failing.
    this.window = this.lastTest?.failed ? { startedAt: at, calls: [], readOnly: 0, test: this.lastTest.call, excerpt: this.lastTest.excerpt } : undefined;
  }

  private verdict(w: Window, f: CallFacts, message: string, repeats: number): StuckVerdict {
    return decide('no_progress', repeats, w.startedAt, f.ev.at, message, [
      `failing test run: ${w.test}`,
      ...(w.excerpt ? [`test error: ${w.excerpt}`] : []),
      `since ${iso(w.startedAt)}; last calls: ${[...w.calls.slice(-3).map((s) => s.call), ...(f.readOnly ? [f.seen.call] : [])].slice(-3).join(' ; ')}`,
    ]);
  }
}
