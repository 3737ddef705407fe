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

/** One message's pacing: when its last update finished (Unix ms), the newest `seq` asked for, a send in flight. */
interface MessagePace {
  at: number;
  seq: number;
  inFlight?: Promise<void>;
}

/**
 * Per-message pacing of updates, in one worker process. The interval is counted from the end of
 * the previous send (its answer), not its start: an update slowed on its way (a loaded host, a
 * slow network) never lands less than the interval before the next one.
 */
export class MessageThrottle {
  private readonly last = new Map<string, MessagePace>();
  constructor(
    private readonly minIntervalMs = MIN_UPDATE_INTERVAL_MS,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Runs `send` for message `key` at its turn, unless a newer `seq` supersedes it. Rejects with what `send` rejects. */
  async run(key: string, seq: number, send: () => Promise<void>): Promise<ThrottleResult> {
    const t = this.now();
    for (const [k, v] of this.last) if (!v.inFlight && t - v.at > FORGET_MS) this.last.delete(k);
    let pace = this.last.get(key);
    if (pace && seq < pace.seq) return 'superseded';
    if (pace) pace.seq = seq;
    else this.last.set(key, (pace = { at: Number.NEGATIVE_INFINITY, seq }));
    // Wait for a send in flight to finish, then for the interval after it; a newer update wins meanwhile.
    for (;;) {
      if (pace.seq > seq) return 'superseded';
      if (pace.inFlight) {
        await pace.inFlight;
        continue;
      }
      const wait = pace.at + this.minIntervalMs - this.now();
      if (wait <= 0) break;
      await this.sleep(wait);
    }
    const sending = send();
    pace.inFlight = sending.then(
      () => undefined,
      () => undefined,
    );
    try {
      await sending;
    } finally {
      pace.at = this.now();
      pace.inFlight = undefined;
    }
    return 'sent';
  }
}
