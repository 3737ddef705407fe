/**
 * A human's message in a run's thread (`message` event with `thread_ts`,
 * https://docs.slack.dev/reference/events/message) reaches the run: the thread maps to the run by
 * id, `slack-<channel>-<thread ts>`, no store needed.
 *
 * - exactly `approve` / `reject` while an approval is pending: the `approve` signal, for an
 *   approver/admin of the run's repository (others get an ephemeral message naming the role);
 * - `cancel` (or `stop`): the `cancel` signal (own run: requester; anyone's: approver) while the
 *   run works, the `humanReply` `cancel` when it waits for an answer;
 * - anything else while the run waits for an answer (escalated): the `humanReply` (guidance or
 *   `take over`), text as typed; while it works, nothing (the run would ignore it).
 *
 * Ignored: our own and other bots' messages (`bot_id`), edits and other subtypes, top-level
 * messages, messages that mention the bot (they are @mentions, a new run), and repeats: Slack's
 * retries and duplicate events (same `event_id` or same channel + `ts`) act once.
 */
import type { AllMiddlewareArgs, App, SlackEventMiddlewareArgs } from '@slack/bolt';
import { classifyReply } from '../../../workflows/prompt.js';
import { APPROVAL_PHASES } from '../actions/approve.js';
import { CLICK_STATUS_TIMEOUT_MS } from '../actions/common.js';
import { ESCALATED_PHASES } from '../actions/takeOver.js';
import type { SlackDeps } from '../deps.js';
import type { SlackAction } from '../roles.js';
import { SeenDeliveries } from '../seen.js';

/** Bolt's arguments of a `message` listener (what a test fakes). */
export type MessageArgs = Pick<SlackEventMiddlewareArgs<'message'>, 'event' | 'body'> & Pick<AllMiddlewareArgs, 'client' | 'context'>;

/** What a thread message led to. */
export type ThreadReplyResult = 'ignored' | 'repeat' | 'not_a_run' | 'finished' | 'not_waiting' | 'refused' | 'replied' | 'approved' | 'rejected' | 'cancelled';

interface PlainMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  user?: string;
  text?: string;
  bot_id?: string;
  subtype?: string;
}

/** Handles one `message` event. Never throws on a run's state; rejects only when Temporal or Slack fail. */
export async function handleThreadReply(deps: SlackDeps, seen: SeenDeliveries, { event, body, client, context }: MessageArgs): Promise<ThreadReplyResult> {
  const m = event as unknown as PlainMessage;
  if (m.subtype || m.bot_id || !m.user || !m.thread_ts || m.thread_ts === m.ts) return 'ignored';
  const bot = context.botUserId ?? deps.config.slack.botUserId;
  if (bot && m.text?.includes(`<@${bot}`)) return 'ignored';
  const eventId = (body as { event_id?: string }).event_id;
  if (seen.check(`msg:${m.channel}:${m.ts}`, ...(eventId ? [`ev:${eventId}`] : []))) {
    deps.logger.info({ channel: m.channel, ts: m.ts, eventId, retryNum: context.retryNum }, 'Slack: repeated thread message ignored');
    return 'repeat';
  }
  const workflowId = `slack-${m.channel}-${m.thread_ts}`;
  const log = deps.logger.child({ workflowId, user: m.user });
  const info = await deps.runs.describe(workflowId);
  if (!info) return 'not_a_run';
  if (info.status !== 'RUNNING') return 'finished';
  const status = await deps.runs.status(workflowId, CLICK_STATUS_TIMEOUT_MS);
  if (status?.phase === 'done') return 'finished';
  const user = m.user;
  const text = (m.text ?? '').trim();
  const repo = info.request?.repo ?? '*';
  const tell = (t: string): Promise<unknown> => client.chat.postEphemeral({ channel: m.channel, user, thread_ts: m.thread_ts!, text: t }).catch((err: unknown) => log.warn({ err }, 'ephemeral reply failed'));
  const allowed = async (action: SlackAction): Promise<boolean> => {
    const d = await deps.roles.mayAct(user, repo, action);
    if (!d.ok) await tell(d.message);
    return d.ok;
  };
  const phase = status?.phase;
  const word = text.toLowerCase().replace(/[.!]+$/, '');
  if ((word === 'approve' || word === 'reject') && phase && (APPROVAL_PHASES as readonly string[]).includes(phase)) {
    if (!(await allowed(word))) return 'refused';
    await deps.runs.approve(workflowId, { decision: word, by: user });
    log.info({ decision: word }, 'Slack: approval answered from the thread');
    return word === 'approve' ? 'approved' : 'rejected';
  }
  const kind = classifyReply(text);
  const escalated = phase === undefined || (ESCALATED_PHASES as readonly string[]).includes(phase);
  if (kind === 'cancel') {
    if (!(await allowed(info.request?.requester === user ? 'cancel_own' : 'cancel_any'))) return 'refused';
    if (escalated) await deps.runs.reply(workflowId, { text, author: user });
    else await deps.runs.cancel(workflowId, user, 'cancelled from the Slack thread');
    return 'cancelled';
  }
  if (!escalated) {
    log.info({ phase }, 'Slack: thread message while the run works; not passed on');
    return 'not_waiting';
  }
  if (!(await allowed(kind === 'take_over' ? 'take_over' : 'guidance'))) return 'refused';
  await deps.runs.reply(workflowId, { text, author: user });
  await tell(kind === 'take_over' ? 'Handing the run over to you.' : 'Passed to the run as guidance: a new attempt starts.');
  return 'replied';
}

/** Registers the `message` listener (thread replies). */
export function registerThreadReplies(app: App, deps: SlackDeps): void {
  const seen = new SeenDeliveries(deps.now);
  app.event('message', async (args) => {
    await handleThreadReply(deps, seen, args);
  });
}
