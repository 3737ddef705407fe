/**
 * `nightshift report [--since 7d] [--html out.html] [--json]`: the calibration report from the run
 * ledger: Markdown on stdout (whole, not cut to Slack's size), optionally the self-contained HTML
 * page written to a file, or the report's data as JSON.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { openLedger } from '../ledger/open.js';
import { collectCalibration } from '../calibration/collect.js';
import { renderCalibrationHtml } from '../calibration/html.js';
import { renderCalibrationMarkdown } from '../calibration/markdown.js';
import type { Config } from './config.js';
import { parseSince } from './digestCommand.js';

/** Registers `report` on the program; `load` reads the configuration; `now` is the clock (Unix ms). */
export function registerReportCommand(program: Command, load: () => Config, out: (s: string) => void = (s) => void process.stdout.write(s), now: () => number = Date.now): void {
  program
    .command('report')
    .description('print the calibration report (Markdown) from the run ledger: success, escalations, cost and time per task type, model, repo and requester')
    .option('--since <duration>', 'the period: 7d, 36h (default: report.sinceDays); the period before it, as long, gives the changes', )
    .option('--html <file>', 'also write the report as a self-contained HTML page with charts')
    .option('--json', 'print the report\'s data as JSON instead of Markdown')
    .action(async (o: { since?: string; html?: string; json?: boolean }) => {
      const config = load();
      const span = o.since ? parseSince(o.since) : config.report.sinceDays * 86_400_000;
      const ledger = await openLedger(config);
      try {
        const nowMs = now();
        const report = await collectCalibration(ledger, {
          sinceMs: nowMs - span,
          nowMs,
          temporalUiUrl: config.report.temporalUiUrl,
          namespace: config.temporal.namespace,
          minSamples: config.report.minSamples,
          margin: config.report.margin,
          topFailures: config.report.topFailures,
        });
        if (o.html) await writeFile(o.html, await renderCalibrationHtml(report));
        out(o.json ? `${JSON.stringify(report, null, 2)}\n` : renderCalibrationMarkdown(report, Number.POSITIVE_INFINITY));
      } finally {
        await ledger.close();
      }
    });
}
