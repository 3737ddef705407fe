/**
 * A run's time by phase from its workflow history (bench/overhead.bench.ts): every activity with
 * its queue wait (scheduled → started) and run time (started → completed), and the time the
 * workflow spent between activities (workflow tasks, timers, signals: no activity outstanding).
 */
import type { Client } from '@temporalio/client';
import { activityType, historyOf } from './history.js';

/** One activity of the run. */
export interface ActivitySpan {
  name: string;
  /** Epoch ms. */
  scheduledAt: number;
  startedAt: number;
  completedAt: number;
  /** started → completed, ms. */
  runMs: number;
}

/** A run's history, summarized. */
export interface RunPhases {
  activities: ActivitySpan[];
  /** Sum of scheduled → started over all activities, ms. */
  queueMs: number;
  /** Time with no activity outstanding between the first and the last event, ms. */
  gapMs: number;
  /** First event → last event, ms. */
  totalMs: number;
  /** The first event's time, epoch ms. */
  firstEventAt: number;
}

/** Reads the phases of a closed run (its latest execution; continue-as-new not followed). */
export async function phasesOf(client: Client, workflowId: string): Promise<RunPhases> {
  const ev = await historyOf(client, workflowId);
  const spans: ActivitySpan[] = [];
  for (const s of ev.filter((e) => e.kind === 'activityTaskScheduled')) {
    const started = ev.find((e) => e.kind === 'activityTaskStarted' && Number(e.attrs.scheduledEventId) === s.id);
    const closed = ev.find((e) => /^activityTask(Completed|Failed|TimedOut|Canceled)$/.test(e.kind) && Number(e.attrs.scheduledEventId) === s.id);
    if (!started || !closed) continue;
    spans.push({ name: activityType(s) ?? '?', scheduledAt: s.at, startedAt: started.at, completedAt: closed.at, runMs: closed.at - started.at });
  }
  const first = ev[0]!.at;
  const last = ev.at(-1)!.at;
  // Union of the activities' [scheduled, completed] intervals; the rest is the workflow's own time.
  const sorted = [...spans].sort((a, b) => a.scheduledAt - b.scheduledAt);
  let covered = 0;
  let end = -Infinity;
  for (const a of sorted) {
    if (a.completedAt <= end) continue;
    covered += a.completedAt - Math.max(a.scheduledAt, end);
    end = a.completedAt;
  }
  return { activities: spans, queueMs: spans.reduce((s, a) => s + (a.startedAt - a.scheduledAt), 0), gapMs: last - first - covered, totalMs: last - first, firstEventAt: first };
}
