/**
 * The allow-list of the Anthropic Messages API (`POST /v1/messages`, `/v1/messages/count_tokens`).
 * Request reference: https://docs.anthropic.com/en/api/messages
 *
 * Forwarded: the fields below; client tools only (custom tools: no `type` or `type: "custom"`);
 * content blocks of the listed types whose sources are inline (`base64`, `text`, `content`).
 * Refused, among others:
 * - server tools (`web_search_*`, `web_fetch_*`, `code_execution_*`, `tool_search_*`, `mcp_toolset`,
 *   and Anthropic-defined client tools such as `bash_*`, `text_editor_*`, `computer_*`, `memory_*`,
 *   whose hidden prompts the size bound does not cover):
 *   https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/overview
 * - `mcp_servers` (the provider connects to URLs of the request's choosing):
 *   https://docs.anthropic.com/en/docs/agents-and-tools/mcp-connector
 * - `container` (server-side state and code execution):
 *   https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/code-execution-tool
 * - URL and file sources of images and documents (the provider fetches the URL, or reads a stored
 *   file whose size the request does not show): https://docs.anthropic.com/en/docs/build-with-claude/vision,
 *   https://docs.anthropic.com/en/docs/build-with-claude/files
 * - `context_management` edits other than clearing (server-side compaction bills extra sampling):
 *   https://docs.anthropic.com/en/docs/build-with-claude/context-editing
 * - `service_tier` values other than `auto` / `standard_only`: https://docs.anthropic.com/en/api/service-tiers
 * - anything not listed (e.g. `speed`, `inference_geo`): unknown fields may switch on pricing.
 */
import { refusal, type CheckContext, type Refusal } from './allowList.js';
import { isObj } from './types.js';

const TOOLS_DOC = 'https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/overview';

/** Top-level fields forwarded (values of some are checked below). */
const FIELDS: ReadonlySet<string> = new Set([
  'model', 'messages', 'system', 'max_tokens', 'metadata', 'stop_sequences', 'stream', 'temperature', 'top_k', 'top_p',
  'tools', 'tool_choice', 'thinking', 'service_tier', 'context_management', 'output_config', 'output_format',
]);

/** Refused top-level fields with their reason and doc. */
const REFUSED_FIELDS: Record<string, [why: string, doc: string]> = {
  mcp_servers: ['it makes the provider connect to MCP servers at URLs of the request\'s choosing', 'https://docs.anthropic.com/en/docs/agents-and-tools/mcp-connector'],
  container: ['it reuses a server-side code-execution container', 'https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/code-execution-tool'],
};

/** Content block types forwarded (in messages, system, tool results, content sources). */
const BLOCK_TYPES: ReadonlySet<string> = new Set(['text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking', 'search_result']);
/** Source types forwarded: inline data only. */
const SOURCE_TYPES: ReadonlySet<string> = new Set(['base64', 'text', 'content']);
/** `context_management.edits[].type` forwarded: clearing only. */
const CONTEXT_EDITS: ReadonlySet<string> = new Set(['clear_thinking_20251015', 'clear_tool_uses_20250919']);
/** Keys of a custom tool definition forwarded. */
const TOOL_KEYS: ReadonlySet<string> = new Set(['type', 'name', 'description', 'input_schema', 'cache_control', 'strict']);

/** Checks an Anthropic Messages body; the first refused part, or `undefined`. */
export function checkAnthropicBody(body: Record<string, unknown>, _ctx: CheckContext): Refusal | undefined {
  for (const key of Object.keys(body)) {
    const refused = REFUSED_FIELDS[key];
    if (refused) return refusal('field', key, `the field "${key}"`, refused[0], refused[1]);
    if (!FIELDS.has(key)) return refusal('field', key, `the field "${key}"`, 'it is not on the gateway\'s allow-list of fields it can meter', 'https://docs.anthropic.com/en/api/messages');
  }
  if (body.service_tier !== undefined && body.service_tier !== 'auto' && body.service_tier !== 'standard_only') {
    return refusal('value', 'service_tier', `service_tier "${String(body.service_tier)}"`, 'only the standard tiers are priced', 'https://docs.anthropic.com/en/api/service-tiers');
  }
  const cm = body.context_management;
  if (cm !== undefined) {
    if (!isObj(cm)) return refusal('value', 'context_management', 'this context_management', 'it is not an object');
    for (const k of Object.keys(cm)) if (k !== 'edits') return refusal('field', `context_management.${k}`, `the field "context_management.${k}"`, 'it is not on the allow-list');
    const edits = Array.isArray(cm.edits) ? cm.edits : [];
    for (const [i, e] of edits.entries()) {
      const t = isObj(e) ? e.type : undefined;
      if (typeof t !== 'string' || !CONTEXT_EDITS.has(t)) {
        return refusal('value', `context_management.edits[${i}].type`, `the context edit "${String(t)}"`, 'only clearing edits are forwarded (server-side compaction bills sampling the gateway does not bound)', 'https://docs.anthropic.com/en/docs/build-with-claude/context-editing');
      }
    }
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return refusal('value', 'tools', 'this "tools"', 'it is not an array');
    for (const [i, tool] of body.tools.entries()) {
      const r = checkTool(tool, `tools[${i}]`);
      if (r) return r;
    }
  }
  if (typeof body.system !== 'string' && body.system !== undefined) {
    const r = checkContent(body.system, 'system');
    if (r) return r;
  }
  if (body.messages !== undefined) {
    if (!Array.isArray(body.messages)) return refusal('value', 'messages', 'this "messages"', 'it is not an array');
    for (const [i, m] of body.messages.entries()) {
      if (!isObj(m)) continue;
      const r = checkContent(m.content, `messages[${i}].content`);
      if (r) return r;
    }
  }
  return undefined;
}

function checkTool(tool: unknown, path: string): Refusal | undefined {
  if (!isObj(tool)) return refusal('tool', path, `the tool at ${path}`, 'it is not an object', TOOLS_DOC);
  const type = tool.type;
  if (type !== undefined && type !== 'custom') {
    return refusal('tool', `${path}.type`, `the tool type "${String(type)}"${typeof tool.name === 'string' ? ` (tool "${tool.name}")` : ''}`, 'only client tools (custom tools with an input_schema) are forwarded: server tools fetch, search or run code on the provider\'s side and bill what the gateway cannot bound', TOOLS_DOC);
  }
  for (const k of Object.keys(tool)) {
    if (!TOOL_KEYS.has(k)) return refusal('tool', `${path}.${k}`, `the tool field "${k}"${typeof tool.name === 'string' ? ` (tool "${tool.name}")` : ''}`, 'it is not on the allow-list of tool fields', TOOLS_DOC);
  }
  return undefined;
}

/** Checks a content value (string, or an array of blocks) recursively. */
function checkContent(content: unknown, path: string): Refusal | undefined {
  if (typeof content === 'string' || content === undefined) return undefined;
  if (!Array.isArray(content)) return refusal('block', path, `the content at ${path}`, 'it is neither text nor an array of content blocks');
  for (const [i, block] of content.entries()) {
    const r = checkBlock(block, `${path}[${i}]`);
    if (r) return r;
  }
  return undefined;
}

function checkBlock(block: unknown, path: string): Refusal | undefined {
  if (!isObj(block)) return refusal('block', path, `the content block at ${path}`, 'it is not an object');
  const type = block.type;
  if (typeof type !== 'string' || !BLOCK_TYPES.has(type)) {
    return refusal('block', `${path}.type`, `the content block type "${String(type)}"`, 'only inline content blocks are forwarded (server tool results, container uploads and file references are not)', 'https://docs.anthropic.com/en/api/messages');
  }
  if (isObj(block.source)) {
    const st = block.source.type;
    if (typeof st !== 'string' || !SOURCE_TYPES.has(st)) {
      return refusal('source', `${path}.source.type`, `the ${type} source type "${String(st)}"`, 'only inline (base64 / text) sources are forwarded: a URL source makes the provider fetch it, a file source reads stored input the gateway cannot bound', type === 'image' ? 'https://docs.anthropic.com/en/docs/build-with-claude/vision' : 'https://docs.anthropic.com/en/docs/build-with-claude/pdf-support');
    }
    if (st === 'content') {
      const r = checkContent(block.source.content, `${path}.source.content`);
      if (r) return r;
    }
  } else if (block.source !== undefined && type !== 'search_result') {
    return refusal('source', `${path}.source`, `the ${type} source`, 'only inline (base64 / text) sources are forwarded');
  }
  if (type === 'tool_result' || type === 'search_result') {
    const r = checkContent(block.content, `${path}.content`);
    if (r) return r;
  }
  return undefined;
}
