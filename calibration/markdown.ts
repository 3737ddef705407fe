/**
 * The calibration report as Markdown (GitHub-flavoured; Slack's `markdown` block and Linear render
 * it), bounded to {@link MARKDOWN_LIMIT} characters: group tables are cut to their largest rows
 * first, then the whole text is clipped with a note.
 */
import { DIMENSIONS, type Calibration, type Dimension, type GroupStats } from './build.js';
import { deltaText, dur, isoDay, pct, reasons, usd } from './format.js';

/** Slack's `markdown` block takes 12,000 characters (https://docs.slack.dev/reference/block-kit/blocks/markdown-block). */
export const MARKDOWN_LIMIT = 12_000;

const TITLES: Record<Dimension, string> = { taskType: 'task type', model: 'model', repo: 'repository', requester: 'requester' };
/**
 * Text people and agents wrote (titles, requester names, reasons), made inert for Markdown where
 * it is posted (Slack's markdown block, Linear): emphasis, links, images, HTML and Slack's
 * `<!channel>` / `<@U…>` mentions are backslash-escaped, table pipes too; whitespace collapses.
 */
export const cell = (s: string): string => s.replace(/[\\`*_[\]<>|!~#]/g, '\\$&').replace(/\s+/g, ' ');

function table(d: Dimension, rows: GroupStats[], max: number): string[] {
  const out = [
    `### By ${TITLES[d]}`,
    '',
    `| ${TITLES[d]} | runs | PR opened | PR merged | escalated (why) | median / p90 cost | median / p90 time | $ per merged PR | human commits |`,
    '|---|---:|---:|---:|---|---:|---:|---:|---:|',
  ];
  for (const g of rows.slice(0, max)) {
    out.push(`| ${cell(g.key)} | ${g.runs} | ${pct(g.prRate)} | ${pct(g.mergeRate)} | ${pct(g.escalationRate)} (${cell(reasons(g.escalationReasons))}) | ${usd(g.medianUsd)} / ${usd(g.p90Usd)} | ${dur(g.medianMs)} / ${dur(g.p90Ms)} | ${usd(g.usdPerMergedPr)} | ${g.humanCommits} |`);
  }
  if (rows.length > max) out.push(`| …${rows.length - max} more | | | | | | | | |`);
  return [...out, ''];
}

function render(c: Calibration, maxRows: number): string {
  const t = c.totals;
  const out = [
    `# Nightshift calibration report: ${isoDay(c.sinceMs)} → ${isoDay(c.nowMs)}`,
    '',
    `**${t.runs} runs** · PR opened ${pct(t.prRate)} · merged ${pct(t.mergeRate)} · escalated ${pct(t.escalationRate)} · spend ${usd(t.totalUsd)} · ${usd(t.usdPerMergedPr)} per merged PR · median time to merge ${dur(t.medianTimeToMergeMs)}${c.inFlight ? ` · ${c.inFlight} still in flight (not counted)` : ''}`,
    '',
    '## Since the previous period',
    '',
    '| | this period | previous period | change |',
    '|---|---:|---:|---:|',
    ...c.deltas.map((d) => {
      const x = deltaText(d);
      return `| ${d.metric} | ${x.current} | ${x.previous} | ${x.change} |`;
    }),
    '',
    '## Routing suggestions',
    '',
    ...(c.suggestions.length ? c.suggestions.map((s) => `- ${s.text}`) : ['- none: no cheaper tier did as well on enough runs']),
    '',
    '## Escalations',
    '',
    `${t.escalations} escalated: ${reasons(t.escalationReasons)}`,
    '',
    ...DIMENSIONS.flatMap((d) => table(d, c.groups[d], maxRows)),
    '## Most expensive failures',
    '',
    ...(c.expensiveFailures.length
      ? c.expensiveFailures.map((f) => `- ${usd(f.usd)} — **${cell(f.title)}** (${cell(f.repo)}, ${cell(f.taskType)}, ${cell(f.model)}) — ${f.what} — \`${f.command}\` · [trace](${f.traceUrl})`)
      : ['- none']),
    '',
  ];
  return out.join('\n');
}

/** Renders the report, at most `limit` characters (default {@link MARKDOWN_LIMIT}). */
export function renderCalibrationMarkdown(c: Calibration, limit = MARKDOWN_LIMIT): string {
  for (const rows of [50, 20, 10, 5, 3]) {
    const text = render(c, rows);
    if (text.length <= limit) return text;
  }
  const note = '\n\n_…cut to fit; `nightshift report` prints it all._\n';
  return render(c, 3).slice(0, Math.max(0, limit - note.length)) + note;
}
