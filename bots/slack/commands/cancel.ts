/**
 * `/nightshift cancel <id>`: the run's requester (role `requester`) or an approver/admin of its
 * repository (`cancel_any`) sends the `cancel` signal.
 */
import { ephemeral, type CommandContext } from './context.js';

export async function cancelCommand(ctx: CommandContext, workflowId: string): Promise<void> {
  const { deps, command } = ctx;
  const user = command.user_id;
  const info = await deps.runs.describe(workflowId);
  if (!info) {
    await ephemeral(ctx, { text: `There is no run \`${workflowId}\`; nothing was cancelled.` });
    return;
  }
  if (info.status !== 'RUNNING') {
    await ephemeral(ctx, { text: `\`${workflowId}\` has already finished (${info.status.toLowerCase()}); nothing to cancel.` });
    return;
  }
  const repo = info.request?.repo ?? '*';
  const own = info.request?.requester === user;
  const decision = await deps.roles.mayAct(user, repo, own ? 'cancel_own' : 'cancel_any');
  if (!decision.ok) {
    await ephemeral(ctx, { text: decision.message });
    return;
  }
  await deps.runs.cancel(workflowId, user, 'cancelled from Slack');
  await ephemeral(ctx, { text: `Cancelling \`${workflowId}\`: the run stops and reports in its thread.` });
}
