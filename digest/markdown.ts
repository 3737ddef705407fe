/**
 * The digest as Markdown (GitHub-flavoured): what `nightshift digest` prints.
 */
import type { Digest } from './build.js';
import { age, capText, clip, heading, totalsLine, usd } from './format.js';

/** Renders the digest; `tz` is the zone of the heading's times (the team's digest zone). */
export function renderDigestMarkdown(d: Digest, tz = 'UTC'): string {
  const out: string[] = [`# ${heading(d, tz)}`, '', `**The night:** ${totalsLine(d)}`, ''];
  const section = (title: string, lines: string[]): void => {
    out.push(`## ${title} (${lines.length})`, ...(lines.length ? lines : ['- none']), '');
  };
  section('Pull requests opened', d.prs.map((p) => `- [${clip(p.title, 120)}](${p.prUrl}) — ${p.repo} · tests: ${p.tests} · ${usd(p.usd)}`));
  section(
    'Escalations waiting for a human',
    d.escalations.map((e) => `- **${clip(e.title, 120)}** (${e.repo}) — waiting ${age(e.ageMs)} — ${clip(e.reason, 200)}${e.url ? ` · [open the thread](${e.url})` : ` · \`nightshift reply ${e.workflowId}\``}`),
  );
  section('Rejected or failed', d.ended.map((e) => `- ${clip(e.title, 120)} (${e.repo}) — ${e.outcome.replace(/_/g, ' ')}${e.reason ? `: ${clip(e.reason, 200)}` : ''}`));
  section('Still queued or running', d.open.map((o) => `- ${clip(o.title, 120)} (${o.repo}) — ${o.status.replace(/_/g, ' ')}${o.reason ? `: ${clip(o.reason, 200)}` : ''}`));
  out.push('## Spend', '', '| | this period | caps |', '|---|---:|---|');
  for (const s of d.spend) out.push(`| ${s.scope} ${s.key} | ${usd(s.usd)} | ${s.caps.map(capText).join('; ') || 'no cap'} |`);
  if (d.spend.length === 0) out.push('| (nothing spent) | $0.00 | |');
  return `${out.join('\n')}\n`;
}
