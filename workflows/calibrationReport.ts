/**
 * `calibrationReportWorkflow`: the weekly calibration report, started by its Temporal Schedule
 * (worker/reportSchedules.ts). Deterministic: it only runs `postCalibrationReport`, which reads
 * the ledger and posts the Markdown to Slack.
 */
import { proxyActivities } from '@temporalio/workflow';

/** What `postCalibrationReport` posted. */
export interface PostCalibrationReportResult {
  channel: string;
  /** The posted message's ts. */
  ts: string;
  /** Characters of Markdown posted. */
  chars: number;
  runs: number;
  suggestions: number;
}

/** The report activities (register with the worker's others). */
export interface CalibrationReportActivities {
  postCalibrationReport(): Promise<PostCalibrationReportResult>;
}

const { postCalibrationReport } = proxyActivities<CalibrationReportActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '10s', backoffCoefficient: 2, maximumInterval: '10 minutes', maximumAttempts: 10 },
});

/** Posts the calibration report of the configured period. */
export async function calibrationReportWorkflow(): Promise<PostCalibrationReportResult> {
  return postCalibrationReport();
}
