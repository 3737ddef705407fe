/**
 * Where a sandbox-slot handoff's time goes, from the histories of the releasing run (A), the
 * coordinator and the run it admits (B), for bench/queue.bench.ts. Segments (ms):
 * 1. A's work activity completed → A's release signal initiated (A's workflow task),
 * 2. → the coordinator has the release (the server delivers the external signal),
 * 3. → the coordinator's grant initiated (the coordinator's workflow task),
 * 4. → B has the grant (the server delivers it),
 * 5. → B's work activity scheduled (B's workflow task),
 * 6. → B's work activity started (the activity task reaches a worker).
 */
import type { Client } from '@temporalio/client';
import { firstAfter, historyOf, signalName, type TimedEvent } from './history.js';

/** The segment names, in order. */
export const HANDOFF_SEGMENTS = [
  'A: work done → release sent',
  'server: release → coordinator',
  'coordinator: release → grant sent',
  'server: grant → B',
  'B: grant → work scheduled',
  'server: work scheduled → started',
] as const;

/** One handoff: the releasing and admitted runs and the six segments (ms). */
export interface Handoff {
  from: string;
  to: string;
  segments: number[];
}

function payloadJson(e: TimedEvent): Record<string, unknown> | undefined {
  const p = (e.attrs.input as { payloads?: { data?: Uint8Array }[] } | undefined)?.payloads?.[0]?.data;
  return p ? (JSON.parse(Buffer.from(p).toString('utf8')) as Record<string, unknown>) : undefined;
}

/**
 * The handoffs of the coordinator's current run: every release followed by a grant (the first
 * `limit` of them after `from` ms).
 */
export async function handoffs(client: Client, coordinatorId: string, from: number, limit: number): Promise<Handoff[]> {
  const coord = await historyOf(client, coordinatorId);
  const out: Handoff[] = [];
  const cache = new Map<string, TimedEvent[]>();
  const hist = async (id: string) => cache.get(id) ?? cache.set(id, await historyOf(client, id)).get(id)!;
  for (const rel of coord) {
    if (out.length >= limit) break;
    if (rel.at < from || rel.kind !== 'workflowExecutionSignaled' || signalName(rel) !== 'releaseSlot') continue;
    const a = payloadJson(rel)?.workflowId as string | undefined;
    const grant = firstAfter(coord, 'signalExternalWorkflowExecutionInitiated', rel.at, (e) => e.id > rel.id);
    const b = (grant?.attrs.workflowExecution as { workflowId?: string } | undefined)?.workflowId;
    if (!a || !grant || !b) continue;
    const [ha, hb] = [await hist(a), await hist(b)];
    const aDone = [...ha].reverse().find((e) => e.kind === 'activityTaskCompleted' && e.at <= rel.at);
    const aSent = firstAfter(ha, 'signalExternalWorkflowExecutionInitiated', aDone?.at ?? Infinity);
    const bGot = firstAfter(hb, 'workflowExecutionSignaled', grant.at, (e) => signalName(e) === 'slotGranted');
    const bSched = firstAfter(hb, 'activityTaskScheduled', bGot?.at ?? Infinity);
    const bStart = bSched && hb.find((e) => e.kind === 'activityTaskStarted' && Number(e.attrs.scheduledEventId) === bSched.id);
    if (!aDone || !aSent || !bGot || !bSched || !bStart) continue;
    const marks = [aDone.at, aSent.at, rel.at, grant.at, bGot.at, bSched.at, bStart.at];
    out.push({ from: a, to: b, segments: marks.slice(1).map((t, i) => t - marks[i]!) });
  }
  return out;
}
