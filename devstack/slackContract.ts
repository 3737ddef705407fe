/**
 * The documented argument contract of the Slack Web API methods Nightshift calls, as FakeSlack
 * checks it (https://docs.slack.dev/reference/methods/<method>; Block Kit limits from
 * https://docs.slack.dev/reference/block-kit/blocks). A violation is answered the way Slack does:
 * `{ok:false, error}` with the method's documented error code (`invalid_arguments`, `no_text`,
 * `msg_too_long`, `invalid_blocks`, …) and `response_metadata.messages` naming the field.
 */

/** Arguments as received (form fields are strings; JSON-typed fields already parsed). */
export type Args = Record<string, unknown>;

/** A contract violation: Slack's error code and the messages it would add. */
export interface Violation {
  error: string;
  messages: string[];
}

/** Most blocks in a message / in a modal or Home tab. */
export const MAX_MESSAGE_BLOCKS = 50;
export const MAX_VIEW_BLOCKS = 100;
/** Longest message `text`, characters (Slack truncates beyond 40,000 and refuses far beyond). */
export const MAX_TEXT = 40_000;
/** Longest section text, characters. */
export const MAX_SECTION_TEXT = 3_000;
/** Longest `block_id` / `action_id`, characters. */
export const MAX_ID = 255;
/** Longest modal title, characters. */
export const MAX_VIEW_TITLE = 24;
/** Longest `private_metadata`, characters. */
export const MAX_PRIVATE_METADATA = 3_000;

/** Fields whose form value Slack parses as JSON. */
export const JSON_FIELDS = ['blocks', 'attachments', 'view', 'metadata'];

const TS = /^\d{1,12}\.\d{1,8}$/;

/** Checks `args` of `method`; undefined when they are acceptable. Unknown methods are not checked here. */
export function checkArgs(method: string, args: Args): Violation | undefined {
  const missing = (...fields: string[]): Violation | undefined => {
    const absent = fields.filter((f) => typeof args[f] !== 'string' || args[f] === '');
    return absent.length ? { error: 'invalid_arguments', messages: absent.map((f) => `[ERROR] missing required field: ${f}`) } : undefined;
  };
  const tsField = (f: string): Violation | undefined =>
    args[f] !== undefined && !(typeof args[f] === 'string' && TS.test(args[f])) ? { error: 'invalid_arguments', messages: [`[ERROR] ${f} must be a message timestamp such as 1712345678.000100`] } : undefined;
  switch (method) {
    case 'chat.postMessage':
      return missing('channel') ?? tsField('thread_ts') ?? messageContent(args) ?? metadata(args.metadata);
    case 'chat.update':
      return missing('channel', 'ts') ?? tsField('ts') ?? messageContent(args);
    case 'chat.postEphemeral':
      return missing('channel', 'user') ?? tsField('thread_ts') ?? messageContent(args);
    case 'views.open':
      return missing('trigger_id') ?? view(args.view);
    case 'views.update':
      if (typeof args.view_id !== 'string' && typeof args.external_id !== 'string') return { error: 'invalid_arguments', messages: ['[ERROR] view_id or external_id is required'] };
      return view(args.view);
    case 'conversations.replies':
      return missing('channel', 'ts') ?? tsField('ts');
    case 'users.info':
      return missing('user');
    case 'usergroups.users.list':
      return missing('usergroup');
    default:
      return undefined;
  }
}

/** Message metadata: `{event_type, event_payload}` (https://docs.slack.dev/messaging/message-metadata). */
function metadata(m: unknown): Violation | undefined {
  if (m === undefined) return undefined;
  const ok = typeof m === 'object' && m !== null && typeof (m as { event_type?: unknown }).event_type === 'string' && /^[a-z0-9_]+$/.test((m as { event_type: string }).event_type) && typeof (m as { event_payload?: unknown }).event_payload === 'object';
  return ok ? undefined : { error: 'invalid_metadata_format', messages: ['[ERROR] metadata needs event_type (snake_case) and an event_payload object'] };
}

function messageContent(args: Args): Violation | undefined {
  const { text, blocks, attachments } = args;
  if (text !== undefined && typeof text !== 'string') return { error: 'invalid_arguments', messages: ['[ERROR] text must be a string'] };
  if (!text && blocks === undefined && attachments === undefined) return { error: 'no_text', messages: [] };
  if (typeof text === 'string' && text.length > MAX_TEXT) return { error: 'msg_too_long', messages: [] };
  return blocks === undefined ? undefined : checkBlocks(blocks, MAX_MESSAGE_BLOCKS);
}

function view(v: unknown): Violation | undefined {
  if (typeof v !== 'object' || v === null) return { error: 'invalid_arguments', messages: ['[ERROR] missing required field: view'] };
  const o = v as Record<string, unknown>;
  const bad = (m: string): Violation => ({ error: 'invalid_arguments', messages: [`[ERROR] ${m}`] });
  if (o.type !== 'modal') return bad('view.type must be "modal"');
  const title = o.title as { type?: unknown; text?: unknown } | undefined;
  if (title?.type !== 'plain_text' || typeof title.text !== 'string' || title.text.length === 0 || title.text.length > MAX_VIEW_TITLE)
    return bad(`view.title must be plain_text of 1-${MAX_VIEW_TITLE} characters`);
  if (typeof o.private_metadata === 'string' && o.private_metadata.length > MAX_PRIVATE_METADATA) return bad(`view.private_metadata must be at most ${MAX_PRIVATE_METADATA} characters`);
  if (typeof o.callback_id === 'string' && o.callback_id.length > MAX_ID) return bad(`view.callback_id must be at most ${MAX_ID} characters`);
  return checkBlocks(o.blocks, MAX_VIEW_BLOCKS);
}

/** Block Kit structure checks shared by messages and views (`invalid_blocks`). */
export function checkBlocks(blocks: unknown, max: number): Violation | undefined {
  const bad = (m: string): Violation => ({ error: 'invalid_blocks', messages: [`[ERROR] ${m}`] });
  if (!Array.isArray(blocks)) return bad('blocks must be an array');
  if (blocks.length > max) return bad(`no more than ${max} items allowed [json-pointer:/blocks]`);
  for (const [i, b] of blocks.entries()) {
    if (typeof b !== 'object' || b === null || typeof (b as { type?: unknown }).type !== 'string') return bad(`blocks[${i}] must have a type`);
    const block = b as { type: string; block_id?: unknown; text?: { text?: unknown }; elements?: unknown };
    if (block.block_id !== undefined && (typeof block.block_id !== 'string' || block.block_id.length > MAX_ID)) return bad(`blocks[${i}].block_id must be a string of at most ${MAX_ID} characters`);
    if (block.type === 'section' && typeof block.text?.text === 'string' && block.text.text.length > MAX_SECTION_TEXT)
      return bad(`must be less than ${MAX_SECTION_TEXT + 1} characters [json-pointer:/blocks/${i}/text/text]`);
    if (block.type === 'actions') {
      if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 25) return bad(`blocks[${i}].elements must hold 1-25 elements`);
      for (const e of block.elements as { action_id?: unknown }[]) {
        if (typeof e.action_id === 'string' && e.action_id.length > MAX_ID) return bad(`blocks[${i}] action_id longer than ${MAX_ID}`);
      }
    }
  }
  return undefined;
}
