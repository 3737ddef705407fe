/**
 * Reading times out of a workflow's history for the benchmarks: each event as (kind, epoch ms,
 * attributes), where kind is the name of its attributes field without `EventAttributes`
 * (`activityTaskScheduled`, `workflowExecutionSignaled`, `timerFired`, …).
 * History format: https://api-docs.temporal.io/#temporal.api.history.v1.HistoryEvent
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** One history event, flattened. */
export interface TimedEvent {
  /** Event id (1-based, in history order). */
  id: number;
  kind: string;
  /** Server time of the event, epoch ms (sub-ms precision). */
  at: number;
  /** The event's attributes object (kind-specific). */
  attrs: Record<string, unknown>;
}

function toMs(t: HistoryEvent['eventTime']): number {
  if (!t) return NaN;
  return Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6;
}

/** Flattens a raw history event. */
export function timed(e: HistoryEvent): TimedEvent {
  const key = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k] != null) ?? 'unknownEventAttributes';
  return { id: Number(e.eventId ?? 0), kind: key.replace(/EventAttributes$/, ''), at: toMs(e.eventTime), attrs: (e as Record<string, unknown>)[key] as Record<string, unknown> };
}

/** The whole history of a workflow (its latest run), flattened. */
export async function historyOf(client: Client, workflowId: string, runId?: string): Promise<TimedEvent[]> {
  const h = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (h.events ?? []).map(timed);
}

/** The first event of `kind` at or after `from` ms (and satisfying `pred`), or undefined. */
export function firstAfter(events: TimedEvent[], kind: string, from: number, pred: (e: TimedEvent) => boolean = () => true): TimedEvent | undefined {
  return events.find((e) => e.kind === kind && e.at >= from && pred(e));
}

/** The activity type of an `activityTaskScheduled` event. */
export function activityType(e: TimedEvent): string | undefined {
  return (e.attrs.activityType as { name?: string } | undefined)?.name ?? undefined;
}

/** The signal name of a `workflowExecutionSignaled` event. */
export function signalName(e: TimedEvent): string | undefined {
  return (e.attrs.signalName as string | undefined) ?? undefined;
}
