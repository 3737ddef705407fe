/**
 * Messages to the run's origin (Linear issue or session, Slack thread, CLI log), from workflow code.
 */
import { CancellationScope, log, uuid4 } from '@temporalio/workflow';
import type { Report } from '../activityTypes.js';
import { notifyActs } from './activities.js';
import { infraErrorOf, type RunState } from './state.js';

/**
 * Posts a report to the origin and records it as the run's last report. Reports go out even when
 * the run is being cancelled. A report that cannot be delivered after all retries is logged and
 * counted in `status`; it does not fail the run (whose outcome stays readable through the query
 * and the CLI). Never throws (but a cancellation of the workflow itself).
 */
export async function report(s: RunState, kind: Report['kind'], render: (format: 'markdown' | 'mrkdwn') => string): Promise<void> {
  const markdown = render('markdown');
  s.lastReport = markdown;
  try {
    await CancellationScope.nonCancellable(() =>
      notifyActs.notify({ workflowId: s.workflowId, source: s.req.source, kind, markdown, mrkdwn: render('mrkdwn'), reportId: uuid4() }),
    );
  } catch (err) {
    const e = infraErrorOf(err, 'report');
    s.undeliveredReports++;
    log.error('could not report to the origin', { kind, code: e.code, message: e.message });
  }
}
