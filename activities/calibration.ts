/**
 * The `postCalibrationReport` activity: builds the calibration report of the last
 * `report.sinceDays` from the run ledger and posts its Markdown (a Slack `markdown` block, at most
 * 12,000 characters: https://docs.slack.dev/reference/block-kit/blocks/markdown-block) to
 * `report.schedule.channel` with the worker's Slack client.
 */
import type { WebClient } from '@slack/web-api';
import type { Config } from '../worker/config.js';
import { collectCalibration, type CalibrationLedger } from '../calibration/collect.js';
import { renderCalibrationMarkdown } from '../calibration/markdown.js';
import { pct, usd } from '../calibration/format.js';
import type { CalibrationReportActivities } from '../workflows/calibrationReport.js';
import { NightshiftError } from './errors.js';
import { slackFailure } from './slack/index.js';

/** What the report activity needs. */
export interface CalibrationActivityDeps {
  config: Pick<Config, 'report' | 'temporal'>;
  ledger?: CalibrationLedger;
  slack?: WebClient;
  /** Clock, Unix ms (tests). */
  now?: () => number;
}

/**
 * Builds the report activities. Errors: CONFIG_INVALID (not retryable) without `report.schedule`
 * or a ledger; NOTIFY_UNCONFIGURED without SLACK_BOT_TOKEN; SLACK_FAILED as classified.
 */
export function createCalibrationActivities(deps: CalibrationActivityDeps): CalibrationReportActivities {
  const clock = deps.now ?? Date.now;
  return {
    async postCalibrationReport() {
      const { report, temporal } = deps.config;
      if (!report.schedule) throw new NightshiftError('CONFIG_INVALID', 'no calibration report is scheduled (report.schedule)', { retryable: false });
      if (!deps.ledger) throw new NightshiftError('CONFIG_INVALID', 'the calibration report needs the run ledger, and none is open', { retryable: false });
      if (!deps.slack) throw new NightshiftError('NOTIFY_UNCONFIGURED', 'cannot post the calibration report to Slack: SLACK_BOT_TOKEN is not set', { retryable: false });
      const nowMs = clock();
      const c = await collectCalibration(deps.ledger, {
        sinceMs: nowMs - report.sinceDays * 86_400_000,
        nowMs,
        temporalUiUrl: report.temporalUiUrl,
        namespace: temporal.namespace,
        minSamples: report.minSamples,
        margin: report.margin,
        topFailures: report.topFailures,
      });
      const markdown = renderCalibrationMarkdown(c);
      const t = c.totals;
      const text = `Nightshift calibration report: ${t.runs} runs, PR opened ${pct(t.prRate)}, merged ${pct(t.mergeRate)}, ${usd(t.usdPerMergedPr)} per merged PR`;
      try {
        const r = await deps.slack.chat.postMessage({ channel: report.schedule.channel, text, blocks: [{ type: 'markdown', text: markdown }], unfurl_links: false });
        return { channel: report.schedule.channel, ts: r.ts ?? '', chars: markdown.length, runs: t.runs, suggestions: c.suggestions.length };
      } catch (err) {
        throw slackFailure('chat.postMessage', err);
      }
    },
  };
}
