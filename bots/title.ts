/**
 * A run's title from its task text (Slack `/nightshift run`, `nightshift submit`): the first
 * sentence of the first line, at most {@link TITLE_MAX} characters cut at a word boundary. The
 * task itself keeps everything (a "Done when …" criterion stays in the task, not in the title).
 */

/** Most characters of a title (the ellipsis included). */
export const TITLE_MAX = 80;

/**
 * The title of `task`: its first line's first sentence (ending `.`, `!` or `?` before a space;
 * `calc.py` is no sentence end; a final `.` is dropped), clipped to {@link TITLE_MAX} characters
 * at the last word boundary (`…` added). Empty for an empty task.
 */
export function titleOf(task: string): string {
  const line = (task.split('\n')[0] ?? '').trim().replace(/\s+/g, ' ');
  const sentence = /^(.+?[.!?])(?=\s)/.exec(line)?.[1] ?? line;
  const t = sentence.replace(/\.$/, '');
  if (t.length <= TITLE_MAX) return t;
  const cut = t.slice(0, TITLE_MAX - 1);
  const space = cut.lastIndexOf(' ');
  const head = space >= TITLE_MAX / 2 ? cut.slice(0, space) : cut;
  return `${head.replace(/[\s,;:–-]+$/, '')}…`;
}
