/**
 * At most one `chat.update` a second per message (Slack: "about one update a second per
 * message"), latest state wins: an update that waits for its turn is dropped when a newer one
 * (higher `seq`) for the same message arrives meanwhile, and an update older than one already
 * sent is never sent.
 */

/** Least time between two updates of one message, ms. */
export const MIN_UPDATE_INTERVAL_MS = 1_000;
/** Messages not updated for this long are forgotten, ms. */
const FORGET_MS = 3_600_000;

/** What {@link MessageThrottle.run} did. */
export type ThrottleResult = 'sent' | 'superseded';

/** Per-message pacing of updates, in one worker process. */
export class MessageThrottle {
  private readonly last = new Map<string, { at: number; seq: number }>();
  constructor(
    private readonly minIntervalMs = MIN_UPDATE_INTERVAL_MS,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Runs `send` for message `key` at its turn, unless a newer `seq` supersedes it. Rejects with what `send` rejects. */
  async run(key: string, seq: number, send: () => Promise<void>): Promise<ThrottleResult> {
    const t = this.now();
    for (const [k, v] of this.last) if (t - v.at > FORGET_MS) this.last.delete(k);
    const prev = this.last.get(key);
    if (prev && seq < prev.seq) return 'superseded';
    const slot = prev ? Math.max(t, prev.at + this.minIntervalMs) : t;
    this.last.set(key, { at: slot, seq });
    if (slot > t) await this.sleep(slot - t);
    if ((this.last.get(key)?.seq ?? seq) > seq) return 'superseded';
    await send();
    return 'sent';
  }
}
