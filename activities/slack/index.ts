/**
 * Slack I/O of a run: the live message (`updateLiveStatus`, `chat.update` paced by
 * {@link MessageThrottle}) and the thread replies of `notify` (escalations and approval requests
 * carry their buttons). Rendering is in bots/slack/views (pure).
 */
import type { WebClient } from '@slack/web-api';
import { ErrorCode } from '@slack/web-api';
import type { LiveStatusActivities, Report } from '../../workflows/activityTypes.js';
import type { Config } from '../../worker/config.js';
import type { Logger } from '../../worker/logger.js';
import { redactDeep } from '../../worker/redact.js';
import { temporalRunLink } from '../../bots/slack/views/links.js';
import { liveStatusMessage } from '../../bots/slack/views/liveStatus.js';
import { reportWithButtons } from '../../bots/slack/views/runButtons.js';
import { NightshiftError } from '../errors.js';
import { MessageThrottle } from './throttle.js';

/** Web API errors that no retry mends (https://docs.slack.dev/reference/methods/chat.update#errors). */
// A token problem is not here: an operator can fix the token while the report is retried (about
// an hour), and a report is never given up lightly.
const PERMANENT = new Set(['message_not_found', 'cant_update_message', 'channel_not_found', 'not_in_channel', 'is_archived', 'invalid_blocks', 'msg_too_long', 'no_text']);

/** The Web API error code of a `WebClient` platform error, else undefined. */
function platformError(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && err.code === ErrorCode.PlatformError && 'data' in err) {
    const e = (err.data as { error?: unknown }).error;
    return typeof e === 'string' ? e : undefined;
  }
  return undefined;
}

/** A typed SLACK_FAILED error (retryable unless Slack's answer is permanent). */
export function slackFailure(method: string, err: unknown): NightshiftError {
  const code = platformError(err);
  return new NightshiftError('SLACK_FAILED', `${method} failed${code ? `: ${code}` : ''}`, { cause: err, retryable: !code || !PERMANENT.has(code), details: { method, slackError: code } });
}

/** Posts a report in its Slack thread; escalations and approval requests get their buttons. */
export async function postSlackReport(
  slack: WebClient,
  report: Report & { source: { kind: 'slack' } },
  opts: { retried?: boolean; onLookupError?: (err: unknown) => void } = {},
): Promise<void> {
  const set = report.kind === 'escalation' ? 'escalation' : report.kind === 'approval_needed' ? 'approval' : undefined;
  const content = set ? reportWithButtons(set, report.workflowId, report.mrkdwn) : { text: report.mrkdwn };
  const { channel, threadTs } = report.source;
  if (opts.retried && report.reportId && threadTs && (await postedAlready(slack, channel, threadTs, report.reportId, opts.onLookupError))) return;
  // The report's id rides along as message metadata (https://docs.slack.dev/messaging/message-metadata).
  const metadata = report.reportId ? { event_type: REPORT_EVENT, event_payload: { report_id: report.reportId, workflow_id: report.workflowId } } : undefined;
  try {
    await slack.chat.postMessage({ channel, thread_ts: threadTs, unfurl_links: false, ...content, ...(metadata ? { metadata } : {}) } as never);
  } catch (err) {
    throw slackFailure('chat.postMessage', err);
  }
}

/** Metadata event type of Nightshift's reports in a thread. */
export const REPORT_EVENT = 'nightshift_report';

/**
 * Whether the thread already holds the report (a retried delivery whose first try posted but lost
 * the answer). A failed lookup is handed to `onError` and counts as "no": posting twice beats not
 * reporting.
 */
async function postedAlready(slack: WebClient, channel: string, threadTs: string, reportId: string, onError?: (err: unknown) => void): Promise<boolean> {
  try {
    let cursor: string | undefined;
    // Every page of the thread (a long-running run's thread can pass one page).
    for (let page = 0; page < 20; page++) {
      const r = await slack.conversations.replies({ channel, ts: threadTs, include_all_metadata: true, limit: 200, ...(cursor ? { cursor } : {}) });
      const found = (r.messages ?? []).some((m) => {
        const meta = (m as { metadata?: { event_type?: string; event_payload?: { report_id?: string } } }).metadata;
        return meta?.event_type === REPORT_EVENT && meta.event_payload?.report_id === reportId;
      });
      if (found) return true;
      cursor = r.response_metadata?.next_cursor || undefined;
      if (!r.has_more || !cursor) return false;
    }
    return false;
  } catch (err) {
    onError?.(err);
    return false;
  }
}

/** Creates the live-status activity. `slack` absent: the activity fails (not retryable). */
export function createSlackActivities(deps: { config: Config; slack?: WebClient; logger: Logger; throttle?: MessageThrottle }): LiveStatusActivities {
  const throttle = deps.throttle ?? new MessageThrottle();
  return {
    async updateLiveStatus(input) {
      const slack = deps.slack;
      if (!slack) throw new NightshiftError('NOTIFY_UNCONFIGURED', 'cannot update the Slack message: SLACK_BOT_TOKEN is not set', { retryable: false });
      const link = temporalRunLink(deps.config, input.workflowId);
      const msg = redactDeep(liveStatusMessage(input, link ? { temporal: link } : {}));
      const result = await throttle.run(`${input.channel}:${input.ts}`, input.seq, async () => {
        try {
          await slack.chat.update({ channel: input.channel, ts: input.ts, text: msg.text, blocks: msg.blocks as never });
        } catch (err) {
          throw slackFailure('chat.update', err);
        }
      });
      deps.logger.debug({ workflowId: input.workflowId, phase: input.phase, seq: input.seq, result }, 'live status');
    },
  };
}
