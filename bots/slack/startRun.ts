/**
 * Starting a run from Slack, shared by `/nightshift run`, the repo picker and @mentions:
 * resolve the repository (argument → `slack.channels.<id>.repo` → `slack.defaultRepo` → ask with
 * a picker), check roles (`run`; `raise_budget` for overrides above the repo's budget), then
 * - from a command: post the thread's root message (`chat.postMessage`) and start the run with id
 *   `slack-<channel>-<root ts>`, source `{kind:'slack', channel, threadTs: root ts}`;
 * - from a mention: unless the run `slack-<channel>-<mention ts>` exists already (a redelivery:
 *   nothing is posted), post the run's first message in the thread, then start the run with that
 *   message as its live status message (`source.statusTs`).
 */
import { ErrorCode as WebApiErrorCode, type WebClient } from '@slack/web-api';
import type { TaskOverrides, TaskRequest } from '../../workflows/types.js';
import type { RunArgs } from './commands/parse.js';
import type { SlackDeps } from './deps.js';
import { repoPicker } from './views/repoPicker.js';
import { titleOf as titleOfTask } from '../title.js';

/** An ephemeral answer to the requester (`respond` for commands, `chat.postEphemeral` otherwise). */
export type Reply = (msg: { text: string; blocks?: unknown[] }) => Promise<void>;

/** Who asks, where, and how to answer them privately. */
export interface StartContext {
  deps: SlackDeps;
  client: WebClient;
  user: string;
  channel: string;
  reply: Reply;
}

/** Where the request came from. */
export type RunOrigin = { kind: 'command' } | { kind: 'mention'; ts: string; threadTs?: string; context?: string };

/** What happened: `asked` = a repo picker was shown; `refused` = a role or repo problem was answered. */
export type StartResult = { result: 'started' | 'already_started'; workflowId: string } | { result: 'asked' | 'refused' | 'failed' };

/** Starts (or asks for the repository of) a run; answers the requester in every case. Never throws. */
export async function startSlackRun(ctx: StartContext, args: RunArgs, origin: RunOrigin): Promise<StartResult> {
  const { deps, client, user, channel, reply } = ctx;
  const { config, logger } = deps;
  const repo = args.repo ?? config.slack.channels[channel]?.repo ?? config.slack.defaultRepo;
  if (!repo) {
    const key = deps.pending.put({ user, channel, args: { ...args, task: withContext(args.task, origin) } });
    await reply(repoPicker(key, Object.keys(config.repos), args.task));
    return { result: 'asked' };
  }
  const repoCfg = config.repos[repo];
  if (!repoCfg) {
    await reply({ text: `The repository \`${repo}\` configured for this channel is not in \`repos\`. Name one: ${Object.keys(config.repos).map((r) => `\`${r}\``).join(', ')}.` });
    return { result: 'refused' };
  }
  for (const action of ['run', ...(aboveBudget(args, repoCfg.budget) ? (['raise_budget'] as const) : [])] as const) {
    const decision = await deps.roles.mayAct(user, repo, action);
    if (!decision.ok) {
      await reply({ text: decision.message });
      return { result: 'refused' };
    }
  }
  const title = titleOf(args.task);
  const request = (threadTs: string, statusTs?: string): TaskRequest => ({
    source: { kind: 'slack', channel, threadTs, ...(statusTs ? { statusTs } : {}) },
    requester: user,
    repo,
    title,
    task: withContext(args.task, origin),
    overrides: overridesOf(args),
    ...(args.priority !== undefined ? { priority: args.priority } : {}),
  });
  try {
    if (origin.kind === 'command') {
      const root = await client.chat.postMessage({ channel, text: rootText(user, repo, title), unfurl_links: false });
      const ts = root.ts as string;
      const workflowId = `slack-${channel}-${ts}`;
      const result = await deps.runs.start(workflowId, request(ts)).catch(async (err: unknown) => {
        await client.chat.update({ channel, ts, text: `:x: Could not start the run for <@${user}> on \`${repo}\`: the queue is unavailable. Try again in a minute.` }).catch(() => undefined);
        throw err;
      });
      deps.lastRuns.set(user, workflowId);
      await reply({ text: `Started \`${workflowId}\` on \`${repo}\`: follow it in the thread of the message above.` });
      return { result, workflowId };
    }
    const workflowId = `slack-${channel}-${origin.ts}`;
    if (await deps.runs.describe(workflowId)) {
      logger.info({ workflowId }, 'Slack mention: run already started, nothing posted');
      return { result: 'already_started', workflowId };
    }
    const threadTs = origin.threadTs ?? origin.ts;
    const first = await client.chat.postMessage({ channel, thread_ts: threadTs, text: rootText(user, repo, title), unfurl_links: false });
    const result = await deps.runs.start(workflowId, request(threadTs, first.ts as string));
    if (result === 'already_started') {
      // A duplicate delivery raced this one: the first message of the other stays the live one.
      await client.chat.update({ channel, ts: first.ts as string, text: `This request already has a run: \`${workflowId}\`.` }).catch(() => undefined);
      return { result, workflowId };
    }
    deps.lastRuns.set(user, workflowId);
    return { result, workflowId };
  } catch (err) {
    const slackError = slackErrorCode(err);
    logger.error({ err, channel, user, repo, slackError }, 'Slack: could not start a run');
    await reply({
      text:
        slackError === 'not_in_channel' || slackError === 'channel_not_found'
          ? 'I cannot post in this channel: invite me first (`/invite @Nightshift`), then run the command again.'
          : 'Could not start the run: the queue is unavailable right now. Nothing was started; try again in a minute.',
    }).catch(() => undefined);
    return { result: 'failed' };
  }
}

/** The Web API error code of a `WebClient` platform error (`not_in_channel`, …), else undefined. */
export function slackErrorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && err.code === WebApiErrorCode.PlatformError && 'data' in err) {
    const data = err.data as { error?: unknown };
    return typeof data.error === 'string' ? data.error : undefined;
  }
  return undefined;
}

function aboveBudget(args: RunArgs, budget: { usd: number; minutes: number }): boolean {
  return (args.usd !== undefined && args.usd > budget.usd) || (args.minutes !== undefined && args.minutes > budget.minutes);
}

function overridesOf(args: RunArgs): TaskOverrides | undefined {
  const o: TaskOverrides = {};
  if (args.agent) o.agent = args.agent;
  if (args.tier) o.tier = args.tier;
  if (args.now) o.now = true;
  if (args.usd !== undefined || args.minutes !== undefined) {
    o.budget = {};
    if (args.usd !== undefined) o.budget.usd = args.usd;
    if (args.minutes !== undefined) o.budget.wallClockMs = Math.round(args.minutes * 60_000);
  }
  return Object.keys(o).length > 0 ? o : undefined;
}

/** The run's title: the task's first sentence, at most 80 characters at a word boundary (see bots/title.ts). */
export function titleOf(task: string): string {
  return titleOfTask(task);
}

function withContext(task: string, origin: RunOrigin): string {
  return origin.kind === 'mention' && origin.context ? `${task}\n\nEarlier messages in the Slack thread (context):\n${origin.context}` : task;
}

/** The run's first message (part B keeps it current with `chat.update`). */
export function rootText(user: string, repo: string, title: string): string {
  return `:crescent_moon: *Nightshift run* on \`${repo}\` for <@${user}>\n> ${title}\n_Queued._`;
}
