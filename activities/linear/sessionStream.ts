/**
 * The live activity stream of an attempt in a Linear agent session: the normalized agent events
 * (what runAgent feeds the stuck detector) become `action` activities for the calls that matter
 * (commands and edits: tool name, parameter, result truncated) and ephemeral `thought`s for the
 * agent's messages (https://linear.app/developers/agent-interaction#activity-content-payload).
 *
 * Volume: at most one post per `intervalMs` (default 20 s); calls arriving meanwhile are batched
 * into the next post's result text, and a thought is dropped when actions are waiting (it is
 * ephemeral anyway). A post waits while the shared request budget is low (./rateBudget.ts), so
 * events accumulate instead of spending what final messages need. Requests of an attempt of
 * duration T: at most ceil(T / intervalMs) + 2 (the last at {@link LinearSessionStream.close}),
 * i.e. ≤ 32 for a 10-minute attempt at the default, however many calls it makes; the volume
 * test asserts it for 200 calls.
 *
 * Ids are client-chosen and deterministic per (workflowId, attempt, sequence): a retried
 * activity that replays the same posts is told "already exists", which counts as posted.
 * Texts pass through worker/redact.ts. Errors are reported to `onError`, never thrown: the
 * stream never fails an attempt.
 */
import { LinearErrorType, type LinearClient } from '@linear/sdk';
import type { AgentEvent } from '../../workflows/types.js';
import { redact } from '../../worker/redact.js';
import { commandOf } from '../stuck.js';
import { deterministicId, linearEntityExists, postAgentActivity, type AgentActivityContent } from './client.js';
import { LinearApiError } from './errors.js';
import { budgetOf, type LinearRequestBudget } from './rateBudget.js';

/** Timers and time, injectable for tests. */
export interface StreamClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: StreamClock = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

/** Options of {@link LinearSessionStream}. */
export interface SessionStreamOptions {
  client: LinearClient;
  agentSessionId: string;
  workflowId: string;
  attempt: number;
  /** Least time between two posts, ms (default 20,000). */
  intervalMs?: number;
  /** Characters of a call's result shown (default 400). */
  resultChars?: number;
  clock?: StreamClock;
  /** Default: the client's own budget (createLinearClient binds one). */
  budget?: LinearRequestBudget;
  onError?: (err: unknown) => void;
}

/** Default least time between two posts, ms. */
export const DEFAULT_STREAM_INTERVAL_MS = 20_000;

/** Earlier steps listed by name in a batched post (the rest are counted). */
const MAX_LISTED = 20;

type ToolCall = Extract<AgentEvent, { kind: 'tool_call' }>;

/** Tools that change files (Claude Code, Codex). */
const EDIT_TOOLS = new Set(['edit', 'multiedit', 'write', 'notebookedit', 'apply_patch', 'write_file', 'edit_file']);

/** One call worth showing. */
interface Step {
  action: string;
  parameter: string;
  outcome: string;
  result: string;
}

const oneLine = (s: string, max: number): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length <= max ? t : `${t.slice(0, max - 1)}…`;
};

/** The step a tool call shows, or undefined for calls that do not matter (reads, searches, todo lists). */
export function stepOf(ev: ToolCall, resultChars = 400): Step | undefined {
  const command = commandOf(ev.input);
  const input = (ev.input && typeof ev.input === 'object' ? ev.input : {}) as Record<string, unknown>;
  let action: string;
  let parameter: string;
  if (command !== undefined) {
    action = `Ran (${ev.name})`;
    parameter = oneLine(command, 200);
  } else if (EDIT_TOOLS.has(ev.name.toLowerCase())) {
    const path = input.file_path ?? input.path ?? input.notebook_path;
    const patched = typeof input.input === 'string' ? /\*\*\* (?:Update|Add|Delete) File: (.+)/.exec(input.input)?.[1] : undefined;
    action = `Edited (${ev.name})`;
    parameter = oneLine(typeof path === 'string' ? path.replace(/^\/workspace\//, '') : (patched ?? ev.name), 200);
  } else {
    return undefined;
  }
  const failedCall = ev.isError || (ev.exitCode !== undefined && ev.exitCode !== 0);
  const outcome = ev.exitCode !== undefined ? `exit ${ev.exitCode}` : failedCall ? 'error' : 'ok';
  const text = ev.result.trim();
  const result = text.length <= resultChars ? text : `${text.slice(0, resultChars)}… (${text.length - resultChars} more characters)`;
  return { action: redact(action), parameter: redact(parameter), outcome, result: redact(result) };
}

/** Posts an attempt's activity to its session; see the module comment. */
export class LinearSessionStream {
  private readonly clock: StreamClock;
  private readonly intervalMs: number;
  private readonly budget: LinearRequestBudget | undefined;
  private pending: Step[] = [];
  private thought: string | undefined;
  private lastPostAt = Number.NEGATIVE_INFINITY;
  private timer: unknown;
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Posts made (or found already made), for logs and tests. */
  posts = 0;

  constructor(private readonly opts: SessionStreamOptions) {
    this.clock = opts.clock ?? realClock;
    this.intervalMs = opts.intervalMs ?? DEFAULT_STREAM_INTERVAL_MS;
    this.budget = opts.budget ?? budgetOf(opts.client);
  }

  /** Takes one normalized event of the attempt (already redacted by runAgent; redacted again here). */
  push(ev: AgentEvent): void {
    if (this.closed) return;
    if (ev.kind === 'tool_call') {
      const step = stepOf(ev, this.opts.resultChars);
      if (!step) return;
      this.pending.push(step);
    } else if (ev.kind === 'message' && ev.text.trim()) {
      this.thought = redact(oneLine(ev.text, 500));
    } else {
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    const wait = Math.max(0, this.lastPostAt + this.intervalMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush(false);
    }, wait);
  }

  /** Builds the next post from what is waiting, or nothing. */
  private next(): { content: AgentActivityContent; ephemeral: boolean; steps: Step[] } | undefined {
    const steps = this.pending;
    if (steps.length > 0) {
      this.pending = [];
      this.thought = undefined;
      const last = steps.at(-1)!;
      const shown = steps.slice(0, -1).slice(-MAX_LISTED);
      const earlier = shown.map((s) => `- ${s.action}: ${oneLine(s.parameter, 120)} → ${s.outcome}`);
      if (steps.length - 1 > shown.length) earlier.unshift(`- … ${steps.length - 1 - shown.length} more`);
      const lastResult = `${last.outcome}${last.result ? `\n${last.result}` : ''}`;
      const result = earlier.length ? `${steps.length - 1} earlier step(s):\n${earlier.join('\n')}\n\nLast: ${lastResult}` : lastResult;
      const action = steps.length === 1 ? last.action : `${last.action} (+${steps.length - 1} earlier)`;
      return { content: { type: 'action', action, parameter: last.parameter, result }, ephemeral: false, steps };
    }
    if (this.thought) {
      const body = this.thought;
      this.thought = undefined;
      return { content: { type: 'thought', body }, ephemeral: true, steps: [] };
    }
    return undefined;
  }

  private flush(force: boolean): void {
    if (!force && this.budget && !this.budget.progressAllowed()) {
      // Low budget: keep accumulating, try again after another interval.
      this.lastPostAt = this.clock.now();
      this.schedule();
      return;
    }
    const post = this.next();
    if (!post) return;
    this.lastPostAt = this.clock.now();
    const id = deterministicId(this.opts.workflowId, 'attempt', this.opts.attempt, 'stream', ++this.seq);
    this.chain = this.chain.then(() => this.send(post, id));
  }

  private async send(post: NonNullable<ReturnType<LinearSessionStream['next']>>, id: string): Promise<void> {
    const { client, agentSessionId } = this.opts;
    try {
      await postAgentActivity(client, agentSessionId, post.content, { id, ephemeral: post.ephemeral, priority: 'progress' });
      this.posts++;
    } catch (err) {
      if (err instanceof LinearApiError && err.reason === LinearErrorType.InvalidInput && (await linearEntityExists(client, 'agentActivity', id).catch(() => false))) {
        this.posts++; // posted by an earlier try of this activity
        return;
      }
      if (err instanceof LinearApiError && err.retryable && !this.closed) {
        // Shown with the next post instead (the budget is paused on a rate limit).
        this.pending = [...post.steps, ...this.pending];
        this.schedule();
      }
      this.opts.onError?.(err);
    }
  }

  /** Resolves when no post is in flight (tests). */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Posts what is still waiting (at once, whatever the interval) and waits for every post to end. */
  async close(): Promise<void> {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain;
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.flush(true);
    await this.chain;
  }
}
