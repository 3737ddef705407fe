/**
 * `/nightshift`: the dispatcher. Parses the text (pure, fast); bad input is answered in the ack
 * itself (an ephemeral message naming the problem and the correct form; nothing started).
 * Otherwise it acks at once (Slack wants the ack within 3 s) and then runs the subcommand, which
 * answers through `response_url` and `chat.*`.
 */
import type { AllMiddlewareArgs, App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { SlackDeps } from '../deps.js';
import { cancelCommand } from './cancel.js';
import type { CommandContext } from './context.js';
import { helpCommand } from './help.js';
import { CommandInputError, parseCommand } from './parse.js';
import { queueCommand } from './queue.js';
import { runCommand } from './run.js';
import { statusCommand } from './status.js';

/** Bolt's arguments of a slash-command listener (what a test fakes). */
export type CommandArgs = Pick<SlackCommandMiddlewareArgs, 'command' | 'ack' | 'respond'> & Pick<AllMiddlewareArgs, 'client'>;

/** Handles one `/nightshift` invocation. Never throws: failures are logged and answered. */
export async function handleNightshiftCommand(deps: SlackDeps, { command, ack, respond, client }: CommandArgs): Promise<void> {
  let parsed;
  try {
    parsed = parseCommand(command.text ?? '', deps.config.repos);
  } catch (err) {
    if (!(err instanceof CommandInputError)) throw err;
    await ack({ response_type: 'ephemeral', text: err.message });
    return;
  }
  await ack();
  const ctx: CommandContext = { deps, command, respond, client };
  try {
    switch (parsed.kind) {
      case 'help':
        return await helpCommand(ctx);
      case 'run':
        await runCommand(ctx, parsed.args);
        return;
      case 'status':
        return await statusCommand(ctx, parsed.id);
      case 'cancel':
        return await cancelCommand(ctx, parsed.id);
      case 'queue':
        return await queueCommand(ctx);
    }
  } catch (err) {
    deps.logger.error({ err, subcommand: parsed.kind, user: command.user_id }, 'Slack command failed');
    await respond({ response_type: 'ephemeral', text: `\`${parsed.kind}\` failed: the queue did not answer. Try again in a minute.` }).catch(() => undefined);
  }
}

/** Registers `/nightshift` (or `slack.command`) on the app. */
export function registerCommands(app: App, deps: SlackDeps): void {
  app.command(deps.config.slack.command, (args) => handleNightshiftCommand(deps, args));
}
