/**
 * The allow-list of the OpenAI Responses API (`POST /v1/responses`, `/v1/responses/compact`).
 * Request reference: https://platform.openai.com/docs/api-reference/responses/create
 *
 * Forwarded: the fields below; `function` and `custom` tools, and `tool_search` executed by the
 * client (Codex's local search over its own deferred tools); input items and content parts that
 * carry their data inline. Refused, among others:
 * - provider-side conversation state: `previous_response_id`, `conversation`, `store: true`,
 *   `item_reference` items, stored `prompt` templates (input the request body does not show):
 *   https://platform.openai.com/docs/guides/conversation-state
 * - `background` (runs detached from the request, so it cannot be cut off or metered as it streams):
 *   https://platform.openai.com/docs/guides/background
 * - hosted tools (`web_search`, `file_search`, `code_interpreter`, `mcp`, `image_generation`,
 *   `computer_use_preview`, `shell`, `local_shell`, `apply_patch`, ...): https://platform.openai.com/docs/guides/tools
 * - images and files by URL or file id: https://platform.openai.com/docs/guides/images-vision,
 *   https://platform.openai.com/docs/guides/pdf-files
 * - `service_tier` `priority` / `scale` (priced above the table): https://platform.openai.com/docs/guides/priority-processing
 * - `include` values other than `reasoning.encrypted_content` / `message.output_text.logprobs`
 * - anything not listed.
 */
import { refusal, type CheckContext, type Refusal } from './allowList.js';
import { isObj } from './types.js';

const CREATE_DOC = 'https://platform.openai.com/docs/api-reference/responses/create';
const STATE_DOC = 'https://platform.openai.com/docs/guides/conversation-state';
const TOOLS_DOC = 'https://platform.openai.com/docs/guides/tools';

/** Top-level fields forwarded (values of some are checked below). */
const FIELDS: ReadonlySet<string> = new Set([
  'model', 'input', 'instructions', 'max_output_tokens', 'metadata', 'parallel_tool_calls', 'reasoning', 'store', 'stream',
  'stream_options', 'temperature', 'text', 'tool_choice', 'tools', 'top_p', 'top_logprobs', 'truncation', 'user',
  'safety_identifier', 'prompt_cache_key', 'include', 'client_metadata', 'service_tier',
]);

/** Refused top-level fields with their reason and doc. */
const REFUSED_FIELDS: Record<string, [why: string, doc: string]> = {
  previous_response_id: ['it bills input stored on the provider\'s side that the request body does not show', STATE_DOC],
  conversation: ['it bills input stored on the provider\'s side that the request body does not show', STATE_DOC],
  prompt: ['a stored prompt template adds input the request body does not show', 'https://platform.openai.com/docs/guides/text#reusable-prompts'],
  background: ['a background response runs detached from the request and cannot be metered or stopped as it streams', 'https://platform.openai.com/docs/guides/background'],
  context_management: ['server-side compaction bills sampling the gateway does not bound', CREATE_DOC],
  max_tool_calls: ['it only concerns hosted tools, which are not forwarded', TOOLS_DOC],
};

const INCLUDES: ReadonlySet<string> = new Set(['reasoning.encrypted_content', 'message.output_text.logprobs']);
const SERVICE_TIERS: ReadonlySet<string> = new Set(['auto', 'default', 'flex']);
/** Input item types forwarded (a `message` may omit `type`). */
const ITEM_TYPES: ReadonlySet<string> = new Set([
  'message', 'function_call', 'function_call_output', 'custom_tool_call', 'custom_tool_call_output', 'reasoning', 'compaction',
  'tool_search_call', 'tool_search_output',
]);
/** Content part types forwarded. */
const PART_TYPES: ReadonlySet<string> = new Set(['input_text', 'output_text', 'refusal', 'input_image', 'input_file', 'summary_text', 'reasoning_text']);

/** Checks an OpenAI Responses body; the first refused part, or `undefined`. */
export function checkOpenaiBody(body: Record<string, unknown>, _ctx: CheckContext): Refusal | undefined {
  for (const key of Object.keys(body)) {
    const refused = REFUSED_FIELDS[key];
    if (refused) return refusal('field', key, `the field "${key}"`, refused[0], refused[1]);
    if (!FIELDS.has(key)) return refusal('field', key, `the field "${key}"`, 'it is not on the gateway\'s allow-list of fields it can meter', CREATE_DOC);
  }
  if (body.store !== undefined && body.store !== false) {
    return refusal('value', 'store', `"store": ${JSON.stringify(body.store)}`, 'stored responses are provider-side state later requests could bill without showing it; send "store": false', STATE_DOC);
  }
  if (body.service_tier !== undefined && !(typeof body.service_tier === 'string' && SERVICE_TIERS.has(body.service_tier))) {
    return refusal('value', 'service_tier', `service_tier "${String(body.service_tier)}"`, 'only the standard tiers are priced', 'https://platform.openai.com/docs/guides/priority-processing');
  }
  if (body.include !== undefined) {
    const inc = Array.isArray(body.include) ? body.include : [body.include];
    for (const [i, v] of inc.entries()) {
      if (typeof v !== 'string' || !INCLUDES.has(v)) return refusal('value', `include[${i}]`, `include "${String(v)}"`, 'it returns output of hosted tools or stored files, which are not forwarded', CREATE_DOC);
    }
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return refusal('value', 'tools', 'this "tools"', 'it is not an array');
    for (const [i, tool] of body.tools.entries()) {
      const r = checkTool(tool, `tools[${i}]`);
      if (r) return r;
    }
  }
  if (body.input !== undefined && typeof body.input !== 'string') {
    if (!Array.isArray(body.input)) return refusal('value', 'input', 'this "input"', 'it is neither text nor an array of items');
    for (const [i, item] of body.input.entries()) {
      const r = checkItem(item, `input[${i}]`);
      if (r) return r;
    }
  }
  return undefined;
}

function checkTool(tool: unknown, path: string): Refusal | undefined {
  if (!isObj(tool)) return refusal('tool', path, `the tool at ${path}`, 'it is not an object', TOOLS_DOC);
  const t = tool.type;
  if (t === 'function' || t === 'custom') return undefined;
  if (t === 'tool_search' && tool.execution === 'client') return undefined;
  return refusal('tool', `${path}.type`, `the tool type "${String(t)}"`, 'only client tools (function, custom) are forwarded: hosted tools fetch, search, store or run code on the provider\'s side and bill what the gateway cannot bound', TOOLS_DOC);
}

function checkItem(item: unknown, path: string): Refusal | undefined {
  if (!isObj(item)) return refusal('item', path, `the input item at ${path}`, 'it is not an object');
  const t = item.type ?? (typeof item.role === 'string' ? 'message' : undefined);
  if (typeof t !== 'string' || !ITEM_TYPES.has(t)) {
    return refusal('item', `${path}.type`, `the input item type "${String(t)}"`, t === 'item_reference' ? 'it refers to an item stored on the provider\'s side' : 'only inline items of client tools are forwarded', STATE_DOC);
  }
  if (t === 'message') return checkParts(item.content, `${path}.content`);
  if (t === 'function_call_output' || t === 'custom_tool_call_output') return checkParts(item.output, `${path}.output`);
  return undefined;
}

function checkParts(content: unknown, path: string): Refusal | undefined {
  if (typeof content === 'string' || content === undefined) return undefined;
  if (!Array.isArray(content)) return refusal('block', path, `the content at ${path}`, 'it is neither text nor an array of parts');
  for (const [i, part] of content.entries()) {
    const p = `${path}[${i}]`;
    if (!isObj(part) || typeof part.type !== 'string' || !PART_TYPES.has(part.type)) {
      return refusal('block', `${p}.type`, `the content part type "${String(isObj(part) ? part.type : part)}"`, 'only inline text, image and file parts are forwarded', CREATE_DOC);
    }
    if (part.file_id !== undefined) return refusal('source', `${p}.file_id`, `the ${part.type} "file_id"`, 'a stored file is input the request body does not show', 'https://platform.openai.com/docs/guides/pdf-files');
    if (part.file_url !== undefined) return refusal('source', `${p}.file_url`, `the ${part.type} "file_url"`, 'the provider would fetch the URL', 'https://platform.openai.com/docs/guides/pdf-files');
    if (part.type === 'input_image' && !(typeof part.image_url === 'string' && part.image_url.startsWith('data:'))) {
      return refusal('source', `${p}.image_url`, 'an input_image by URL', 'the provider would fetch the URL; send the image inline as a data: URL', 'https://platform.openai.com/docs/guides/images-vision');
    }
    if (part.type === 'input_file' && typeof part.file_data !== 'string') {
      return refusal('source', `${p}.file_data`, 'an input_file without inline file_data', 'only inline files are forwarded', 'https://platform.openai.com/docs/guides/pdf-files');
    }
  }
  return undefined;
}
