/**
 * The modals of a run's buttons (https://docs.slack.dev/surfaces/modals): guidance for an
 * escalated run, and the (optional) reason of a rejection. The modal's `private_metadata` carries
 * the run's workflow id and the message the button was on (to update it after the submission),
 * never a secret; at most 3,000 characters.
 */

/** `callback_id`s of the modals. */
export const MODALS = { guidance: 'nightshift_guidance_modal', reject: 'nightshift_reject_modal' } as const;
/** The input's `block_id` / `action_id` in both modals. */
export const INPUT_BLOCK = 'nightshift_text';
export const INPUT_ACTION = 'text';

/** What a modal remembers between the click and the submission. */
export interface ModalMetadata {
  workflowId: string;
  /** Channel and ts of the message whose buttons were clicked. */
  channel: string;
  ts: string;
  /** The thread the message is in (its own ts when it is a root). */
  threadTs: string;
}

/** Encodes {@link ModalMetadata} as `private_metadata`. */
export function encodeMetadata(m: ModalMetadata): string {
  return JSON.stringify({ w: m.workflowId, c: m.channel, t: m.ts, r: m.threadTs });
}

/** Decodes `private_metadata`; undefined when it is not ours. */
export function decodeMetadata(raw: string | undefined): ModalMetadata | undefined {
  try {
    const o = JSON.parse(raw ?? '') as { w?: unknown; c?: unknown; t?: unknown; r?: unknown };
    if (typeof o.w !== 'string' || typeof o.c !== 'string' || typeof o.t !== 'string') return undefined;
    return { workflowId: o.w, channel: o.c, ts: o.t, threadTs: typeof o.r === 'string' ? o.r : o.t };
  } catch {
    return undefined;
  }
}

/** Longest guidance / reason accepted, characters (Slack's plain-text input allows 3,000). */
export const MAX_INPUT = 3_000;

function modal(callbackId: string, title: string, submit: string, meta: ModalMetadata, intro: string, label: string, optional: boolean): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: { type: 'plain_text', text: title },
    submit: { type: 'plain_text', text: submit },
    close: { type: 'plain_text', text: 'Back' },
    private_metadata: encodeMetadata(meta),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: intro } },
      {
        type: 'input',
        block_id: INPUT_BLOCK,
        optional,
        label: { type: 'plain_text', text: label },
        element: { type: 'plain_text_input', action_id: INPUT_ACTION, multiline: true, max_length: MAX_INPUT },
      },
    ],
  };
}

/** The guidance modal (a new attempt with a fresh budget tranche follows the answer). */
export function guidanceModal(meta: ModalMetadata): Record<string, unknown> {
  return modal(MODALS.guidance, 'Guide the run', 'Send', meta, `Guidance for \`${meta.workflowId}\`: the agent gets it with its next attempt (and a fresh budget tranche).`, 'What should it do differently?', false);
}

/** The rejection modal (the reason is optional). */
export function rejectModal(meta: ModalMetadata): Record<string, unknown> {
  return modal(MODALS.reject, 'Reject the change', 'Reject', meta, `Nothing is pushed for \`${meta.workflowId}\`; the run asks for guidance.`, 'Why? (optional)', true);
}

/** The text typed in a submitted modal (trimmed; '' when empty). */
export function submittedText(values: Record<string, Record<string, { value?: string | null }>> | undefined): string {
  return (values?.[INPUT_BLOCK]?.[INPUT_ACTION]?.value ?? '').trim();
}
