/** `/nightshift run [repo] <task> [--usd N] [--minutes N] [--agent codex] [--now]`: see `../startRun.ts`. */
import { startSlackRun, type StartResult } from '../startRun.js';
import { ephemeral, type CommandContext } from './context.js';
import type { RunArgs } from './parse.js';

/** Starts a run (or asks for its repository); answers the requester ephemerally. */
export function runCommand(ctx: CommandContext, args: RunArgs): Promise<StartResult> {
  return startSlackRun(
    { deps: ctx.deps, client: ctx.client, user: ctx.command.user_id, channel: ctx.command.channel_id, reply: (m) => ephemeral(ctx, m) },
    args,
    { kind: 'command' },
  );
}
