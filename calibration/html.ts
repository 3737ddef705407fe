/**
 * The calibration report as one self-contained HTML page: inline CSS and the charts as inline SVG
 * (charts.ts), no script, and a Content-Security-Policy that forbids every fetch, so the page
 * opens offline and leaks nothing when mailed or attached.
 */
import { DIMENSIONS, type Calibration, type Dimension } from './build.js';
import { renderCharts } from './charts.js';
import { deltaText, dur, isoDay, pct, reasons, usd } from './format.js';

const TITLES: Record<Dimension, string> = { taskType: 'Task type', model: 'Model', repo: 'Repository', requester: 'Requester' };

/** Escapes text for HTML content and attribute values. */
export const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Only http(s) links are kept (a run title or id must not smuggle `javascript:`). */
const safeHref = (u: string): string => (/^https?:\/\//i.test(u) ? escapeHtml(u) : '#');

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1220px;color:#1d2330;background:#fff;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e3e6ee;padding-bottom:4px}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}.kpi{background:#f4f6fb;border-radius:8px;padding:10px 14px;min-width:120px}
.kpi b{display:block;font-size:20px}.kpi span{color:#5b6475;font-size:12px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(580px,1fr));gap:16px}
figure{margin:0;border:1px solid #e3e6ee;border-radius:8px;padding:8px}figcaption{font-weight:600;margin:0 0 4px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid #eef0f5;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f8f9fc}.up{color:#137333}.down{color:#b3261e}
ul.s li{margin:4px 0}code{background:#f4f6fb;padding:1px 4px;border-radius:4px}`;

function groupTable(d: Dimension, c: Calibration): string {
  const rows = c.groups[d]
    .map(
      (g) =>
        `<tr><td>${escapeHtml(g.key)}</td><td>${g.runs}</td><td>${pct(g.prRate)}</td><td>${pct(g.mergeRate)}</td><td>${pct(g.escalationRate)}</td><td>${escapeHtml(reasons(g.escalationReasons))}</td><td>${usd(g.medianUsd)}</td><td>${usd(g.p90Usd)}</td><td>${dur(g.medianMs)}</td><td>${dur(g.p90Ms)}</td><td>${usd(g.usdPerMergedPr)}</td><td>${g.humanCommits}</td></tr>`,
    )
    .join('');
  return `<h2>By ${TITLES[d].toLowerCase()}</h2><table><thead><tr><th>${TITLES[d]}</th><th>runs</th><th>PR opened</th><th>PR merged</th><th>escalated</th><th>why</th><th>median cost</th><th>p90 cost</th><th>median time</th><th>p90 time</th><th>$ / merged PR</th><th>human commits</th></tr></thead><tbody>${rows || '<tr><td colspan="12">no runs</td></tr>'}</tbody></table>`;
}

/** Renders the page (charts rendered on the way). Throws Vega's error when a chart cannot be rendered. */
export async function renderCalibrationHtml(c: Calibration): Promise<string> {
  const charts = await renderCharts(c);
  const t = c.totals;
  const kpi = (value: string, label: string): string => `<div class="kpi"><b>${escapeHtml(value)}</b><span>${escapeHtml(label)}</span></div>`;
  const deltas = c.deltas
    .map((d) => {
      const x = deltaText(d);
      const cls = d.change === undefined || d.change === 0 ? '' : (d.change > 0) === (d.metric !== 'escalated' && d.unit !== 'usd' && d.unit !== 'ms') ? 'up' : 'down';
      return `<tr><td>${escapeHtml(d.metric)}</td><td>${escapeHtml(x.current)}</td><td>${escapeHtml(x.previous)}</td><td class="${cls}">${escapeHtml(x.change)}</td></tr>`;
    })
    .join('');
  const failures = c.expensiveFailures
    .map((f) => `<tr><td>${escapeHtml(f.title)}</td><td>${escapeHtml(f.repo)}</td><td>${escapeHtml(f.taskType)}</td><td>${escapeHtml(f.model)}</td><td>${usd(f.usd)}</td><td>${escapeHtml(f.what)}</td><td><code>${escapeHtml(f.command)}</code> · <a href="${safeHref(f.traceUrl)}">trace</a></td></tr>`)
    .join('');
  const title = `Nightshift calibration report: ${isoDay(c.sinceMs)} → ${isoDay(c.nowMs)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>
<h1>${escapeHtml(title)}</h1>
<div class="kpis">${[
    kpi(String(t.runs), 'runs'),
    kpi(pct(t.prRate), 'PR opened'),
    kpi(pct(t.mergeRate), 'PR merged'),
    kpi(pct(t.escalationRate), 'escalated'),
    kpi(usd(t.totalUsd), 'spend'),
    kpi(usd(t.usdPerMergedPr), 'per merged PR'),
    kpi(`${usd(t.medianUsd)} / ${usd(t.p90Usd)}`, 'median / p90 cost'),
    kpi(`${dur(t.medianMs)} / ${dur(t.p90Ms)}`, 'median / p90 time'),
    kpi(String(t.humanCommits), 'human commits on top'),
  ].join('')}</div>
<h2>Routing suggestions</h2><ul class="s">${c.suggestions.map((s) => `<li>${escapeHtml(s.text)}</li>`).join('') || '<li>none: no cheaper tier did as well on enough runs</li>'}</ul>
<div class="charts">${charts.map((ch) => `<figure id="${ch.id}"><figcaption>${escapeHtml(ch.title)}</figcaption>${ch.svg}</figure>`).join('\n')}</div>
<h2>Since the previous period</h2><table><thead><tr><th></th><th>this period</th><th>previous period</th><th>change</th></tr></thead><tbody>${deltas}</tbody></table>
<h2>Escalations</h2><p>${t.escalations} escalated: ${escapeHtml(reasons(t.escalationReasons))}</p>
${DIMENSIONS.map((d) => groupTable(d, c)).join('\n')}
<h2>Most expensive failures</h2><table><thead><tr><th>run</th><th>repo</th><th>task type</th><th>model</th><th>cost</th><th>what</th><th>trace</th></tr></thead><tbody>${failures || '<tr><td colspan="7">none</td></tr>'}</tbody></table>
</body></html>
`;
}
