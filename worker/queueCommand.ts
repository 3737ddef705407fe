/**
 * `nightshift queue [--json]`: the sandbox queue as its coordinator (workflows/queueCoordinator.ts,
 * workflow id `nightshift-queue`) sees it: caps, runs holding a slot, runs waiting with their
 * positions (admission order: priority, team round-robin, oldest first).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Command } from 'commander';
import { COORDINATOR_ID, coordinatorIdFor, queueQuery, type QueueView } from '../workflows/queueCoordinator.js';
import type { Config } from './config.js';
import { connectClient } from './temporal.js';

const PRIORITY_NAMES: Record<number, string> = { 1: 'urgent', 2: 'high', 3: 'normal', 4: 'low' };

/**
 * The queue's state, or undefined when no run has asked for a slot yet (no coordinator).
 * @throws the client's error when the server cannot be reached or the query fails
 */
export async function readQueue(client: Client, coordinatorId = COORDINATOR_ID): Promise<QueueView | undefined> {
  try {
    return await client.workflow.getHandle(coordinatorId).query(queueQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

function age(fromMs: number, now: number): string {
  const m = Math.max(0, Math.round((now - fromMs) / 60_000));
  return m < 60 ? `${m}m` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}`;
}

/** The queue for a person: caps, running, waiting (positions). `now` in epoch ms. */
export function formatQueue(q: QueueView | undefined, now = Date.now()): string {
  if (!q) return 'queue: empty (no run has asked for a sandbox yet)';
  const caps = Object.entries(q.caps.repos).map(([r, n]) => `${r} ${n}`);
  const lines = [`caps      ${q.caps.global} at once${caps.length ? `; per repo: ${caps.join(', ')}` : ''}`, `running   ${q.running.length}`];
  for (const r of q.running) lines.push(`  ${r.workflowId}  ${r.repo}  ${r.team || '-'}  ${PRIORITY_NAMES[r.priority]}  for ${age(r.grantedAt, now)}`);
  lines.push(`waiting   ${q.waiting.length}`);
  for (const w of q.waiting) lines.push(`  ${String(w.position).padStart(3)}. ${w.workflowId}  ${w.repo}  ${w.team || '-'}  ${PRIORITY_NAMES[w.priority]}  waiting ${age(w.requestedAt, now)}`);
  return lines.join('\n');
}

/** Adds `queue` to the program. `load` reads the configuration (after option parsing). */
export function registerQueueCommand(program: Command, load: () => Config): void {
  program
    .command('queue')
    .description('show the sandbox queue: caps, runs holding a slot, runs waiting in admission order')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const config = load();
      const client = await connectClient(config);
      try {
        const q = await readQueue(client, coordinatorIdFor(config.temporal.taskQueue));
        process.stdout.write(o.json ? `${JSON.stringify(q ?? null, null, 2)}\n` : `${formatQueue(q)}\n`);
      } finally {
        await client.connection.close();
      }
    });
}
