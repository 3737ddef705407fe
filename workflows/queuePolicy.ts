/**
 * The sandbox queue's admission policy, as pure functions over plain data (no Temporal APIs, so it
 * is deterministic and unit-testable): which waiting request gets the next free slot.
 *
 * Order: priority first (1 urgent … 4 low), then fairness between teams at that priority (the team
 * served least recently goes first: round-robin), then oldest first within a team. A request whose
 * repository is at its cap is skipped (the next eligible one is admitted: slots are never left idle
 * while something could run).
 */

/** Priority of a run: 1 urgent, 2 high, 3 normal (default), 4 low. Same scale as Linear's 1–4. */
export type QueuePriority = 1 | 2 | 3 | 4;

/** The default priority (normal). */
export const DEFAULT_PRIORITY: QueuePriority = 3;

/**
 * Maps a priority from a front end to the queue's: Linear's `priority` (0 none, 1 urgent … 4 low;
 * https://developers.linear.app/docs/graphql/working-with-the-graphql-api — Issue.priority), a
 * Slack `--priority` number or a CLI flag. 0, absent or out of range → {@link DEFAULT_PRIORITY}.
 */
export function normalizePriority(p: number | undefined | null): QueuePriority {
  return p === 1 || p === 2 || p === 3 || p === 4 ? p : DEFAULT_PRIORITY;
}

/** A run asking for a sandbox slot. */
export interface SlotRequest {
  /** The asking run's workflow id (one slot per run: a second request of the same id is a no-op). */
  workflowId: string;
  repo: string;
  /** Fairness key: the team the run belongs to ('' when none). */
  team: string;
  priority: QueuePriority;
  /** When the run first asked, epoch ms (oldest first within a team). */
  requestedAt: number;
  /** Global cap (concurrent sandboxes) as the asking worker's configuration says; the latest wins. */
  globalCap: number;
  /** The repository's cap, when it has one; the latest request for the repo sets it. */
  repoCap?: number;
}

/** A waiting request with its arrival sequence number (ties on `requestedAt`). */
export interface WaitingEntry extends SlotRequest {
  seq: number;
}

/** A run that holds a slot. */
export interface HolderEntry {
  workflowId: string;
  repo: string;
  team: string;
  priority: QueuePriority;
  requestedAt: number;
  /** When the slot was granted, epoch ms (workflow time). */
  grantedAt: number;
  /** The grant's number (1 = the coordinator's first grant ever; continues across continue-as-new). */
  grantSeq: number;
}

/** Caps in force: global and per repository (a repository without an entry has no cap of its own). */
export interface QueueCaps {
  global: number;
  repos: Record<string, number>;
}

/** Fairness memory: per priority, per team, the grant counter value when the team was last served. */
export type LastServed = Record<string, Record<string, number>>;

/** Whether `w` may be admitted now given the holders and caps. */
export function fits(w: Pick<SlotRequest, 'repo'>, running: readonly Pick<HolderEntry, 'repo'>[], caps: QueueCaps): boolean {
  if (running.length >= caps.global) return false;
  const cap = caps.repos[w.repo];
  return cap === undefined || running.filter((r) => r.repo === w.repo).length < cap;
}

/**
 * The index in `waiting` of the request to admit next, or -1 when none fits. `running` and `caps`
 * decide eligibility; pass `caps` undefined to ignore caps (queue positions).
 */
export function pickNext(waiting: readonly WaitingEntry[], running: readonly Pick<HolderEntry, 'repo'>[], caps: QueueCaps | undefined, lastServed: LastServed): number {
  if (caps && running.length >= caps.global) return -1;
  let best = -1;
  let bestKey: [number, number, number, number] | undefined;
  for (let i = 0; i < waiting.length; i++) {
    const w = waiting[i]!;
    if (caps && !fits(w, running, caps)) continue;
    const served = lastServed[String(w.priority)]?.[w.team] ?? -1;
    const key: [number, number, number, number] = [w.priority, served, w.requestedAt, w.seq];
    if (!bestKey || lessThan(key, bestKey)) {
      best = i;
      bestKey = key;
    }
  }
  return best;
}

function lessThan(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** Records that `team` was served at `priority` as grant number `counter` (mutates `lastServed`). */
export function markServed(lastServed: LastServed, priority: QueuePriority, team: string, counter: number): void {
  (lastServed[String(priority)] ??= {})[team] = counter;
}

/**
 * The order in which the waiting requests would be admitted if slots freed one by one and no cap
 * held anyone back: workflow ids, first = next. O(n²); n is the queue length (thousands at most).
 */
export function admissionOrder(waiting: readonly WaitingEntry[], lastServed: LastServed, counter: number): string[] {
  const rest = [...waiting];
  const served: LastServed = JSON.parse(JSON.stringify(lastServed)) as LastServed;
  const order: string[] = [];
  let c = counter;
  while (rest.length) {
    const i = pickNext(rest, [], undefined, served);
    const [w] = rest.splice(i, 1);
    markServed(served, w!.priority, w!.team, ++c);
    order.push(w!.workflowId);
  }
  return order;
}
