/**
 * Where a run's activities went, read from its Temporal history (workspace affinity tests): each
 * scheduled activity's type and task queue, and the identity (`<pid>@<host>`) of the worker that
 * started it.
 */
import type { Client } from '@temporalio/client';
import protos from '@temporalio/proto';

const { TimeoutType } = protos.temporal.api.enums.v1;

/** One activity of a run's history. */
export interface ScheduledActivity {
  /** Activity type, e.g. `runAgent`. */
  type: string;
  /** Task queue it was scheduled on, e.g. `nq@host-a`. */
  taskQueue: string;
  /** Identity of the worker that started it (Temporal's default: `<pid>@<hostname>`), if one did. */
  startedBy?: string;
  /** The timeout that ended it (`SCHEDULE_TO_START`, `HEARTBEAT`…), if it timed out. */
  timedOut?: string;
}

/** The run's activities in scheduling order. */
export async function scheduledActivities(client: Client, workflowId: string): Promise<ScheduledActivity[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const byId = new Map<string, ScheduledActivity>();
  const list: ScheduledActivity[] = [];
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const a: ScheduledActivity = { type: s.activityType?.name ?? '', taskQueue: s.taskQueue?.name ?? '' };
      byId.set(id, a);
      list.push(a);
    }
    const st = e.activityTaskStartedEventAttributes;
    if (st) {
      const a = byId.get(String(st.scheduledEventId));
      if (a) a.startedBy = st.identity ?? undefined;
    }
    const t = e.activityTaskTimedOutEventAttributes;
    if (t) {
      const a = byId.get(String(t.scheduledEventId));
      const type = t.failure?.timeoutFailureInfo?.timeoutType;
      if (a) a.timedOut = type === undefined || type === null ? 'unknown' : (TimeoutType[type] ?? String(type)).replace(/^TIMEOUT_TYPE_/, '');
    }
  }
  return list;
}

/** The host ids (`<taskQueue>@<hostId>` queues) a run's activities were scheduled on, in first-use order. */
export function hostsOf(acts: ScheduledActivity[], taskQueue: string): string[] {
  const prefix = `${taskQueue}@`;
  const hosts: string[] = [];
  for (const a of acts) {
    if (!a.taskQueue.startsWith(prefix)) continue;
    const h = a.taskQueue.slice(prefix.length);
    if (!hosts.includes(h)) hosts.push(h);
  }
  return hosts;
}
