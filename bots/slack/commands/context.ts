/** What a `/nightshift` subcommand handler receives (after the dispatcher has acked). */
import type { RespondFn, SlashCommand } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { SlackDeps } from '../deps.js';

/** Arguments of a subcommand handler; `respond` posts to the command's `response_url`. */
export interface CommandContext {
  deps: SlackDeps;
  command: SlashCommand;
  respond: RespondFn;
  client: WebClient;
}

/** Answers only the user who typed the command. */
export async function ephemeral(ctx: CommandContext, msg: { text: string; blocks?: unknown[] }): Promise<void> {
  await ctx.respond({ response_type: 'ephemeral', text: msg.text, ...(msg.blocks ? { blocks: msg.blocks as never } : {}) });
}
