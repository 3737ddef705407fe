/**
 * The digest as a Slack Block Kit message: a header, the night's totals (context), a section per
 * part, and one section per escalation with a URL button opening its thread (Slack permalink or
 * Linear issue). Within Slack's limits: at most 50 blocks, section text at most 3,000 characters,
 * header text at most 150 (https://docs.slack.dev/reference/block-kit/blocks).
 */
import type { Digest } from './build.js';
import { age, capText, clip, heading, totalsLine, usd } from './format.js';

/** Slack's limits the rendering keeps to. */
export const BLOCK_LIMITS = { blocks: 50, sectionText: 3000, headerText: 150, buttonText: 75 } as const;
/** Escalations shown with their own button (the rest are listed in one section). */
const MAX_ESCALATION_BLOCKS = 15;

/** A Block Kit block (the subset the digest uses). */
export type DigestBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string } }
  | { type: 'context'; elements: Array<{ type: 'mrkdwn'; text: string }> }
  | { type: 'divider' }
  | { type: 'section'; block_id?: string; text: { type: 'mrkdwn'; text: string }; accessory?: { type: 'button'; text: { type: 'plain_text'; text: string }; url: string; action_id: string } };

/** A `chat.postMessage` body: the fallback `text` and the blocks. */
export interface DigestMessage {
  text: string;
  blocks: DigestBlock[];
}

/** Escapes `&`, `<`, `>` for mrkdwn (https://docs.slack.dev/messaging/formatting-message-text#escaping). */
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Sections holding `lines` under a bold title, each at most 3,000 characters. */
function sections(title: string, lines: string[]): DigestBlock[] {
  const all = lines.length ? lines : ['• none'];
  const out: DigestBlock[] = [];
  let text = `*${title}*`;
  for (const l of all) {
    const line = clip(l, BLOCK_LIMITS.sectionText - 100);
    if (text.length + 1 + line.length > BLOCK_LIMITS.sectionText) {
      out.push({ type: 'section', text: { type: 'mrkdwn', text } });
      text = line;
    } else text += `\n${line}`;
  }
  out.push({ type: 'section', text: { type: 'mrkdwn', text } });
  return out;
}

/** Renders the digest for Slack; `tz` is the zone of the header's times. */
export function renderDigestBlocks(d: Digest, tz = 'UTC'): DigestMessage {
  const head: DigestBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(heading(d, tz), BLOCK_LIMITS.headerText) } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: esc(totalsLine(d)) }] },
  ];
  const prs = sections(`Pull requests opened (${d.prs.length})`, d.prs.map((p) => `• <${p.prUrl}|${esc(clip(p.title, 100))}> — ${esc(p.repo)} · tests: ${esc(p.tests)} · ${usd(p.usd)}`));
  const escalations: DigestBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `*Escalations waiting for a human (${d.escalations.length})*${d.escalations.length ? '' : '\n• none'}` } }];
  d.escalations.slice(0, MAX_ESCALATION_BLOCKS).forEach((e, i) => {
    const text = clip(`*${esc(e.title)}* (${esc(e.repo)}) — waiting ${age(e.ageMs)}\n${esc(e.reason)}`, 600);
    escalations.push({
      type: 'section',
      block_id: `digest_escalation_${i}`,
      text: { type: 'mrkdwn', text: e.url ? text : `${text}\n\`nightshift reply ${esc(e.workflowId)}\`` },
      ...(e.url ? { accessory: { type: 'button' as const, text: { type: 'plain_text' as const, text: 'Open thread' }, url: e.url, action_id: `digest_open_${i}` } } : {}),
    });
  });
  const more = d.escalations.slice(MAX_ESCALATION_BLOCKS);
  if (more.length) escalations.push(...sections(`…and ${more.length} more`, more.map((e) => `• ${e.url ? `<${e.url}|${esc(clip(e.title, 80))}>` : esc(clip(e.title, 80))} (${esc(e.repo)}) — waiting ${age(e.ageMs)}`)));
  const ended = sections(`Rejected or failed (${d.ended.length})`, d.ended.map((e) => `• ${esc(clip(e.title, 100))} (${esc(e.repo)}) — ${e.outcome.replace(/_/g, ' ')}${e.reason ? `: ${esc(clip(e.reason, 200))}` : ''}`));
  const open = sections(`Still queued or running (${d.open.length})`, d.open.map((o) => `• ${esc(clip(o.title, 100))} (${esc(o.repo)}) — ${o.status.replace(/_/g, ' ')}${o.reason ? `: ${esc(clip(o.reason, 200))}` : ''}`));
  const spend = sections('Spend', d.spend.length ? d.spend.map((s) => `• ${s.scope} ${esc(s.key)}: ${usd(s.usd)} this period${s.caps.length ? ` · ${s.caps.map(capText).join('; ')}` : ''}`) : ['• nothing spent']);
  // Keep to 50 blocks: the head, spend and totals always; the lists trimmed from the end.
  const parts = [prs, escalations, ended, open];
  let budget = BLOCK_LIMITS.blocks - head.length - spend.length - parts.length - 1;
  let used = parts.reduce((n, p) => n + p.length, 0);
  const trimmed = used > budget;
  if (trimmed) budget -= 1; // room for the note saying so
  while (used > budget) {
    const longest = parts.reduce((a, b) => (b.length > a.length ? b : a));
    longest.pop();
    used--;
  }
  const blocks: DigestBlock[] = [...head];
  for (const p of parts) blocks.push({ type: 'divider' }, ...p);
  blocks.push({ type: 'divider' }, ...spend);
  if (trimmed) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Some entries were left out to fit one message; `nightshift digest` prints them all.' }] });
  return { text: `${heading(d, tz)}: ${totalsLine(d)}`, blocks };
}
