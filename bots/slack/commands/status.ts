/** `/nightshift status [id]`: ephemeral status of a run (the user's last run started here when no id). */
import type { RunStatus } from '../../../workflows/types.js';
import { USAGE } from './parse.js';
import { ephemeral, type CommandContext } from './context.js';

/** How long the `status` query may take before the visibility record alone is shown, ms. */
export const STATUS_QUERY_TIMEOUT_MS = 2_000;

export async function statusCommand(ctx: CommandContext, id: string | undefined): Promise<void> {
  const { deps, command } = ctx;
  const workflowId = id ?? deps.lastRuns.get(command.user_id);
  if (!workflowId) {
    await ephemeral(ctx, { text: `I do not know your last run (none started here since I last restarted). Give its id: ${USAGE.status}.` });
    return;
  }
  const info = await deps.runs.describe(workflowId);
  if (!info) {
    await ephemeral(ctx, { text: `There is no run \`${workflowId}\`. Ids look like \`slack-C0123-1712345678.000100\`; ${USAGE.queue} lists the open ones.` });
    return;
  }
  const status = info.status === 'RUNNING' ? await deps.runs.status(workflowId, STATUS_QUERY_TIMEOUT_MS) : undefined;
  const head = `*\`${workflowId}\`*${info.request ? ` on \`${info.request.repo}\`: ${info.request.title}` : ''}`;
  const link = deps.runLink?.(workflowId);
  await ephemeral(ctx, { text: [head, describeStatus(info.status, status), link ? `<${link}|Open in Temporal>` : ''].filter(Boolean).join('\n') });
}

/** One or two lines on a run's state (mrkdwn). */
export function describeStatus(execution: string, s: RunStatus | undefined): string {
  if (execution !== 'RUNNING') return `Finished: ${execution.toLowerCase().replace(/_/g, ' ')}.`;
  if (!s) return 'Running (its live status did not answer: the worker may be busy or down).';
  const spend = `$${s.spend.usd.toFixed(2)}${s.budget ? ` of $${s.budget.usd.toFixed(2)}` : ''}, ${s.spend.tokens.toLocaleString('en-US')} tokens`;
  const lines = [`Phase *${s.phase.replace(/_/g, ' ')}*, attempt ${s.attempt}/${s.maxAttempts}, spent ${spend}.`];
  if (s.lastEvents.length > 0) lines.push(`Last: ${s.lastEvents.slice(-3).map((e) => `\`${e.slice(0, 80)}\``).join(' · ')}`);
  return lines.join('\n');
}
