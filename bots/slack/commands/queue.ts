/**
 * `/nightshift queue`: open runs (Temporal visibility: `WorkflowType = 'agentTask' AND
 * ExecutionStatus = 'Running'`), each with its phase when it answers quickly (waiting for its
 * window vs working), and when each repository's run window opens (config `repos.*.window`, UTC).
 */
import type { Config } from '../../../worker/config.js';
import { describeWindow, openings, toRunWindow } from '../../../queue/window.js';
import { ephemeral, type CommandContext } from './context.js';

/** Runs listed at most. */
export const QUEUE_LIMIT = 15;
/** Per-run `status` query timeout, ms (the whole answer stays well within `response_url`'s life). */
const PHASE_TIMEOUT_MS = 1_000;
/** Phases of a run that does not hold a sandbox yet: scoping, its window, its spend cap, a queue slot. */
const WAITING_PHASES: ReadonlySet<string> = new Set(['scoping', 'waiting_for_window', 'waiting_for_budget', 'queued']);

export async function queueCommand(ctx: CommandContext): Promise<void> {
  const { deps } = ctx;
  const now = deps.now?.() ?? Date.now();
  const open = await deps.runs.listOpen(QUEUE_LIMIT);
  const phases = await Promise.all(open.map((r) => deps.runs.status(r.workflowId, PHASE_TIMEOUT_MS)));
  const waiting: string[] = [];
  const running: string[] = [];
  open.forEach((r, i) => {
    const phase = phases[i]?.phase;
    const line = `• \`${r.workflowId}\` since ${new Date(r.startedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC${phase ? ` (${phase.replace(/_/g, ' ')})` : ''}`;
    (phase !== undefined && WAITING_PHASES.has(phase) ? waiting : running).push(line);
  });
  const windows = windowLines(deps.config, now);
  const text = [
    `*Waiting* (${waiting.length})`,
    ...(waiting.length ? waiting : ['• none']),
    `*Running* (${running.length})${open.length >= QUEUE_LIMIT ? ` (first ${QUEUE_LIMIT} open runs)` : ''}`,
    ...(running.length ? running : ['• none']),
    '*Run windows*',
    ...(windows.length ? windows : ['• every repository runs at once (no window configured)']),
  ].join('\n');
  await ephemeral(ctx, { text });
}

/** One line per repository with a window: open now, or opens in how long (queue/window.ts; local zones, DST). */
export function windowLines(config: Pick<Config, 'repos'>, now: number): string[] {
  const out: string[] = [];
  for (const [name, repo] of Object.entries(config.repos)) {
    if (!repo.window) continue;
    const w = toRunWindow(repo.window);
    const range = describeWindow(w);
    const next = openings(w, now, now + 15 * 24 * 3_600_000).find((o) => o.closeMs > now);
    if (next && next.openMs <= now) out.push(`• \`${name}\`: ${range}, open now`);
    else if (next) {
      const wait = Math.ceil((next.openMs - now) / 60_000);
      out.push(`• \`${name}\`: ${range}, opens in ${Math.floor(wait / 60)}h${pad(wait % 60)}`);
    }
  }
  return out;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
