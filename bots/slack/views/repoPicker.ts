/**
 * The clarifying question of a run request that names no repository: a `static_select` of the
 * configured repositories (Block Kit, https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element).
 * The pending request's key travels as the block's `block_id`; the pick is handled by
 * `actions/pickRepo.ts` (action id {@link PICK_REPO_ACTION}).
 */

/** `action_id` of the repo picker. */
export const PICK_REPO_ACTION = 'nightshift_pick_repo';

/** Slack's limit of options in a static select. */
const MAX_OPTIONS = 100;

/** The ephemeral message asking for the repository (text fallback + blocks). */
export function repoPicker(pendingKey: string, repos: string[], task: string): { text: string; blocks: unknown[] } {
  const text = `Which repository is this for? (${repos.join(', ')})`;
  const shown = task.length > 200 ? `${task.slice(0, 199)}…` : task;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `Which repository should I work on for:\n> ${shown.replace(/\n/g, ' ')}` } },
      {
        type: 'actions',
        block_id: pendingKey,
        elements: [
          {
            type: 'static_select',
            action_id: PICK_REPO_ACTION,
            placeholder: { type: 'plain_text', text: 'Pick a repository' },
            options: repos.slice(0, MAX_OPTIONS).map((r) => ({ text: { type: 'plain_text', text: r.slice(0, 75) }, value: r.slice(0, 150) })),
          },
        ],
      },
    ],
  };
}
