/**
 * The live message of a run (Block Kit, https://docs.slack.dev/reference/block-kit/blocks): what
 * the run does now, kept current in place with `chat.update`. Pure: a snapshot in, `{text, blocks}`
 * out. Within Slack's limits: ≤ 50 blocks, section text ≤ 3,000 characters, context elements ≤ 10.
 */
import type { LiveStatusInput } from '../../../workflows/activityTypes.js';
import type { RunOutcomeKind, RunPhase } from '../../../workflows/types.js';
import { cancelButton } from './runButtons.js';

/** Width of the spend bars, characters. */
export const BAR_WIDTH = 10;
const MAX_SECTION = 3_000;

const PHASES: Record<RunPhase, string> = {
  scoping: ':mag: Scoping the task',
  waiting_for_window: ':hourglass_flowing_sand: Waiting for the run window',
  waiting_for_budget: ':moneybag: Waiting for the next spend-cap period',
  queued: ':busstop: Queued for a sandbox',
  preparing: ':package: Preparing the workspace and environment',
  running_agent: ':robot_face: The agent is working',
  validating: ':test_tube: Running the tests',
  awaiting_approval: ':raised_hand: Waiting for an approval (see the thread)',
  delivering: ':rocket: Opening the pull request',
  escalating: ':sos: Escalating',
  awaiting_human: ':speech_balloon: Waiting for a human (see the thread)',
  awaiting_answer: ':question: Waiting for an answer to a question (see the thread)',
  done: ':checkered_flag: Done',
};

const OUTCOMES: Record<RunOutcomeKind, string> = {
  pr_opened: ':white_check_mark: Pull request opened',
  environment_failed: ':x: The environment could not be prepared',
  rejected: ':no_entry: Not taken: the task was rejected',
  cancelled: ':octagonal_sign: Cancelled',
  handed_over: ':handshake: Handed over to a human',
  escalation_timed_out: ':zzz: Nobody answered in time',
  failed: ':x: Failed',
};

/** `[████░░░░░░] 40%` for `used` of `cap` (clamped to 0–100 %). */
export function bar(used: number, cap: number, width = BAR_WIDTH): string {
  const frac = cap > 0 ? Math.min(1, Math.max(0, used / cap)) : 0;
  const full = Math.round(frac * width);
  return `\`[${'█'.repeat(full)}${'░'.repeat(width - full)}]\` ${Math.round(frac * 100)}%`;
}

/** `1h 02m`, `3m 05s`, `12s` for a duration in ms. */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Escapes Slack's three control characters in user-supplied text (https://docs.slack.dev/messaging/formatting-message-text#escaping). */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max = MAX_SECTION): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const tokensFmt = (n: number): string => (n >= 1_000_000 ? `${(n / 1_000_000).toFixed(1)}M` : n >= 1_000 ? `${Math.round(n / 1_000)}k` : String(n));

/** Links shown under the message. */
export interface LiveLinks {
  /** The run in the Temporal Web UI. */
  temporal?: string;
}

/** The live message for a snapshot: text fallback (notifications, screen readers) and blocks. */
export function liveStatusMessage(s: LiveStatusInput, links: LiveLinks = {}): { text: string; blocks: unknown[] } {
  const head = `:crescent_moon: *Nightshift run* on \`${esc(s.repo)}\` for <@${s.requester}>\n> ${esc(s.title)}`;
  const state = s.outcome ? OUTCOMES[s.outcome.kind] : PHASES[s.phase];
  const attempt = s.maxAttempts > 0 && s.attempt > 0 ? ` · attempt ${s.attempt}/${s.maxAttempts}` : '';
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: clip(head) } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(`*${state}*${attempt} · ${elapsed(s.elapsedMs)}`) } },
  ];
  if (s.outcome) {
    const o = s.outcome;
    const lines = [
      o.prUrl ? `<${o.prUrl}|${o.draft ? 'Draft pull request' : 'Pull request'}>${o.branch ? ` from \`${esc(o.branch)}\`` : ''}` : '',
      o.wipBranch ? `Partial work: \`${esc(o.wipBranch)}\`` : '',
      o.reason && o.kind !== 'pr_opened' ? `_${esc(o.reason)}_` : '',
    ].filter(Boolean);
    if (lines.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n')) } });
  }
  const spend = s.budget
    ? [`*$* ${bar(s.spend.usd, s.budget.usd)} $${s.spend.usd.toFixed(2)} of $${s.budget.usd.toFixed(2)}`, `*tokens* ${bar(s.spend.tokens, s.budget.tokens)} ${tokensFmt(s.spend.tokens)} of ${tokensFmt(s.budget.tokens)}`]
    : [`*Spent* $${s.spend.usd.toFixed(2)}, ${tokensFmt(s.spend.tokens)} tokens`];
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(spend.join('\n')) } });
  if (s.lastEvents.length > 0 && !s.outcome) {
    blocks.push({ type: 'context', elements: s.lastEvents.slice(-5).map((e) => ({ type: 'mrkdwn', text: clip(`\`${esc(e).replace(/`/g, "'")}\``, 300) })) });
  }
  const linkParts = [s.outcome?.prUrl ? `<${s.outcome.prUrl}|PR>` : '', links.temporal ? `<${links.temporal}|Run in Temporal>` : '', `\`${s.workflowId}\``].filter(Boolean);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: linkParts.join(' · ') }] });
  if (!s.outcome && s.phase !== 'done') blocks.push({ type: 'actions', block_id: 'nightshift_live', elements: [cancelButton(s.workflowId)] });
  const text = `Nightshift run on ${s.repo}: ${state.replace(/^:[\w_]+: /, '')}${attempt}${s.outcome?.prUrl ? ` ${s.outcome.prUrl}` : ''}`;
  return { text, blocks };
}
