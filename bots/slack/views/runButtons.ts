/**
 * The buttons of a run's messages (Block Kit `button` elements,
 * https://docs.slack.dev/reference/block-kit/block-elements/button-element) and what replaces them
 * once someone acted. Every button's `value` is the run's workflow id, nothing else (no secret).
 * Handled by `actions/` (one file per action id).
 */

/** Action ids. */
export const ACTIONS = {
  cancel: 'nightshift_cancel',
  guidance: 'nightshift_guidance',
  takeOver: 'nightshift_take_over',
  approve: 'nightshift_approve',
  reject: 'nightshift_reject',
} as const;

/** `block_id` of the buttons of an escalation / approval reply. */
export const BUTTONS_BLOCK = { escalation: 'nightshift_escalation', approval: 'nightshift_approval' } as const;

const MAX_SECTION = 3_000;
/** Most message blocks Slack accepts. */
const MAX_BLOCKS = 50;

type Style = 'primary' | 'danger';

function button(actionId: string, label: string, workflowId: string, style?: Style, confirm?: { title: string; text: string; ok: string }): Record<string, unknown> {
  return {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text: label },
    value: workflowId,
    ...(style ? { style } : {}),
    ...(confirm
      ? { confirm: { title: { type: 'plain_text', text: confirm.title }, text: { type: 'mrkdwn', text: confirm.text }, confirm: { type: 'plain_text', text: confirm.ok }, deny: { type: 'plain_text', text: 'Back' } } }
      : {}),
  };
}

/** *Cancel* (with a confirmation dialog). */
export function cancelButton(workflowId: string): Record<string, unknown> {
  return button(ACTIONS.cancel, 'Cancel', workflowId, 'danger', { title: 'Cancel this run?', text: 'The agent stops; partial work is pushed to a WIP branch.', ok: 'Cancel the run' });
}

/** Splits mrkdwn into sections of at most 3,000 characters, on line breaks where possible. */
export function sections(mrkdwn: string, max = MAX_SECTION): unknown[] {
  const out: unknown[] = [];
  let rest = mrkdwn;
  while (rest.length > 0) {
    let cut = rest.length <= max ? rest.length : rest.lastIndexOf('\n', max);
    if (cut <= 0) cut = Math.min(max, rest.length);
    out.push({ type: 'section', text: { type: 'mrkdwn', text: rest.slice(0, cut) } });
    rest = rest.slice(cut).replace(/^\n/, '');
  }
  return out;
}

/** Which buttons a report carries, by its kind. */
export type ButtonSet = 'escalation' | 'approval';

/** The buttons of an escalation (guidance, take over, cancel) or an approval request (approve, reject). */
export function reportButtons(set: ButtonSet, workflowId: string): Record<string, unknown> {
  const elements =
    set === 'escalation'
      ? [button(ACTIONS.guidance, 'Reply with guidance', workflowId, 'primary'), button(ACTIONS.takeOver, 'Take over', workflowId), cancelButton(workflowId)]
      : [
          button(ACTIONS.approve, 'Approve', workflowId, 'primary', { title: 'Approve this change?', text: 'Nightshift pushes it and opens the pull request.', ok: 'Approve' }),
          button(ACTIONS.reject, 'Reject', workflowId, 'danger'),
        ];
  return { type: 'actions', block_id: BUTTONS_BLOCK[set], elements };
}

/** A report posted in a run's thread with its buttons: the report's text in sections, then the buttons. */
export function reportWithButtons(set: ButtonSet, workflowId: string, mrkdwn: string): { text: string; blocks: unknown[] } {
  const body = sections(mrkdwn).slice(0, MAX_BLOCKS - 2);
  const hint = set === 'escalation' ? 'Or reply in this thread: guidance, `cancel` or `take over`.' : 'Or reply `approve` / `reject` in this thread.';
  return { text: mrkdwn, blocks: [...body, reportButtons(set, workflowId), { type: 'context', elements: [{ type: 'mrkdwn', text: hint }] }] };
}

/** What a human did, for the context line that replaces the buttons. */
export function decidedLine(user: string, did: string, at: Date): string {
  const unix = Math.floor(at.getTime() / 1000);
  return `<@${user}> ${did} <!date^${unix}^{date_short_pretty} at {time}|${at.toISOString()}>`;
}

/**
 * The message's blocks with its `actions` blocks replaced by one context line (`line`, mrkdwn):
 * the buttons are gone, the report stays.
 */
export function withoutButtons(blocks: unknown[] | undefined, line: string): unknown[] {
  const kept = (blocks ?? []).filter((b) => (b as { type?: string }).type !== 'actions' && (b as { block_id?: string }).block_id !== 'nightshift_decided');
  return [...kept.slice(0, MAX_BLOCKS - 1), { type: 'context', block_id: 'nightshift_decided', elements: [{ type: 'mrkdwn', text: line }] }];
}
