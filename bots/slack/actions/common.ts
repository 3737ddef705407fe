/**
 * What every run button does before and after its own step: find the run named by the button's
 * `value` (its workflow id), say so when it has finished (closed, or `status` phase `done`) or is
 * not waiting for this answer, check the clicker's role (`mayAct`, an ephemeral message naming the
 * role otherwise), and afterwards replace the message's buttons with who did what and when.
 */
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { RunPhase, RunStatus } from '../../../workflows/types.js';
import type { SlackDeps } from '../deps.js';
import type { SlackAction } from '../roles.js';
import type { RunInfo } from '../runs.js';
import { decidedLine, withoutButtons } from '../views/runButtons.js';

/** Bolt's arguments of a button listener (what a unit test fakes). */
export type ButtonArgs = Pick<SlackActionMiddlewareArgs<BlockAction<ButtonAction>>, 'action' | 'body' | 'ack' | 'respond'> & Pick<AllMiddlewareArgs, 'client'>;

/** How long a click waits for the `status` query, ms (the whole answer must fit in Slack's 3 s). */
export const CLICK_STATUS_TIMEOUT_MS = 1_200;

/** What happened to a click. */
export type ClickResult = 'done' | 'finished' | 'not_waiting' | 'refused' | 'unknown_run' | 'failed' | 'opened';

/** A run the click may act on. */
export interface ClickedRun {
  workflowId: string;
  info: RunInfo;
  /** Undefined when the query did not answer in time (the signal is sent anyway). */
  status?: RunStatus;
  repo: string;
}

/** Answers only the clicker. */
export async function tellClicker(args: Pick<ButtonArgs, 'respond'>, text: string): Promise<void> {
  await args.respond({ response_type: 'ephemeral', replace_original: false, text });
}

/**
 * Finds the clicked run and checks that it is open, in one of `phases` (when given) and that the
 * clicker may do `action` (a function: it may depend on the run, e.g. cancel own / any). Answers
 * the clicker and returns the reason when not.
 */
export async function clickedRun(
  deps: SlackDeps,
  args: ButtonArgs,
  action: SlackAction | ((run: RunInfo) => SlackAction),
  phases?: { allowed: RunPhase[]; otherwise: string },
): Promise<ClickedRun | { refused: ClickResult }> {
  const workflowId = args.action.value ?? '';
  const user = args.body.user.id;
  const info = workflowId ? await deps.runs.describe(workflowId) : undefined;
  if (!info) {
    await tellClicker(args, `I cannot find the run \`${workflowId || '?'}\`; nothing was done.`);
    return { refused: 'unknown_run' };
  }
  const status = info.status === 'RUNNING' ? await deps.runs.status(workflowId, CLICK_STATUS_TIMEOUT_MS) : undefined;
  if (info.status !== 'RUNNING' || status?.phase === 'done') {
    const how = status?.outcome?.kind ?? info.status.toLowerCase();
    await tellClicker(args, `This run has already finished (${how.replace(/_/g, ' ')}); nothing was done.`);
    return { refused: 'finished' };
  }
  if (phases && status && !phases.allowed.includes(status.phase)) {
    await tellClicker(args, phases.otherwise);
    return { refused: 'not_waiting' };
  }
  const repo = info.request?.repo ?? '*';
  const decision = await deps.roles.mayAct(user, repo, typeof action === 'function' ? action(info) : action);
  if (!decision.ok) {
    await tellClicker(args, decision.message);
    return { refused: 'refused' };
  }
  return { workflowId, info, ...(status ? { status } : {}), repo };
}

/** Where the clicked message is: channel and ts (from the container, else the message). */
export function messageOf(body: BlockAction): { channel: string; ts: string; threadTs?: string; blocks?: unknown[]; text?: string } | undefined {
  const container = body.container as { channel_id?: string; message_ts?: string; thread_ts?: string } | undefined;
  const channel = container?.channel_id ?? body.channel?.id;
  const ts = container?.message_ts ?? body.message?.ts;
  if (!channel || !ts) return undefined;
  const m = body.message as { thread_ts?: string; blocks?: unknown[]; text?: string } | undefined;
  return { channel, ts, ...(m?.thread_ts ?? container?.thread_ts ? { threadTs: m?.thread_ts ?? container?.thread_ts } : {}), ...(m?.blocks ? { blocks: m.blocks } : {}), ...(m?.text ? { text: m.text } : {}) };
}

/**
 * Replaces the buttons of the message (`channel`, `ts`) by `<@user> did at <time>`. `blocks` and
 * `text` are the message as Slack showed it (from the click's payload, or read back). Never throws
 * (the signal was sent; a failed update is logged).
 */
export async function markDone(deps: SlackDeps, client: WebClient, msg: { channel: string; ts: string; blocks?: unknown[]; text?: string }, user: string, did: string): Promise<void> {
  const at = new Date(deps.now?.() ?? Date.now());
  const line = decidedLine(user, did, at);
  await client.chat
    .update({ channel: msg.channel, ts: msg.ts, text: msg.text || line, blocks: withoutButtons(msg.blocks, line) as never })
    .catch((err: unknown) => deps.logger.warn({ err, channel: msg.channel, ts: msg.ts }, 'could not update the message after a click'));
}

/** Reads one message of a thread back (`conversations.replies`), for a modal's submission. */
export async function readMessage(client: WebClient, channel: string, threadTs: string, ts: string): Promise<{ blocks?: unknown[]; text?: string } | undefined> {
  const page = await client.conversations.replies({ channel, ts: threadTs, latest: ts, oldest: ts, inclusive: true });
  const m = page.messages?.find((x) => x.ts === ts);
  return m ? { ...(m.blocks ? { blocks: m.blocks as unknown[] } : {}), ...(m.text ? { text: m.text } : {}) } : undefined;
}
