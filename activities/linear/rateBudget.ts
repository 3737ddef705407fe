/**
 * A request budget per Linear API key, shared by every run of the process (Linear allows about
 * 5,000 requests an hour per key: https://linear.app/developers/rate-limiting).
 *
 * A token bucket: `capacity` tokens, refilled continuously at `requestsPerHour`. Every request
 * takes one token. Two priorities:
 * - `final` (responses, errors, elicitations, comments, plan and state changes): never dropped;
 *   {@link LinearRequestBudget.take} waits until a token is there;
 * - `progress` (ephemeral thoughts, live actions): callers ask {@link LinearRequestBudget.progressAllowed}
 *   first and coalesce or drop when it says no, which it does while fewer than `reserve` tokens
 *   are left, so that final messages always find room.
 * A rate-limited answer from Linear pauses the whole budget ({@link LinearRequestBudget.pause}).
 */
import { createHash } from 'node:crypto';

/** Sizing of a {@link LinearRequestBudget}. */
export interface RateBudgetSettings {
  /** Refill, requests an hour (default 4,500: a margin under Linear's 5,000). */
  requestsPerHour: number;
  /** Most tokens held (the largest burst; default 300). */
  capacity: number;
  /** Tokens kept for final messages: progress posts stop below it (default 30% of capacity). */
  reserve: number;
}

/** A clock (ms) and a sleep; injectable for tests. */
export interface BudgetClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: BudgetClock = { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };

/**
 * {@link LinearRequestBudget.take} gave up: its caller's signal aborted (the activity was
 * cancelled) or the token would come after the caller's deadline (the activity's time is up).
 * No token was taken. `details.waitMs`: how long the token was still away.
 */
export class BudgetWaitAbandoned extends Error {
  constructor(
    /** Why: `aborted` (the signal) or `deadline`. */
    readonly why: 'aborted' | 'deadline',
    /** How long the token was still away when the wait was given up, ms. */
    readonly waitMs: number,
  ) {
    super(why === 'aborted' ? 'the wait for a Linear request token was cancelled' : `a Linear request token is ${waitMs} ms away, past the caller's deadline`);
    this.name = 'BudgetWaitAbandoned';
  }
}

/** Bounds on a {@link LinearRequestBudget.take} wait. */
export interface TakeBounds {
  /** Aborts the wait (e.g. the activity's cancellation signal). */
  signal?: AbortSignal;
  /** Unix ms after which the request would be useless (e.g. the activity's start-to-close deadline). */
  deadline?: number;
}

/** Defaults of {@link RateBudgetSettings}. */
export const DEFAULT_RATE_BUDGET: RateBudgetSettings = { requestsPerHour: 4500, capacity: 300, reserve: 90 };

/** The token bucket; see the module comment. */
export class LinearRequestBudget {
  private tokens: number;
  private last: number;
  private pausedUntil = 0;
  private readonly settings: RateBudgetSettings;
  /** Requests taken, by priority (for logs and tests). */
  readonly taken = { final: 0, progress: 0 };

  constructor(settings: Partial<RateBudgetSettings> = {}, private readonly clock: BudgetClock = realClock) {
    this.settings = { ...DEFAULT_RATE_BUDGET, ...settings };
    this.tokens = this.settings.capacity;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.settings.capacity, this.tokens + ((now - this.last) * this.settings.requestsPerHour) / 3_600_000);
    this.last = now;
  }

  /** Tokens left now (fractional). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Whether a progress post may go now: not paused, and more than `reserve` tokens left. */
  progressAllowed(): boolean {
    return this.clock.now() >= this.pausedUntil && this.available() >= this.settings.reserve + 1;
  }

  /**
   * Takes one token, waiting for it (and for a pause to end) when there is none. `progress`
   * callers should have checked {@link progressAllowed}; they may still wait a moment.
   * A wait that outlives its caller is given up (no token taken): an activity that timed out
   * or was cancelled while waiting must not post later, when its retry posts too.
   * @throws BudgetWaitAbandoned when `bounds.signal` aborts, or the token would come after `bounds.deadline`
   */
  async take(priority: 'final' | 'progress', bounds: TakeBounds = {}): Promise<void> {
    for (;;) {
      if (bounds.signal?.aborted) throw new BudgetWaitAbandoned('aborted', 0);
      const now = this.clock.now();
      this.refill();
      const waitMs =
        now < this.pausedUntil ? this.pausedUntil - now : this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 3_600_000) / this.settings.requestsPerHour);
      if (waitMs === 0) {
        this.tokens -= 1;
        this.taken[priority]++;
        return;
      }
      if (bounds.deadline !== undefined && now + waitMs > bounds.deadline) throw new BudgetWaitAbandoned('deadline', waitMs);
      await this.sleepUnlessAborted(waitMs, bounds.signal);
    }
  }

  /** The clock's sleep, cut short when `signal` aborts (the loop in {@link take} then throws). */
  private async sleepUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (!signal) return this.clock.sleep(ms);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<void>((resolve) => {
      onAbort = resolve;
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.clock.sleep(ms), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  /** Linear said "rate limited, retry after `ms`": nothing is sent until then, and the bucket is emptied. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
    this.tokens = 0;
    this.last = this.clock.now();
  }
}

/**
 * Settings for a budget of `requestsPerHour` (config `linear.requestsPerHour`): the default burst
 * (300) or five minutes' worth when that is less, with 30% of it kept for final messages.
 */
export function budgetSettingsFor(requestsPerHour: number): RateBudgetSettings {
  const capacity = Math.max(10, Math.min(DEFAULT_RATE_BUDGET.capacity, Math.round(requestsPerHour / 12)));
  return { requestsPerHour, capacity, reserve: Math.ceil(capacity * 0.3) };
}

const shared = new Map<string, LinearRequestBudget>();

/**
 * The process-wide budget of an API key (keyed by a hash of it: the key itself is kept nowhere).
 * The first call's settings size it.
 */
export function budgetForKey(apiKey: string, settings?: Partial<RateBudgetSettings>): LinearRequestBudget {
  const id = createHash('sha256').update(apiKey).digest('hex');
  let budget = shared.get(id);
  if (!budget) {
    budget = new LinearRequestBudget(settings);
    shared.set(id, budget);
  }
  return budget;
}

const byClient = new WeakMap<object, LinearRequestBudget>();

/** Binds a budget to a client: every call of ./client.ts through that client takes from it. */
export function attachBudget(client: object, budget: LinearRequestBudget): void {
  byClient.set(client, budget);
}

/** The budget bound to a client, if any. */
export function budgetOf(client: object): LinearRequestBudget | undefined {
  return byClient.get(client);
}
