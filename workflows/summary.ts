/**
 * The messages a run posts back to where it came from, in two dialects:
 * - `markdown`: Linear (and GitHub PR bodies) Markdown;
 * - `mrkdwn`: Slack mrkdwn (`*bold*`, `<url|text>`, no headings, no tables; `&`, `<`, `>` escaped;
 *   https://api.slack.com/reference/surfaces/formatting).
 *
 * Pure and deterministic (no clock, no locale, no Node APIs): bundled into workflow code.
 * Output is bounded ({@link MAX_CHARS}): excerpts shrink first, then the text is cut.
 */
import { renderGateSection, type GateSummary } from './gateSummary.js';
import { renderClarifySection, renderNotesSection, type RunNote } from './notesSection.js';
import { describeRouting, type RoutingDecision } from './routing.js';
import type { AttemptRecord, BudgetBreach, ClarifyRecord, CommandRecord, Spend, TaskSource, ValidationResult } from './types.js';

/** Which dialect to render. */
export type SummaryFormat = 'markdown' | 'mrkdwn';

/**
 * Largest message per dialect, in characters. Slack truncates / splits long `text` (its limit
 * is 40,000 characters but messages over ~4,000 read badly and section blocks cap at 3,000);
 * Linear comments are comfortable well under 12,000.
 */
export const MAX_CHARS: Record<SummaryFormat, number> = { mrkdwn: 3500, markdown: 12000 };

/** Input of {@link renderEscalation}: the "what I tried" summary. */
export interface EscalationSummaryInput {
  /** The task: its title and whole text (an excerpt is shown). */
  goal: { title: string; task: string };
  /** Every attempt so far, oldest first. */
  attempts: AttemptRecord[];
  /** Spend of the whole run. */
  spend: Spend;
  /** Wall-clock time of the run so far, ms. */
  durationMs: number;
  /** Branch holding the partial work, when it was pushed. */
  wipBranch?: string;
  /** Why the run stopped trying, one line (e.g. `the tests still fail after 3 attempts`). */
  reason: string;
  /** The infrastructure failure that stopped the run, if that is what happened. */
  infraError?: { code: string; message: string };
}

/** Input of {@link renderSuccess}. Without `prUrl` it renders the pull request's body. */
export interface SuccessSummaryInput {
  title: string;
  /** The task text (an excerpt is shown in the PR body). */
  task?: string;
  /** Where the request came from (linked from the PR body). */
  source?: TaskSource;
  /** The repository's tests at the base commit, run by Nightshift. */
  testsBefore?: ValidationResult;
  /** The tests after the change; default: the last attempt's validation. */
  testsAfter?: ValidationResult;
  attempts: AttemptRecord[];
  spend: Spend;
  /** Wall-clock time of the run, ms. */
  durationMs: number;
  workflowId?: string;
  prUrl?: string;
  branch?: string;
  /** The diff gate's verdict and the test-definition changes (PR body and report). */
  gate?: GateSummary;
  /** Notes sent during the attempt that passed, which it did not act on (listed). */
  notes?: RunNote[];
  /** The clarifying assessment at scope (decision, rationale, questions). */
  clarify?: ClarifyRecord;
  /** Classification and model routing (patch `model-routing`): its line is in the PR body and the report. */
  routing?: RoutingDecision;
}

/** Input of {@link renderRejection}: scoping refused the task. */
export interface RejectionSummaryInput {
  reason: string;
  title?: string;
}

/** Input of {@link renderCancelled}. */
export interface CancelledSummaryInput {
  /** Who cancelled (user name / id). */
  by: string;
  reason?: string;
  wipBranch?: string;
  /** Number of attempts made. */
  attempts: number;
  spend: Spend;
}

/** Input of {@link renderHandedOver}. */
export interface HandedOverSummaryInput {
  /** Who took over. */
  by: string;
  wipBranch?: string;
  attempts: number;
  spend: Spend;
}

/** Input of {@link renderTimedOut}: nobody replied to an escalation. */
export interface TimedOutSummaryInput {
  /** How long the run waited for a reply, ms. */
  waitedMs: number;
  wipBranch?: string;
  /** What the run spent in all. */
  spend?: Spend;
  /** What was waited for, when not a reply to an escalation (e.g. `an approval of the change`). */
  waitedFor?: string;
  /** What became of the work, when the branch line does not say it. */
  note?: string;
}

/** Input of {@link renderFailure}: the run itself failed (a bug or a non-retryable error). */
export interface FailureSummaryInput {
  code: string;
  message: string;
  workflowId?: string;
  /** What the run spent before it failed. */
  spend?: Spend;
}

// ---------------------------------------------------------------------------------------------
// Number formatting (no Intl: its output depends on the runtime's locale data)

/** An integer with thousands separators: `1234567` → `1,234,567`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '?';
  const sign = n < 0 ? '-' : '';
  const digits = String(Math.round(Math.abs(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * US dollars: 4 decimals under $1 (`$0.0042`), else 2 with thousands separators (`$1,234.50`);
 * exactly 0 is `$0.00`.
 */
export function formatUsd(usd: number): string {
  if (!Number.isFinite(usd)) return '$?';
  if (usd === 0) return '$0.00';
  const sign = usd < 0 ? '-' : '';
  const abs = Math.abs(usd);
  if (abs < 1) return `${sign}$${abs.toFixed(4)}`;
  const [whole, cents] = abs.toFixed(2).split('.');
  return `${sign}$${formatCount(Number(whole))}.${cents}`;
}

/**
 * A duration in milliseconds, at most two units, rounded down: `850ms`, `42s`, `3m 7s`, `1h 2m`,
 * `2d 3h`. Negative or non-finite: `0s`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  if (ms < 1000) return `${Math.floor(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

// ---------------------------------------------------------------------------------------------
// Dialects

/** How a renderer writes bold, code, links, headings… in one dialect (internal to the renderers). */
export interface Dialect {
  format: SummaryFormat;
  /** Escapes free text. */
  text(s: string): string;
  bold(s: string): string;
  /** A section title (Markdown heading; bold line in mrkdwn). */
  heading(s: string): string;
  link(url: string, label: string): string;
  code(s: string): string;
  /** A fenced block; empty string for empty input. */
  block(s: string): string;
  /** A quoted excerpt. */
  quote(s: string): string;
  bullet(s: string): string;
}

const fence = (s: string): string => s.replace(/```/g, "'''");

const MARKDOWN: Dialect = {
  format: 'markdown',
  text: (s) => s,
  bold: (s) => `**${s}**`,
  heading: (s) => `### ${s}`,
  link: (url, label) => `[${label.replace(/[[\]]/g, '')}](${url.replace(/[()\s]/g, (c) => encodeURIComponent(c))})`,
  code: (s) => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``),
  block: (s) => (s.trim() ? `\`\`\`\n${fence(s.replace(/\n+$/, ''))}\n\`\`\`` : ''),
  quote: (s) =>
    fence(s)
      .split('\n')
      .map((l) => `> ${l}`)
      .join('\n'),
  bullet: (s) => `- ${s}`,
};

/** Slack's required escapes (https://api.slack.com/reference/surfaces/formatting#escaping). */
const slackEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const MRKDWN: Dialect = {
  format: 'mrkdwn',
  text: slackEscape,
  bold: (s) => `*${s}*`,
  heading: (s) => `*${s}*`,
  link: (url, label) => `<${url.replace(/[|<> ]/g, (c) => encodeURIComponent(c))}|${slackEscape(label).replace(/\|/g, '/')}>`,
  code: (s) => `\`${slackEscape(s).replace(/`/g, "'")}\``,
  block: (s) => (s.trim() ? `\`\`\`\n${fence(slackEscape(s.replace(/\n+$/, '')))}\n\`\`\`` : ''),
  quote: (s) =>
    fence(slackEscape(s))
      .split('\n')
      .map((l) => `> ${l}`)
      .join('\n'),
  bullet: (s) => `• ${s}`,
};

const dialectOf = (format: SummaryFormat): Dialect => (format === 'mrkdwn' ? MRKDWN : MARKDOWN);

// ---------------------------------------------------------------------------------------------
// Bounding

/** How much of each excerpt to show; smaller levels are tried until the message fits. */
/** Excerpt lengths of a renderer (internal to the renderers). */
export interface Limits {
  /** Characters of the task text. */
  task: number;
  /** Characters of each attempt's final message. */
  final: number;
  /** Characters of each test output tail (0: no output block). */
  output: number;
  /** Characters of each diff stat (0: file names only). */
  diff: number;
  /** Commands listed per attempt. */
  commands: number;
  /** Evidence lines of a stuck verdict. */
  evidence: number;
  /** Failing test names listed. */
  tests: number;
  /** Attempts shown in detail (the most recent); older ones get one line. */
  detailed: number;
}

const LEVELS: Limits[] = [
  { task: 600, final: 800, output: 1500, diff: 1200, commands: 8, evidence: 5, tests: 10, detailed: 10 },
  { task: 400, final: 400, output: 800, diff: 600, commands: 5, evidence: 3, tests: 6, detailed: 5 },
  { task: 250, final: 250, output: 400, diff: 300, commands: 3, evidence: 2, tests: 4, detailed: 3 },
  { task: 150, final: 150, output: 0, diff: 0, commands: 2, evidence: 1, tests: 3, detailed: 1 },
  { task: 80, final: 80, output: 0, diff: 0, commands: 1, evidence: 1, tests: 2, detailed: 1 },
];

/** First `max` characters of one-paragraph-ish text, cut at a word when possible, with `…`. */
export function head(s: string, max: number): string {
  const t = s.trim();
  if (t.length <= max) return t;
  const cut = t.slice(0, Math.max(0, max - 1));
  const space = cut.lastIndexOf(' ');
  return `${space > max * 0.6 ? cut.slice(0, space) : cut}…`;
}

/** Last `max` characters of output (the end of a test run holds the summary), whole lines when possible. */
function tail(s: string, max: number): string {
  const t = s.replace(/\s+$/, '');
  if (t.length <= max) return t;
  const cut = t.slice(t.length - max);
  const nl = cut.indexOf('\n');
  return `…\n${nl >= 0 && nl < max * 0.4 ? cut.slice(nl + 1) : cut}`;
}

/** Cuts a rendered message to `max` characters, closing an open code fence. */
function hardCut(s: string, max: number): string {
  if (s.length <= max) return s;
  const note = '\n… (message truncated)';
  let cut = s.slice(0, max - note.length - 5);
  if ((cut.match(/```/g) ?? []).length % 2 === 1) cut += '\n```';
  return cut + note;
}

/** Renders at the largest level that fits the dialect's cap, else cuts the smallest. */
export function bounded(format: SummaryFormat, render: (d: Dialect, l: Limits) => string): string {
  const d = dialectOf(format);
  const max = MAX_CHARS[format];
  let out = '';
  for (const limits of LEVELS) {
    out = render(d, limits);
    if (out.length <= max) return out;
  }
  return hardCut(out, max);
}

/** Joins lines, dropping `false` / `undefined` parts, collapsing runs of blank lines and trimming blank ends. */
export function join(parts: (string | undefined | false | null)[]): string {
  const lines = parts.filter((p): p is string => typeof p === 'string');
  return lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\n+$/g, '');
}

// ---------------------------------------------------------------------------------------------
// Pieces

/** A budget breach in words, with units: `dollar budget: $5.12 spent of a $5.00 cap`. */
export function describeBudget(b: BudgetBreach): string {
  switch (b.kind) {
    case 'time':
      return `time budget: ${formatDuration(b.spent)} spent of a ${formatDuration(b.cap)} cap`;
    case 'tokens':
      return `token budget: ${formatCount(b.spent)} tokens spent of a ${formatCount(b.cap)}-token cap`;
    case 'usd':
      return `dollar budget: ${formatUsd(b.spent)} spent of a ${formatUsd(b.cap)} cap`;
  }
}

/** Test results in words: `passing`, `failing (exit 1, 2 failing tests)`, `not run`. */
function describeTests(v: ValidationResult | undefined): string {
  if (!v) return 'not run';
  if (v.passed) return 'passing';
  const n = v.failingTests.length;
  return `failing (exit ${v.exitCode}${n > 0 ? `, ${n} failing test${n === 1 ? '' : 's'}` : ''})`;
}

function describeSpend(spend: Spend): string {
  return `${formatCount(spend.tokens)} tokens (in ${formatCount(spend.inputTokens)}, out ${formatCount(spend.outputTokens)}, cache read ${formatCount(spend.cacheReadTokens)}, cache write ${formatCount(spend.cacheWriteTokens)}), ${formatUsd(spend.usd)}`;
}

function command(d: Dialect, c: CommandRecord): string {
  const status = c.interrupted ? 'stopped by Nightshift' : c.exitCode !== undefined ? `exit ${c.exitCode}` : c.isError ? 'error' : 'ok';
  return `${d.code(head(c.command, 160))} → ${status}`;
}

/** Why an attempt stopped: lines, the first a summary. */
function stopLines(d: Dialect, a: AttemptRecord, l: Limits): string[] {
  const lines: string[] = [];
  switch (a.end) {
    case 'budget':
      lines.push(a.budget ? `out of budget: ${describeBudget(a.budget)}` : 'out of budget');
      break;
    case 'stuck':
      if (a.stuck) {
        lines.push(`stuck (${d.code(a.stuck.rule)}, ${a.stuck.repeats}×): ${d.text(a.stuck.message)}`);
        for (const e of a.stuck.evidence.slice(0, l.evidence)) lines.push(`  ${d.bullet(d.text(head(e, 240)))}`);
      } else lines.push('stopped as stuck');
      break;
    case 'permission_denied':
      lines.push('the agent was denied permissions');
      break;
    case 'agent_error':
      lines.push('the agent ended with an error');
      break;
    case 'host_lost':
      lines.push('cut off: its worker host was lost');
      break;
    case 'agent_exited':
      lines.push(a.validation && !a.validation.passed ? `the agent finished; Nightshift's tests: ${describeTests(a.validation)}` : 'the agent finished');
      break;
  }
  // The workflow's own failure note, unless it only repeats the failing test run shown above.
  const repeatsTests = a.validation && !a.validation.passed && /^tests failed\b/.test(a.failure ?? '');
  if (a.failure && !repeatsTests && !lines[0]!.includes(a.failure)) lines.push(`  ${d.bullet(d.text(head(a.failure, 300)))}`);
  return lines;
}

function attemptTitle(a: AttemptRecord): string {
  return `Attempt ${a.attempt} — ${a.agent} (${a.model}), ${formatDuration(a.durationMs)}, ${formatCount(a.spend.tokens)} tokens, ${formatUsd(a.spend.usd)}`;
}

function attemptDetail(d: Dialect, a: AttemptRecord, l: Limits): string {
  const stop = stopLines(d, a, l);
  const parts: string[] = [d.bold(d.text(attemptTitle(a))), d.bullet(`${d.bold('Why it stopped:')} ${stop[0]}`), ...stop.slice(1)];
  const final = a.finalMessage.trim();
  parts.push(d.bullet(`${d.bold('Approach')} (the agent's last message):${final ? '' : ' none'}`));
  if (final) parts.push(d.quote(head(final, l.final)));
  if (a.filesChanged.length === 0) parts.push(d.bullet(`${d.bold('Files changed:')} none`));
  else if (l.diff > 0 && a.diffStat.trim()) {
    parts.push(d.bullet(`${d.bold('Files changed:')}`));
    parts.push(d.block(tail(a.diffStat, l.diff)));
  } else {
    const shown = a.filesChanged.slice(0, 8).map((f) => d.code(f));
    const more = a.filesChanged.length - shown.length;
    parts.push(d.bullet(`${d.bold('Files changed:')} ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`));
  }
  if (a.commands.length > 0) {
    const shown = a.commands.slice(-l.commands);
    const more = a.commands.length - shown.length;
    parts.push(d.bullet(`${d.bold('Commands that mattered:')}${more > 0 ? ` (last ${shown.length} of ${a.commands.length})` : ''}`));
    for (const c of shown) parts.push(`  ${d.bullet(command(d, c))}`);
  }
  const v = a.validation;
  if (v && !v.passed) {
    const names = v.failingTests.slice(0, l.tests).map((t) => d.code(head(t, 120)));
    const more = v.failingTests.length - names.length;
    parts.push(
      d.bullet(
        `${d.bold('Failing tests')} (${d.code(head(v.command, 120))}, exit ${v.exitCode}): ${names.length > 0 ? names.join(', ') + (more > 0 ? ` and ${more} more` : '') : 'not recognisable from the output'}`,
      ),
    );
    if (l.output > 0 && v.outputTail.trim()) parts.push(d.block(tail(v.outputTail, l.output)));
  } else if (v) {
    parts.push(d.bullet(`${d.bold('Tests:')} passing`));
  }
  return parts.join('\n');
}

function attemptLine(d: Dialect, a: AttemptRecord, l: Limits): string {
  return d.bullet(`${d.text(attemptTitle(a))}: ${stopLines(d, a, l)[0]}`);
}

function sourceLink(d: Dialect, source: TaskSource | undefined): string | undefined {
  if (!source) return undefined;
  switch (source.kind) {
    case 'linear':
      if (source.issueUrl) return d.link(source.issueUrl, source.issueIdentifier ?? 'Linear issue');
      return `Linear issue ${d.text(source.issueIdentifier ?? source.issueId)}`;
    case 'slack':
      return `a Slack thread (channel ${d.text(source.channel)}, thread ${d.text(source.threadTs)})`;
    case 'cli':
      return 'the command line';
  }
}

function branchLine(d: Dialect, wipBranch: string | undefined): string {
  return wipBranch ? `${d.bold('Partial work:')} branch ${d.code(wipBranch)}` : `${d.bold('Partial work:')} none was pushed`;
}

// ---------------------------------------------------------------------------------------------
// Renderers

/**
 * The escalation: what the task was, what each attempt did and why it stopped (budget spent vs
 * cap, stuck rule and evidence, failing tests and output, infrastructure error), the totals, the
 * WIP branch, and what the reader can do next (reply with guidance, `cancel`, `take over`).
 */
export function renderEscalation(input: EscalationSummaryInput, format: SummaryFormat): string {
  return bounded(format, (d, l) => {
    const n = input.attempts.length;
    const older = input.attempts.slice(0, Math.max(0, n - l.detailed));
    const recent = input.attempts.slice(Math.max(0, n - l.detailed));
    return join([
      d.heading(`Nightshift needs a hand: ${d.text(head(input.goal.title, 200))}`),
      `${d.bold('Why I stopped:')} ${d.text(head(input.reason, 400))}`,
      input.infraError && `${d.bold('Infrastructure error:')} ${d.code(input.infraError.code)} — ${d.text(head(input.infraError.message, 500))}`,
      '',
      d.heading('Goal'),
      d.text(head(input.goal.title, 200)),
      input.goal.task.trim() && d.quote(head(input.goal.task, l.task)),
      '',
      d.heading(`What I tried (${n} attempt${n === 1 ? '' : 's'})`),
      n === 0 && 'No attempt ran.',
      ...older.map((a) => attemptLine(d, a, l)),
      ...recent.flatMap((a) => ['', attemptDetail(d, a, l)]),
      '',
      d.heading('Totals'),
      d.bullet(`${d.bold('Time:')} ${formatDuration(input.durationMs)}`),
      d.bullet(`${d.bold('Tokens:')} ${formatCount(input.spend.tokens)} (in ${formatCount(input.spend.inputTokens)}, out ${formatCount(input.spend.outputTokens)}, cache read ${formatCount(input.spend.cacheReadTokens)}, cache write ${formatCount(input.spend.cacheWriteTokens)})`),
      d.bullet(`${d.bold('Cost:')} ${formatUsd(input.spend.usd)} (${formatCount(input.spend.requests)} model request${input.spend.requests === 1 ? '' : 's'}${input.spend.refusals > 0 ? `, ${formatCount(input.spend.refusals)} refused or trimmed by the budget` : ''})`),
      '',
      branchLine(d, input.wipBranch),
      '',
      d.heading('What you can do'),
      d.bullet(`Reply with guidance: I'll make a new attempt with it, with a fresh budget tranche.`),
      d.bullet(`Reply ${d.code('cancel')} to close this run.`),
      d.bullet(`Reply ${d.code('take over')} to take the branch from here.`),
    ]);
  });
}

/**
 * The success report: the pull request link, branch, tests before and after, attempts, tokens,
 * cost and duration. Without `prUrl` it is the pull request's body (task excerpt, origin, the
 * agent's summary, diff stat, the run id as a trailer-like line).
 */
export function renderSuccess(input: SuccessSummaryInput, format: SummaryFormat): string {
  return bounded(format, (d, l) => {
    const last = input.attempts.at(-1);
    const after = input.testsAfter ?? [...input.attempts].reverse().find((a) => a.validation)?.validation;
    const n = input.attempts.length;
    const isBody = !input.prUrl;
    const origin = sourceLink(d, input.source);
    return join([
      isBody ? d.heading(d.text(head(input.title, 200))) : d.heading(`Pull request opened: ${d.text(head(input.title, 200))}`),
      input.prUrl && `${d.bold('Pull request:')} ${d.link(input.prUrl, input.prUrl)}`,
      input.branch && `${d.bold('Branch:')} ${d.code(input.branch)}`,
      isBody && origin && `Requested from ${origin}.`,
      isBody && input.task?.trim() && d.quote(head(input.task, l.task)),
      isBody && last?.finalMessage.trim() && '',
      isBody && last?.finalMessage.trim() && d.bold("The agent's summary"),
      isBody && last?.finalMessage.trim() && d.quote(head(last.finalMessage, l.final)),
      isBody && last && l.diff > 0 && last.diffStat.trim() && d.block(tail(last.diffStat, l.diff)),
      '',
      d.bullet(`${d.bold('Tests:')} before ${describeTests(input.testsBefore)} → after ${describeTests(after)}${after ? ` (${d.code(head(after.command, 120))}, run by Nightshift)` : ''}`),
      input.routing && d.bullet(d.text(describeRouting(input.routing, n))),
      d.bullet(`${d.bold('Attempts:')} ${n}`),
      d.bullet(`${d.bold('Tokens:')} ${formatCount(input.spend.tokens)}`),
      d.bullet(`${d.bold('Cost:')} ${formatUsd(input.spend.usd)}`),
      d.bullet(`${d.bold('Time:')} ${formatDuration(input.durationMs)}`),
      input.gate && '',
      input.gate && renderGateSection(d, input.gate),
      input.notes?.length ? '' : undefined,
      renderNotesSection(d, input.notes),
      input.clarify && '',
      renderClarifySection(d, input.clarify),
      isBody && input.workflowId && '',
      isBody && input.workflowId && `Nightshift run ${d.code(input.workflowId)}`,
    ]);
  });
}

/** Scoping refused the task: why, and how to ask again. */
export function renderRejection(input: RejectionSummaryInput, format: SummaryFormat): string {
  return bounded(format, (d) =>
    join([
      `${d.bold("Nightshift can't take this on")}${input.title ? `: ${d.text(head(input.title, 200))}` : ''}`,
      `${d.bold('Why:')} ${d.text(head(input.reason, 1000))}`,
      'A task I can do names a repository, asks for a bounded change, and says what the tests should show when it is done. Edit the request and ask again.',
    ]),
  );
}

/** The run was cancelled. */
export function renderCancelled(input: CancelledSummaryInput, format: SummaryFormat): string {
  return bounded(format, (d) =>
    join([
      `${d.bold('Nightshift run cancelled')} by ${d.text(input.by)}${input.reason ? ` (${d.text(head(input.reason, 300))})` : ''}.`,
      `${input.attempts} attempt${input.attempts === 1 ? '' : 's'}; spent ${describeSpend(input.spend)}.`,
      branchLine(d, input.wipBranch),
    ]),
  );
}

/** A human took the work over. */
export function renderHandedOver(input: HandedOverSummaryInput, format: SummaryFormat): string {
  return bounded(format, (d) =>
    join([
      `${d.bold('Handed over')} to ${d.text(input.by)}. Nightshift will not touch this task again.`,
      input.wipBranch
        ? `The partial work is on branch ${d.code(input.wipBranch)}: ${d.code(`git fetch origin ${input.wipBranch} && git switch ${input.wipBranch}`)}`
        : 'No partial work was pushed.',
      `${input.attempts} attempt${input.attempts === 1 ? '' : 's'}; spent ${describeSpend(input.spend)}.`,
    ]),
  );
}

/** Nobody replied to the escalation in time: the run is closed. */
export function renderTimedOut(input: TimedOutSummaryInput, format: SummaryFormat): string {
  return bounded(format, (d) =>
    join([
      `${d.bold('Closing this Nightshift run:')} no ${d.text(input.waitedFor ?? 'reply')} within ${formatDuration(input.waitedMs)}.`,
      input.spend && `Spent ${describeSpend(input.spend)}.`,
      input.note ? d.text(input.note) : branchLine(d, input.wipBranch),
      'Start a new run to try again.',
    ]),
  );
}

/** The run failed outright (not an escalation): the error, and the run id to look it up. */
export function renderFailure(input: FailureSummaryInput, format: SummaryFormat): string {
  return bounded(format, (d) =>
    join([
      `${d.bold('Nightshift run failed')}: ${d.code(input.code)} — ${d.text(head(input.message, 1000))}`,
      input.workflowId && `Run id: ${d.code(input.workflowId)} (its history is in Temporal).`,
      input.spend && `Spent ${describeSpend(input.spend)}.`,
      'Nothing was merged. Ask again once the problem is fixed.',
    ]),
  );
}
