/**
 * Deliveries acted on, by the event they carry (deliveryKey.ts; not `webhookId`, which names the webhook), so that a redelivery (Linear retries when the answer
 * is slow or not 2xx, up to 3 times with backoff) acts once. In memory, per process, bounded
 * ({@link DeliveryLog.max} ids, oldest dropped first) and kept for {@link SEEN_TTL_MS}. A
 * delivery still being handled is joined, not repeated. Durable protection is elsewhere: runs
 * carry the starting event's key in their memo, and the workflow acts on a reply id once.
 */

/** How long a handled delivery is remembered, ms (Linear's retries span well under an hour). */
export const SEEN_TTL_MS = 2 * 3_600_000;

/** Handled and in-flight deliveries. */
export class DeliveryLog<T> {
  private readonly done = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<T>>();
  constructor(
    readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs `act` for a delivery id once: `repeat` when the id was handled (nothing run), the
   * in-flight promise when it is being handled, otherwise `act()` (recorded only when it resolves,
   * so a failed delivery is acted on again when redelivered).
   */
  async once(id: string | undefined, act: () => Promise<T>): Promise<{ repeat: true } | { repeat: false; value: T }> {
    if (!id) return { repeat: false, value: await act() };
    this.prune();
    if (this.done.has(id)) return { repeat: true };
    const running = this.inflight.get(id);
    if (running) {
      await running;
      return { repeat: true };
    }
    const p = act();
    this.inflight.set(id, p);
    try {
      const value = await p;
      this.done.set(id, this.now());
      return { repeat: false, value };
    } finally {
      this.inflight.delete(id);
    }
  }

  private prune(): void {
    const t = this.now();
    for (const [k, at] of this.done) {
      if (t - at <= SEEN_TTL_MS && this.done.size < this.max) break;
      this.done.delete(k);
    }
  }
}
