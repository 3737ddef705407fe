/**
 * A Slack thread as a person would read it, from what FakeSlack recorded: the root message's
 * successive states (its `chat.postMessage`, then each `chat.update`) and the replies in the
 * thread. Block Kit is flattened to text: sections and context lines as they read, buttons as
 * `[ Label ]`. For the demo and for debugging tests.
 */
import type { FakeSlack } from './slack.js';

type Block = { type?: string; text?: { text?: string }; elements?: { type?: string; text?: string | { text?: string } }[] };

/** The text of a message's blocks (or its `text` when it has none), one line per block. */
export function flattenBlocks(blocks: unknown[] | undefined, text: string): string {
  if (!blocks || blocks.length === 0) return text;
  return (blocks as Block[])
    .map((b) => {
      if (b.type === 'section') return b.text?.text ?? '';
      if (b.type === 'context') return (b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : '')).join('  ');
      if (b.type === 'actions') return (b.elements ?? []).map((e) => `[ ${typeof e.text === 'object' ? e.text.text : ''} ]`).join(' ');
      return '';
    })
    .filter(Boolean)
    .join('\n');
}

const indent = (s: string): string => s.split('\n').map((l) => `    ${l}`).join('\n');

/** The thread of `rootTs` in `channel`, as lines of text. Times are relative to the root's post. */
export function threadTranscript(fake: FakeSlack, channel: string, rootTs: string): string {
  const post = fake.callsOf('chat.postMessage').find((c) => c.args.channel === channel && !c.args.thread_ts);
  const t0 = post?.at ?? 0;
  const rel = (at: number): string => `+${((at - t0) / 1000).toFixed(1)} s`;
  const updates = fake.callsOf('chat.update').filter((c) => c.args.channel === channel && c.args.ts === rootTs);
  const lines: string[] = [`── #${channel}: the run's root message, ${updates.length + 1} states (chat.postMessage, then chat.update) ──`];
  if (post) lines.push(`  state 1 ${rel(post.at)}`, indent(flattenBlocks(post.args.blocks as unknown[] | undefined, String(post.args.text ?? ''))));
  updates.forEach((u, i) => lines.push(`  state ${i + 2} ${rel(u.at)}`, indent(flattenBlocks(u.args.blocks as unknown[] | undefined, String(u.args.text ?? '')))));
  const replies = fake.messages.filter((m) => m.channel === channel && m.thread_ts === rootTs).sort((a, b) => Number(a.ts) - Number(b.ts));
  lines.push('', `── replies in the thread (${replies.length}) ──`);
  for (const r of replies) {
    const call = fake.callsOf('chat.postMessage').find((c) => c.args.thread_ts === rootTs && c.args.text === r.text);
    lines.push(`  ${r.bot_id ? 'Nightshift' : `<@${r.user}>`} ${call ? rel(call.at) : ''}`, indent(flattenBlocks(r.blocks, r.text)));
  }
  return lines.join('\n');
}
