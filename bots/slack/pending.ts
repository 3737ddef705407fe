/**
 * Run requests that named no repository in a channel without a default one: kept in memory under
 * a random key carried by the repo picker's `block_id`, until the requester picks a repository
 * (or for {@link PENDING_TTL_MS}). After a restart the picker answers "run the command again".
 */
import { randomUUID } from 'node:crypto';
import type { RunArgs } from './commands/parse.js';

/** How long a request waits for its repository, ms (Slack's `response_url` lives 30 min). */
export const PENDING_TTL_MS = 30 * 60_000;

/** A request waiting for its repository. */
export interface PendingRun {
  user: string;
  channel: string;
  args: RunArgs;
  /** When it was asked, Unix ms. */
  at: number;
}

/** The waiting requests of this process. */
export class PendingRuns {
  private readonly items = new Map<string, PendingRun>();
  constructor(private readonly now: () => number = Date.now) {}

  /** Stores a request; returns its key (fits a `block_id`: 36 characters). */
  put(run: Omit<PendingRun, 'at'>): string {
    this.sweep();
    const key = randomUUID();
    this.items.set(key, { ...run, at: this.now() });
    return key;
  }

  /** Removes and returns the request under `key`, if it is still there. */
  take(key: string): PendingRun | undefined {
    this.sweep();
    const run = this.items.get(key);
    this.items.delete(key);
    return run;
  }

  private sweep(): void {
    for (const [k, v] of this.items) if (this.now() - v.at > PENDING_TTL_MS) this.items.delete(k);
  }
}
