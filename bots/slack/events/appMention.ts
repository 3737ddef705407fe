/**
 * `@Nightshift <task>` (`app_mention`, https://docs.slack.dev/reference/events/app_mention): starts a
 * run like `/nightshift run` (same arguments: `[repo] <task> [--usd N] …`). In a thread, the
 * thread's earlier messages (`conversations.replies`) are appended to the task as context and
 * the run reports in that thread. Started once: the workflow id comes from the mention's `ts`
 * (REJECT_DUPLICATE), Slack's retries (`X-Slack-Retry-Num`) are acked and ignored, and edits,
 * other bots' and our own messages start nothing.
 */
import type { AllMiddlewareArgs, App, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { CommandInputError, parseRunArgs, tokens } from '../commands/parse.js';
import type { SlackDeps } from '../deps.js';
import { startSlackRun, type StartResult } from '../startRun.js';

/** Bolt's arguments of an `app_mention` listener (what a test fakes). */
export type MentionArgs = Pick<SlackEventMiddlewareArgs<'app_mention'>, 'event'> & Pick<AllMiddlewareArgs, 'client' | 'context'>;

/** Longest thread context appended to a task, characters. */
export const MAX_CONTEXT_CHARS = 8_000;

/** Handles one mention; returns what happened (`ignored` for retries, edits and bots). Never throws. */
export async function handleAppMention(deps: SlackDeps, { event, client, context }: MentionArgs): Promise<StartResult | { result: 'ignored' }> {
  const log = deps.logger.child({ channel: event.channel, ts: event.ts });
  // Over HTTP a first delivery has no X-Slack-Retry-Num; over Socket Mode it has retry_attempt 0.
  if (context.retryNum !== undefined && context.retryNum > 0) {
    log.info({ retryNum: context.retryNum, retryReason: context.retryReason }, 'Slack retry of app_mention ignored');
    return { result: 'ignored' };
  }
  if (event.bot_id || event.subtype || 'edited' in event) {
    log.info('app_mention from a bot, or an edit: ignored');
    return { result: 'ignored' };
  }
  const user = event.user ?? '';
  const reply = async (m: { text: string }): Promise<void> => {
    await client.chat.postEphemeral({ channel: event.channel, user, text: m.text, ...(event.thread_ts ? { thread_ts: event.thread_ts } : {}) });
  };
  const text = event.text.replace(new RegExp(`<@${context.botUserId ?? 'U[A-Z0-9]+'}(\\|[^>]*)?>`), ' ');
  let args;
  try {
    args = parseRunArgs(tokens(text), deps.config.repos, 'mention');
  } catch (err) {
    if (!(err instanceof CommandInputError)) throw err;
    await reply({ text: `${err.message} Or mention me with the task: \`@Nightshift [repo] <task>\`.` }).catch((e: unknown) => log.warn({ err: e }, 'ephemeral reply failed'));
    return { result: 'refused' };
  }
  let threadContext: string | undefined;
  if (event.thread_ts && event.thread_ts !== event.ts) {
    threadContext = await earlierMessages(client, event.channel, event.thread_ts, event.ts).catch((err: unknown) => {
      log.warn({ err }, 'could not read the thread for context');
      return undefined;
    });
  }
  return startSlackRun(
    { deps, client, user, channel: event.channel, reply },
    args,
    { kind: 'mention', ts: event.ts, ...(event.thread_ts ? { threadTs: event.thread_ts } : {}), ...(threadContext ? { context: threadContext } : {}) },
  );
}

/** The thread's messages before `beforeTs`, one `<@user>: text` line each, the newest kept when too long. */
export async function earlierMessages(client: WebClient, channel: string, threadTs: string, beforeTs: string): Promise<string | undefined> {
  const lines: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.conversations.replies({ channel, ts: threadTs, limit: 200, ...(cursor ? { cursor } : {}) });
    for (const m of page.messages ?? []) {
      if (!m.ts || Number(m.ts) >= Number(beforeTs) || !m.text) continue;
      lines.push(`${m.user ? `<@${m.user}>` : (m.bot_id ? 'a bot' : 'someone')}: ${m.text}`);
    }
    cursor = page.response_metadata?.next_cursor || undefined;
  } while (cursor && lines.join('\n').length < MAX_CONTEXT_CHARS);
  let out = lines.join('\n');
  if (out.length > MAX_CONTEXT_CHARS) out = `…${out.slice(out.length - MAX_CONTEXT_CHARS)}`;
  return out || undefined;
}

/** Registers the event listeners. */
export function registerEvents(app: App, deps: SlackDeps): void {
  app.event('app_mention', async (args) => {
    await handleAppMention(deps, args);
  });
}
