/**
 * The calibration report from a ledger seeded with a fortnight of mixed runs
 * (test/helpers/calibrationFortnight.ts, figures worked out by hand there), on SQLite and on
 * PostgreSQL (PGlite); its Markdown bounded for Slack; its HTML page rendered in headless
 * Chromium (Debian's `chromium`, driven by puppeteer-core) and screenshotted: the charts show,
 * the screenshot is not blank, and the page made no network request.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import puppeteer, { type Browser } from 'puppeteer-core';
import { collectCalibration } from '../../calibration/collect.js';
import type { Calibration } from '../../calibration/build.js';
import { renderCalibrationHtml } from '../../calibration/html.js';
import { cell } from '../../calibration/markdown.js';
import { MARKDOWN_LIMIT, renderCalibrationMarkdown } from '../../calibration/markdown.js';
import { openLedger } from '../../ledger/open.js';
import type { Ledger } from '../../ledger/types.js';
import { NOW, SINCE, seedFortnight } from '../helpers/calibrationFortnight.js';
import { openPgliteLedger } from '../helpers/pgliteLedger.js';

const MIN = 60_000;
const H = 3_600_000;
const close = (a: number | undefined, b: number): void => assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);
const opts = { sinceMs: SINCE, nowMs: NOW, temporalUiUrl: 'http://localhost:8233', namespace: 'default' };

function assertFigures(r: Calibration): void {
  const t = r.totals;
  assert.equal(t.runs, 20);
  assert.equal(r.inFlight, 1);
  assert.equal(t.prsOpened, 16);
  assert.equal(t.prsMerged, 10);
  assert.equal(t.prsClosedUnmerged, 1);
  close(t.prRate, 0.8);
  close(t.mergeRate, 0.5);
  close(t.escalationRate, 0.15);
  assert.deepEqual(t.escalationReasons, { 'stuck:no_progress': 2, 'budget:usd': 1 });
  close(t.totalUsd, 29);
  close(t.medianUsd, 0.75);
  close(t.p90Usd, 3.1);
  close(t.usdPerMergedPr, 2.9);
  close(t.medianMs, 20 * MIN);
  close(t.p90Ms, 30 * MIN);
  close(t.medianTimeToMergeMs, 4 * H);
  assert.equal(t.humanCommits, 3);

  const types = Object.fromEntries(r.groups.taskType.map((g) => [g.key, g]));
  assert.deepEqual(Object.keys(types).sort(), ['bug_fix', 'docs']);
  assert.equal(types['docs']!.prsOpened, 9);
  assert.equal(types['docs']!.prsMerged, 6);
  close(types['docs']!.usdPerMergedPr, 2.75);
  assert.equal(types['bug_fix']!.escalations, 3);
  close(types['bug_fix']!.escalationRate, 0.3);
  close(types['bug_fix']!.usdPerMergedPr, 3.125);
  const models = Object.fromEntries(r.groups.model.map((g) => [g.key, g]));
  close(models['claude-haiku']!.prRate, 0.7);
  close(models['claude-opus']!.prRate, 0.9);
  assert.deepEqual(r.groups.repo.map((g) => [g.key, g.runs]).sort(), [['calculator', 10], ['webapp', 10]]);

  // Week over week: 4 runs last week, all PRs, 2 merged, $1 each.
  const delta = Object.fromEntries(r.deltas.map((d) => [d.metric, d]));
  assert.equal(delta['runs']!.previous, 4);
  close(delta['PR opened']!.change, -0.2);
  close(delta['cost per merged PR']!.previous, 2);
  close(delta['median cost']!.change, -0.25);

  // Routing: docs on the small tier did as well as on the large one; bug_fix did not.
  assert.equal(r.suggestions.length, 1);
  const s = r.suggestions[0]!;
  assert.deepEqual([s.taskType, s.toTier, s.fromTier, s.toRuns, s.fromRuns], ['docs', 'small', 'large', 5, 5]);
  close(s.toSuccess, 1);
  close(s.fromSuccess, 0.6);
  close(s.toMedianUsd, 0.3);
  close(s.fromMedianUsd, 3);

  assert.deepEqual(
    r.expensiveFailures.map((f) => [f.workflowId, f.usd, f.what]),
    [
      ['run-010-docs-large', 5, 'failed'],
      ['run-013-bug_fix-small', 0.5, 'escalated: stuck:no_progress'],
      ['run-014-bug_fix-small', 0.5, 'escalated: budget:usd'],
      ['run-015-bug_fix-small', 0.5, 'escalated: stuck:no_progress'],
    ],
  );
  assert.equal(r.expensiveFailures[0]!.traceUrl, 'http://localhost:8233/namespaces/default/workflows/run-010-docs-large');
  assert.equal(r.expensiveFailures[0]!.command, 'nightshift runs show run-010-docs-large');
  // Charts: both periods by day; one scatter point per model and task type.
  assert.equal(new Set(r.daily.map((p) => p.day)).size, 9);
  assert.equal(r.scatter.length, 4);
}

describe('calibration report', () => {
  let stateDir: string;
  let sqlite: Ledger;
  let report: Calibration;
  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'ns-calibration-'));
    sqlite = await openLedger({ stateDir });
    await seedFortnight(sqlite);
    report = await collectCalibration(sqlite, opts);
  });
  after(async () => {
    await sqlite?.close();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  test('figures from a fortnight of mixed runs (SQLite)', () => assertFigures(report));

  test('the same figures on PostgreSQL (PGlite)', { timeout: 60_000 }, async () => {
    const pg = await openPgliteLedger();
    try {
      await seedFortnight(pg);
      assertFigures(await collectCalibration(pg, opts));
    } finally {
      await pg.close();
    }
  });

  test('Markdown: the figures, the suggestion and trace links, within Slack\'s size', () => {
    const md = renderCalibrationMarkdown(report);
    assert.ok(md.length <= MARKDOWN_LIMIT);
    assert.match(md, /\*\*20 runs\*\* · PR opened 80% · merged 50% · escalated 15% · spend \$29\.00 · \$2\.90 per merged PR/);
    assert.match(md, /Route docs to the small tier: 100% success over 5 runs vs 60% over 5 on large/);
    assert.match(md, /\| docs \| 10 \| 90% \| 60% \|/);
    assert.match(md, /`nightshift runs show run-010-docs-large` · \[trace\]\(http:\/\/localhost:8233\/namespaces\/default\/workflows\/run-010-docs-large\)/);
    const small = renderCalibrationMarkdown(report, 1500);
    assert.ok(small.length <= 1500, `${small.length}`);
    assert.match(small, /cut to fit/);
  });

  test('HTML in headless Chromium: charts show, offline, screenshot not blank', { timeout: 120_000 }, async (t) => {
    const executablePath = process.env['CHROMIUM_PATH'] ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
    if (!executablePath) {
      assert.fail('Chromium is not installed: run scripts/setup.sh (apt-get install chromium) or set CHROMIUM_PATH');
    }
    const html = await renderCalibrationHtml(report);
    assert.doesNotMatch(html, /<script|src=["']https?:|href=["']https?:\/\/(?!localhost:8233)/i);
    let browser: Browser | undefined;
    try {
      browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      const requests: string[] = [];
      await page.setRequestInterception(true);
      page.on('request', (req) => {
        requests.push(req.url());
        void req.abort();
      });
      await page.setContent(html, { waitUntil: 'load' });
      const charts = await page.$$eval('figure svg', (svgs) => svgs.map((s) => ({ w: s.getBoundingClientRect().width, h: s.getBoundingClientRect().height, marks: s.querySelectorAll('path, rect, line, text').length })));
      assert.equal(charts.length, 5);
      for (const c of charts) assert.ok(c.w > 300 && c.h > 150 && c.marks > 20, JSON.stringify(c));
      const png = await page.screenshot({ fullPage: true, type: 'png' });
      const out = join(stateDir, 'calibration.png');
      await writeFile(out, png);
      t.diagnostic(`screenshot ${out}: ${png.length} bytes`);
      assert.ok(png.length > 50_000, `screenshot is ${png.length} bytes`);
      // Count coloured pixels of the screenshot, decoded by the browser (a blank page has none).
      const check = await browser.newPage();
      await check.setContent('<!doctype html><canvas id="c"></canvas>');
      // (A string: this page's code runs in the browser, where the DOM types live.)
      const coloured = await check.evaluate(`(async () => {
        const img = new Image();
        img.src = 'data:image/png;base64,${Buffer.from(png).toString('base64')}';
        await img.decode();
        const c = document.getElementById('c');
        c.width = img.width;
        c.height = img.height;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 40) n++;
        return n;
      })()`) as number;
      assert.ok(coloured > 5_000, `only ${coloured} coloured pixels`);
      assert.deepEqual(requests, [], 'the page fetched nothing');
    } finally {
      await browser?.close();
    }
  });
});

test('text people wrote is inert in the Markdown: no mention, link, image, emphasis or table break', () => {
  const t = cell('<!channel> see [docs](https://evil.example) ![x](https://track.example/p.png) **now** a|b <@U123>');
  assert.ok(!/(^|[^\\])[<>[\]|*!]/.test(t), t);
  assert.equal(t.replace(/\\/g, ''), '<!channel> see [docs](https://evil.example) ![x](https://track.example/p.png) **now** a|b <@U123>', 'only escapes added');
});
