/**
 * Report sections about the humans' side of a run: notes sent while it worked that no attempt
 * acted on, and the clarifying assessment at scope. Pure; shared by the PR body and the reports.
 */
import type { Dialect } from './summary.js';
import type { ClarifyRecord } from './types.js';

/** A note sent while the run worked. */
export interface RunNote {
  author: string;
  text: string;
}

const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** "Notes not acted on": guidance that arrived during the attempt that passed (the PR is as that attempt made it). */
export function renderNotesSection(d: Dialect, notes: readonly RunNote[] | undefined): string | undefined {
  if (!notes || notes.length === 0) return undefined;
  return [
    d.bold('Notes not acted on'),
    'These arrived while the attempt that passed was running; the pull request is opened as that attempt made it:',
    ...notes.slice(0, 10).map((n) => d.bullet(`${d.text(n.author)}: ${d.text(clip(n.text.trim(), 500))}`)),
  ].join('\n');
}

/** The clarifying assessment: decision, rationale, questions and answers. */
export function renderClarifySection(d: Dialect, c: ClarifyRecord | undefined): string | undefined {
  if (!c) return undefined;
  const lines = [`${d.bold('Scope check:')} ${c.decision === 'skipped' ? 'skipped' : c.decision} — ${d.text(clip(c.rationale, 400))}`];
  for (const q of c.questions) {
    lines.push(d.bullet(`Asked: ${d.text(clip(q.question, 300))} → ${q.answer ? `${d.text(clip(q.answer, 300))}${q.by ? ` (${d.text(q.by)})` : ''}` : 'no answer'}`));
  }
  return lines.join('\n');
}
