/**
 * Messages to the run's origin (Linear issue or session, Slack thread, CLI log), from workflow code.
 *
 * Since patch `messages-queue`, `notify` runs on the messages task queue (`<taskQueue>-messages`,
 * served by the worker's second Temporal Worker with its own activity slots): a message never
 * waits behind agent runs.
 */
import { CancellationScope, log, patched, proxyActivities, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Activities, Report } from '../activityTypes.js';
import { messagesTaskQueue } from '../linearTypes.js';
import { NOTIFY_OPTIONS, notifyActs } from './activities.js';
import { clarifyNote } from './clarify.js';
import { routingNote } from './routing.js';
import { escalationStateNote, settleLinearSession } from './linear.js';
import { infraErrorOf, type RunState } from './state.js';

export const PATCH_MESSAGES_QUEUE = 'messages-queue';

/** The reports that end a run (or hand it to a human): they say where the run moved, if it did. */
const FINAL_KINDS: ReadonlySet<Report['kind']> = new Set(['pr_opened', 'escalation', 'environment_failed', 'cancelled', 'handed_over', 'timed_out', 'failed']);

/** `notify`, on the messages task queue for runs since `messages-queue`, else on the run's own. */
function notifier(): Pick<Activities, 'notify'> {
  if (!patched(PATCH_MESSAGES_QUEUE)) return notifyActs;
  return proxyActivities<Activities>({ ...NOTIFY_OPTIONS, taskQueue: messagesTaskQueue(workflowInfo().taskQueue) });
}

/**
 * Posts a report to the origin and records it as the run's last report. Reports go out even when
 * the run is being cancelled. A report that cannot be delivered after all retries is logged and
 * counted in `status`; it does not fail the run (whose outcome stays readable through the query
 * and the CLI). `options`: the choices of a `question`. Never throws (but a cancellation of the workflow itself).
 */
export async function report(s: RunState, kind: Report['kind'], render: (format: 'markdown' | 'mrkdwn') => string, options?: string[]): Promise<void> {
  // On Linear an escalation leaves the issue where it is, and says so.
  const note = kind === 'escalation' ? escalationStateNote(s) : undefined;
  // A final report says what the clarifying assessment at scope decided (run/clarify.ts).
  // ... and where the run moved when a worker host was gone (run/host.ts).
  const moves = FINAL_KINDS.has(kind) && s.hostMoves?.length ? s.hostMoves.join('\n') : undefined;
  const withClarify = (f: 'markdown' | 'mrkdwn', body: string): string => {
    const c = clarifyNote(s, kind, f);
    const r = routingNote(s, kind, f);
    return [body, moves, c, r].filter(Boolean).join('\n\n');
  };
  const markdown = withClarify('markdown', note ? `${render('markdown')}\n\n${note}` : render('markdown'));
  s.lastReport = markdown;
  try {
    // A Linear session shows the run's phase before the report (never a stale thought after it).
    await settleLinearSession(s);
    const notify = notifier();
    const reportId = uuid4();
    // Its id is the Linear comment's: a reply in this comment's thread answers this run (run/replies.ts).
    s.reportIds.add(reportId);
    await CancellationScope.nonCancellable(() =>
      notify.notify({ workflowId: s.workflowId, source: s.req.source, kind, markdown, mrkdwn: withClarify('mrkdwn', render('mrkdwn')), reportId, ...(options?.length ? { options } : {}) }),
    );
  } catch (err) {
    const e = infraErrorOf(err, 'report');
    s.undeliveredReports++;
    log.error('could not report to the origin', { kind, code: e.code, message: e.message });
  }
}
