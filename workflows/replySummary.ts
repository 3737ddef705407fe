/**
 * Messages about replies and questions: the acknowledgement of a note sent while the run works,
 * and a clarifying question at scope. Pure and deterministic (bundled into workflow code).
 */
import { bounded, head, join, type SummaryFormat } from './summary.js';

/** The acknowledgement of guidance sent while an attempt runs (report kind `reply_noted`). */
export function renderReplyNoted(input: { author: string; text: string }, format: SummaryFormat): string {
  return bounded(format, (d) =>
    join([
      `${d.bold('Noted')} — it goes into the next attempt; if this attempt passes, the PR is opened as is and your note is listed in it.`,
      d.quote(head(input.text, 300)),
    ]),
  );
}

/** A clarifying question at scope (report kind `question`): the question, the choices, how to answer. */
export function renderQuestion(input: { title: string; question: string; options?: string[]; rationale: string }, format: SummaryFormat): string {
  return bounded(format, (d) =>
    join([
      `${d.bold('Before I start')}: ${d.text(head(input.title, 200))}`,
      d.text(head(input.question, 1000)),
      ...(input.options ?? []).map((o) => d.bullet(d.code(o))),
      `${d.bold('Why I ask:')} ${d.text(head(input.rationale, 400))}`,
      input.options?.length ? 'Reply with one of the choices (and anything that helps).' : 'Reply here with the answer; I will scope the task again with it.',
    ]),
  );
}
