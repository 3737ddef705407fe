/** `/nightshift help` (also the empty command). */
import { USAGE } from './parse.js';
import { ephemeral, type CommandContext } from './context.js';

/** The help text (mrkdwn). */
export function helpText(command = '/nightshift'): string {
  const u = (s: string): string => s.replace('/nightshift', command);
  return [
    '*Nightshift* runs a coding agent on a task overnight and opens a pull request (or tells you why not).',
    `• ${u(USAGE.run)}: start a run. The repository defaults to this channel's; \`--usd\` / \`--minutes\` above the repository's budget need the *approver* role; \`--now\` skips the run window.`,
    `• ${u(USAGE.status)}: where a run is (your last run without an id).`,
    `• ${u(USAGE.cancel)}: stop a run.`,
    `• ${u(USAGE.queue)}: what is waiting and running, and when the windows open.`,
    '• `@Nightshift <task>` in a channel or thread also starts a run; the thread is its context.',
  ].join('\n');
}

export async function helpCommand(ctx: CommandContext): Promise<void> {
  await ephemeral(ctx, { text: helpText(ctx.command.command) });
}
