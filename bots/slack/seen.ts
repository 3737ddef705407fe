/**
 * Deliveries already handled, so that Slack's retries (`X-Slack-Retry-Num`, same `event_id`) and
 * duplicate events about the same message (same channel + `ts`) act once. In memory, per
 * process, for {@link SEEN_TTL_MS} (Slack retries three times within about an hour); bounded.
 */

/** How long a delivery is remembered, ms. */
export const SEEN_TTL_MS = 2 * 3_600_000;

/** A set of keys with a time to live. */
export class SeenDeliveries {
  private readonly at = new Map<string, number>();
  constructor(
    private readonly now: () => number = Date.now,
    private readonly max = 50_000,
  ) {}

  /** Records every key; true when one of them was already there (then the delivery is a repeat). */
  check(...keys: string[]): boolean {
    const t = this.now();
    for (const [k, v] of this.at) {
      if (t - v <= SEEN_TTL_MS && this.at.size <= this.max) break;
      this.at.delete(k);
    }
    const repeat = keys.some((k) => this.at.has(k));
    for (const k of keys) this.at.set(k, t);
    return repeat;
  }
}
