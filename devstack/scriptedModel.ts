/**
 * A local model server that speaks enough of the Anthropic Messages API and the OpenAI Responses
 * API for the REAL Claude Code and Codex CLIs to run a real agent loop against it (real file
 * edits, real shell commands), driven by an agent-neutral script.
 *
 * Formats:
 * - Anthropic Messages, streaming (SSE) and non-streaming JSON:
 *   https://docs.anthropic.com/en/api/messages-streaming
 * - OpenAI Responses, streaming (SSE): https://platform.openai.com/docs/api-reference/responses-streaming
 *
 * The next step is decided from the conversation carried by the request (the number of assistant
 * turns already in it), never from a request counter: side requests would shift a counter.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isAbsolute, relative, resolve } from 'node:path';
import { cutAfter, FaultQueue } from './faults.js';

/** Token counts a scripted response reports. */
export interface ScriptedUsage {
  /**
   * Uncached input tokens. Anthropic: `input_tokens`. OpenAI: `input_tokens` is reported as
   * `input + cacheRead` (OpenAI counts cached tokens inside `input_tokens`).
   */
  input: number;
  /** Output tokens (`output_tokens`). */
  output: number;
  /** Cache-read input tokens (Anthropic `cache_read_input_tokens`; OpenAI `input_tokens_details.cached_tokens`). */
  cacheRead?: number;
  /** Cache-write input tokens (Anthropic `cache_creation_input_tokens`); OpenAI has no such count: ignored there. */
  cacheWrite?: number;
}

/** Default usage of one scripted turn. */
export const DEFAULT_TURN_USAGE: Readonly<Required<ScriptedUsage>> = { input: 1200, output: 80, cacheRead: 0, cacheWrite: 0 };

/**
 * One agent-neutral action of the model.
 *
 * - `bash`: run a shell command (Claude `Bash {command}`; Codex `exec_command {cmd}`).
 * - `write`: create a file with `content` (Claude `Write`; Codex `apply_patch` `*** Add File`).
 *   Claude Code refuses to overwrite an existing file that was not `read` first in the session.
 * - `edit`: replace `old` by `new` in a file (Claude `Edit`; Codex `apply_patch` `*** Update File`).
 *   For Codex `old` must be whole lines of the file. Claude Code refuses to edit a file that was not
 *   `read` first in the session: put a `read` step before.
 * - `read`: read a file (Claude `Read`; Codex `exec_command` `cat`).
 * - `text`: answer with text and end the turn (the agent's final message).
 * - `stall`: hold the response open and send nothing until the client disconnects or the server stops.
 * - `error`: answer with an API error of that HTTP status in the protocol's error format.
 *
 * Paths may be relative: they are resolved against the agent's working directory, which the
 * request names (Claude: "Primary working directory:" in the system prompt; Codex: `<cwd>`).
 */
export type ScriptAction =
  | { bash: string }
  | { write: { path: string; content: string } }
  | { edit: { path: string; old: string; new: string } }
  | { read: { path: string } }
  | { text: string }
  | { stall: true }
  | { error: { status: number; message: string } };

/** A step: an action plus, optionally, the usage to report for it (default {@link DEFAULT_TURN_USAGE}). */
export type ScriptStep = ScriptAction & { usage?: ScriptedUsage };

/** What a script sees of a request. */
export interface ScriptContext {
  /**
   * Assistant turns already in the conversation: Anthropic, the `assistant` messages in
   * `messages`; OpenAI, the runs of model output items (`function_call`, `custom_tool_call`,
   * assistant `message`, `reasoning`) in `input`. 0 for the first model call of a task.
   */
  turn: number;
  /** Text of the most recent tool result in the conversation, if any. */
  lastToolResult?: string;
  /** Whether that tool result is an error (Anthropic `is_error`; OpenAI: a non-zero exit code in the output). */
  lastToolIsError?: boolean;
  protocol: 'anthropic' | 'openai';
  /** True when the request advertises no tools (a side request such as a title or a summary). */
  sideRequest: boolean;
  /** The agent's working directory, when the request names it. */
  cwd?: string;
  /** The parsed request body. */
  request: unknown;
}

/** Decides the model's next step from the conversation. */
export type Script = (ctx: ScriptContext) => ScriptStep;

/**
 * A script that plays `steps` in order, one per assistant turn (`ctx.turn` indexes the list), then
 * answers `finalText`. Side requests (no tools advertised) get a short text answer.
 */
export function scriptFromSteps(steps: ScriptStep[], finalText = 'Done.'): Script {
  return (ctx) => {
    if (ctx.sideRequest) return { text: 'OK', usage: { input: 50, output: 2 } };
    return steps[ctx.turn] ?? { text: finalText };
  };
}

/** One request the server received. Secret headers (`authorization`, `x-api-key`) are replaced by `[redacted]`. */
export interface RecordedRequest {
  method: string;
  /** Path with query string. */
  url: string;
  /** Path without query string. */
  path: string;
  headers: Record<string, string>;
  /** Parsed JSON body (undefined for bodiless requests). */
  body: unknown;
  /** When the request arrived (epoch ms). */
  at: number;
  model?: string;
  protocol?: 'anthropic' | 'openai';
  /** The step answered (absent for HEAD/GET/count_tokens). */
  step?: ScriptStep;
  /** Usage reported in the response (absent when none was reported, e.g. a stall or an error). */
  usage?: Required<ScriptedUsage>;
}

export interface ScriptedModelOptions {
  script: Script;
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  /**
   * Anthropic streams: also repeat the input fields in `message_delta.usage`, as newer API
   * versions do (default true). Clients must take the latest value, not add them.
   */
  repeatInputUsageInDelta?: boolean;
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function id(prefix: string): string {
  return prefix + randomBytes(12).toString('hex');
}

function fullUsage(u: ScriptedUsage | undefined): Required<ScriptedUsage> {
  return { ...DEFAULT_TURN_USAGE, ...(u ?? {}) } as Required<ScriptedUsage>;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((c) => (isObj(c) && typeof c.text === 'string' ? c.text : typeof c === 'string' ? c : ''))
      .join('');
  }
  if (isObj(content) && typeof content.text === 'string') return content.text;
  return content === undefined ? '' : JSON.stringify(content);
}

/** Reads what the script needs from an Anthropic Messages request. */
function anthropicContext(body: Json): Omit<ScriptContext, 'protocol' | 'request'> {
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  let turn = 0;
  let lastToolResult: string | undefined;
  let lastToolIsError: boolean | undefined;
  for (const m of messages) {
    if (!isObj(m)) continue;
    if (m.role === 'assistant') turn++;
    if (m.role === 'user' && Array.isArray(m.content)) {
      for (const block of m.content) {
        if (isObj(block) && block.type === 'tool_result') {
          lastToolResult = textOf(block.content);
          lastToolIsError = block.is_error === true;
        }
      }
    }
  }
  const system = textOf(body.system);
  const cwd = /Primary working directory: (\S+)/.exec(system)?.[1] ?? /Working directory: (\S+)/.exec(system)?.[1];
  const tools = Array.isArray(body.tools) ? body.tools : [];
  return { turn, lastToolResult, lastToolIsError, cwd, sideRequest: tools.length === 0 };
}

const OPENAI_MODEL_ITEMS = new Set(['function_call', 'custom_tool_call', 'reasoning', 'local_shell_call', 'web_search_call']);

/** Reads what the script needs from an OpenAI Responses request. */
function openaiContext(body: Json): Omit<ScriptContext, 'protocol' | 'request'> {
  const input = Array.isArray(body.input) ? (body.input as unknown[]) : [];
  let turn = 0;
  let inModelRun = false;
  let lastToolResult: string | undefined;
  let lastToolIsError: boolean | undefined;
  let cwd: string | undefined;
  for (const item of input) {
    if (!isObj(item)) continue;
    const isModel = OPENAI_MODEL_ITEMS.has(String(item.type)) || (item.type === 'message' && item.role === 'assistant');
    if (isModel && !inModelRun) turn++;
    inModelRun = isModel;
    if (item.type === 'function_call_output' || item.type === 'custom_tool_call_output') {
      lastToolResult = textOf(item.output);
      const code = /exit(?:ed with)? code:?\s*(-?\d+)/i.exec(lastToolResult)?.[1];
      lastToolIsError = code !== undefined && code !== '0';
    }
    if (item.type === 'message' && item.role === 'user') {
      const m = /<cwd>([^<]+)<\/cwd>/.exec(textOf(item.content));
      if (m) cwd = m[1];
    }
  }
  const tools = Array.isArray(body.tools) ? body.tools : [];
  return { turn, lastToolResult, lastToolIsError, cwd, sideRequest: tools.length === 0 };
}

/** `*** Begin Patch` text that creates `path` with `content`. */
export function addFilePatch(path: string, content: string): string {
  const lines = content.endsWith('\n') ? content.slice(0, -1).split('\n') : content.split('\n');
  return `*** Begin Patch\n*** Add File: ${path}\n${lines.map((l) => '+' + l).join('\n')}\n*** End Patch\n`;
}

/** `*** Begin Patch` text that replaces the lines `old` by the lines `new` in `path`. */
export function updateFilePatch(path: string, oldText: string, newText: string): string {
  const split = (s: string) => (s.endsWith('\n') ? s.slice(0, -1) : s).split('\n');
  const minus = split(oldText).map((l) => '-' + l);
  const plus = newText === '' ? [] : split(newText).map((l) => '+' + l);
  return `*** Begin Patch\n*** Update File: ${path}\n@@\n${[...minus, ...plus].join('\n')}\n*** End Patch\n`;
}

/** A content block (Anthropic) or an output item (OpenAI) the model produces. */
type Produced =
  | { kind: 'text'; text: string }
  | { kind: 'tool'; name: string; input: Json }
  | { kind: 'custom'; name: string; input: string };

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Maps an action to what Claude Code expects. */
function anthropicProduce(action: ScriptAction, cwd: string | undefined): Produced {
  const abs = (p: string) => (isAbsolute(p) || !cwd ? p : resolve(cwd, p));
  if ('bash' in action) return { kind: 'tool', name: 'Bash', input: { command: action.bash, description: 'Run a command' } };
  if ('write' in action) return { kind: 'tool', name: 'Write', input: { file_path: abs(action.write.path), content: action.write.content } };
  if ('edit' in action) {
    return { kind: 'tool', name: 'Edit', input: { file_path: abs(action.edit.path), old_string: action.edit.old, new_string: action.edit.new } };
  }
  if ('read' in action) return { kind: 'tool', name: 'Read', input: { file_path: abs(action.read.path) } };
  if ('text' in action) return { kind: 'text', text: action.text };
  throw new Error('not a producing action');
}

/** Maps an action to what Codex expects, looking at the tools the request advertises. */
function openaiProduce(action: ScriptAction, cwd: string | undefined, body: Json): Produced {
  const tools = (Array.isArray(body.tools) ? body.tools : []).filter(isObj);
  const rel = (p: string) => {
    if (!cwd || !isAbsolute(p)) return p;
    const r = relative(cwd, p);
    return r.startsWith('..') ? p : r;
  };
  const shell = (cmd: string): Produced => {
    const exec = tools.find((t) => t.name === 'exec_command');
    if (exec) {
      const props = isObj(exec.parameters) && isObj(exec.parameters.properties) ? exec.parameters.properties : {};
      const key = 'cmd' in props ? 'cmd' : 'command';
      return { kind: 'tool', name: 'exec_command', input: { [key]: cmd } };
    }
    if (tools.some((t) => t.name === 'shell_command')) return { kind: 'tool', name: 'shell_command', input: { command: cmd } };
    return { kind: 'tool', name: 'shell', input: { command: ['bash', '-lc', cmd] } };
  };
  const patch = (text: string): Produced => {
    const tool = tools.find((t) => t.name === 'apply_patch');
    if (tool && tool.type === 'function') return { kind: 'tool', name: 'apply_patch', input: { input: text } };
    return { kind: 'custom', name: 'apply_patch', input: text };
  };
  if ('bash' in action) return shell(action.bash);
  if ('read' in action) {
    const p = isAbsolute(action.read.path) || !cwd ? action.read.path : resolve(cwd, action.read.path);
    return shell(`cat ${shQuote(p)}`);
  }
  if ('write' in action) return patch(addFilePatch(rel(action.write.path), action.write.content));
  if ('edit' in action) return patch(updateFilePatch(rel(action.edit.path), action.edit.old, action.edit.new));
  if ('text' in action) return { kind: 'text', text: action.text };
  throw new Error('not a producing action');
}

/** Splits a string into a few chunks, as a real stream does. */
function chunks(s: string, n = 3): string[] {
  if (s.length <= n) return [s];
  const size = Math.ceil(s.length / n);
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

/**
 * The scripted model server. Routes: `HEAD /`, `GET /` (200); `POST /v1/messages` (query string
 * ignored), `POST /v1/messages/count_tokens`; `POST /v1/responses` (also `/responses`).
 */
export class ScriptedModelServer {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  /**
   * Faults for the next model requests (routes `POST /v1/messages`, `POST /v1/responses`): a
   * status answers in the protocol's error format (Anthropic `{type:"error",error}`, OpenAI
   * `{error}`), `cut` breaks the SSE stream after that many bytes, `hang` never answers. The
   * script is not consulted for a faulted request, so the client's retry gets the same step.
   */
  readonly faults = new FaultQueue();
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly stalled = new Set<ServerResponse>();
  private script: Script;
  private readonly repeatInputUsageInDelta: boolean;
  private readonly host: string;
  private readonly port: number;

  constructor(opts: ScriptedModelOptions) {
    this.script = opts.script;
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port ?? 0;
    this.repeatInputUsageInDelta = opts.repeatInputUsageInDelta ?? true;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'api_error', message: String(err) } }));
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  /** Replaces the script (e.g. between two runs of a test). */
  setScript(script: Script): void {
    this.script = script;
  }

  async start(): Promise<void> {
    await new Promise<void>((ok, fail) => {
      this.server.once('error', fail);
      this.server.listen(this.port, this.host, () => ok());
    });
  }

  /** `http://host:port` */
  get url(): string {
    const a = this.server.address() as AddressInfo | null;
    if (!a) throw new Error('ScriptedModelServer not started');
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host}:${a.port}`;
  }

  /** Stops the server, ending stalled responses and closing every connection. */
  async stop(): Promise<void> {
    this.faults.endHung();
    for (const res of this.stalled) res.destroy();
    this.stalled.clear();
    const closed = new Promise<void>((ok) => this.server.close(() => ok()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Requests that reached a model route (not HEAD/GET/count_tokens). */
  modelRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.step !== undefined);
  }

  /** Sum of the usage reported in every response so far, in tokens. */
  totalUsage(): Required<ScriptedUsage> {
    const t = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    for (const r of this.requests) {
      if (!r.usage) continue;
      t.input += r.usage.input;
      t.output += r.usage.output;
      t.cacheRead += r.usage.cacheRead;
      t.cacheWrite += r.usage.cacheWrite;
    }
    return t;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunksIn: Buffer[] = [];
    for await (const c of req) chunksIn.push(c as Buffer);
    const raw = Buffer.concat(chunksIn).toString('utf8');
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined) continue;
      headers[k] = k === 'authorization' || k === 'x-api-key' ? '[redacted]' : Array.isArray(v) ? v.join(', ') : v;
    }
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const rec: RecordedRequest = { method: req.method ?? 'GET', url, path, headers, body, at: Date.now() };
    if (isObj(body) && typeof body.model === 'string') rec.model = body.model;
    this.requests.push(rec);

    if (req.method === 'HEAD' || req.method === 'GET') {
      res.writeHead(path === '/' ? 200 : 404, { 'content-type': 'text/plain' });
      res.end(req.method === 'GET' && path === '/' ? 'ok' : undefined);
      return;
    }
    if (path === '/v1/messages/count_tokens') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ input_tokens: Math.ceil(raw.length / 4) }));
      return;
    }
    if (!isObj(body)) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'body must be a JSON object' } }));
      return;
    }
    if ((path === '/v1/messages' || path === '/v1/responses' || path === '/responses') && !(await this.applyFault(path, body, res))) return;
    if (path === '/v1/messages') {
      rec.protocol = 'anthropic';
      const ctx: ScriptContext = { ...anthropicContext(body), protocol: 'anthropic', request: body };
      const step = this.script(ctx);
      rec.step = step;
      await this.answerAnthropic(rec, body, ctx, step, res);
      return;
    }
    if (path === '/v1/responses' || path === '/responses') {
      rec.protocol = 'openai';
      const ctx: ScriptContext = { ...openaiContext(body), protocol: 'openai', request: body };
      const step = this.script(ctx);
      rec.step = step;
      await this.answerOpenAI(rec, body, ctx, step, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `no route ${path}` } }));
  }

  /** Applies the next fault of `POST <path>`; false when the request was answered (or left open) by it. */
  private async applyFault(path: string, body: unknown, res: ServerResponse): Promise<boolean> {
    const route = `POST ${path === '/responses' ? '/v1/responses' : path}`;
    const fault = this.faults.take(route, body);
    if (!fault) return true;
    switch (fault.kind) {
      case 'status': {
        const headers: Record<string, string> = { 'content-type': 'application/json', ...(fault.headers ?? {}) };
        if (fault.retryAfterSec !== undefined) headers['retry-after'] = String(fault.retryAfterSec);
        const type = fault.status === 429 ? 'rate_limit_error' : fault.status === 529 ? 'overloaded_error' : 'api_error';
        const body =
          fault.body ??
          (route === 'POST /v1/messages'
            ? { type: 'error', error: { type, message: `injected ${fault.status}` } }
            : { error: { message: `injected ${fault.status}`, type: fault.status === 429 ? 'rate_limit_error' : 'server_error', code: null, param: null } });
        res.writeHead(fault.status, headers);
        res.end(JSON.stringify(body));
        return false;
      }
      case 'hang':
        await this.faults.hang(res);
        return false;
      case 'cut':
        cutAfter(res, fault.afterBytes);
        return true;
      case 'hold':
        await fault.release;
        return true;
    }
  }

  /** Holds the response open, sending nothing, until the client goes away or the server stops. */
  private stall(res: ServerResponse): Promise<void> {
    this.stalled.add(res);
    return new Promise((ok) => {
      res.on('close', () => {
        this.stalled.delete(res);
        ok();
      });
    });
  }

  private async answerAnthropic(rec: RecordedRequest, body: Json, ctx: ScriptContext, step: ScriptStep, res: ServerResponse): Promise<void> {
    if ('stall' in step) return this.stall(res);
    if ('error' in step) {
      res.writeHead(step.error.status, { 'content-type': 'application/json', 'x-should-retry': 'false' });
      res.end(JSON.stringify({ type: 'error', error: { type: step.error.status === 429 ? 'rate_limit_error' : 'api_error', message: step.error.message } }));
      return;
    }
    const produced = anthropicProduce(step, ctx.cwd);
    const usage = fullUsage(step.usage);
    rec.usage = usage;
    const model = typeof body.model === 'string' ? body.model : 'claude-scripted';
    const msgId = id('msg_');
    const block =
      produced.kind === 'text'
        ? { type: 'text', text: produced.text }
        : { type: 'tool_use', id: id('toolu_'), name: produced.name, input: produced.kind === 'tool' ? produced.input : { input: produced.input } };
    const stopReason = produced.kind === 'text' ? 'end_turn' : 'tool_use';
    const usageJson = {
      input_tokens: usage.input,
      cache_creation_input_tokens: usage.cacheWrite,
      cache_read_input_tokens: usage.cacheRead,
      output_tokens: usage.output,
    };
    if (body.stream !== true) {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': id('req_') });
      res.end(JSON.stringify({ id: msgId, type: 'message', role: 'assistant', model, content: [block], stop_reason: stopReason, stop_sequence: null, usage: usageJson }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': id('req_') });
    const ev = (type: string, data: Json) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    ev('message_start', {
      message: { id: msgId, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usageJson, output_tokens: 1 } },
    });
    if (block.type === 'text') {
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      ev('ping', {});
      for (const c of chunks(produced.kind === 'text' ? produced.text : '')) {
        ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: c } });
      }
    } else {
      ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      ev('ping', {});
      for (const c of chunks(JSON.stringify(block.input))) {
        ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: c } });
      }
    }
    ev('content_block_stop', { index: 0 });
    const deltaUsage = this.repeatInputUsageInDelta ? usageJson : { output_tokens: usage.output };
    ev('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage: deltaUsage });
    ev('message_stop', {});
    res.end();
  }

  private async answerOpenAI(rec: RecordedRequest, body: Json, ctx: ScriptContext, step: ScriptStep, res: ServerResponse): Promise<void> {
    if ('stall' in step) return this.stall(res);
    if ('error' in step) {
      res.writeHead(step.error.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: step.error.message, type: step.error.status === 429 ? 'rate_limit_error' : 'server_error', code: null, param: null } }));
      return;
    }
    const produced = openaiProduce(step, ctx.cwd, body);
    // OpenAI has no cache-write count: what is reported (and recorded) has none.
    const usage = { ...fullUsage(step.usage), cacheWrite: 0 };
    rec.usage = usage;
    const model = typeof body.model === 'string' ? body.model : 'gpt-scripted';
    const respId = id('resp_');
    const createdAt = Math.floor(Date.now() / 1000);
    let item: Json;
    if (produced.kind === 'text') {
      item = { id: id('msg_'), type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: produced.text }] };
    } else if (produced.kind === 'tool') {
      item = { id: id('fc_'), type: 'function_call', status: 'completed', arguments: JSON.stringify(produced.input), call_id: id('call_'), name: produced.name };
    } else {
      item = { id: id('ctc_'), type: 'custom_tool_call', status: 'completed', call_id: id('call_'), name: produced.name, input: produced.input };
    }
    const usageJson = {
      input_tokens: usage.input + usage.cacheRead,
      input_tokens_details: { cached_tokens: usage.cacheRead },
      output_tokens: usage.output,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: usage.input + usage.cacheRead + usage.output,
    };
    const response = (status: string, output: Json[], u: unknown) => ({
      id: respId, object: 'response', created_at: createdAt, status, error: null, incomplete_details: null, model, output, usage: u,
    });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': id('req_') });
    let seq = 0;
    const ev = (type: string, data: Json) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
    ev('response.created', { response: response('in_progress', [], null) });
    ev('response.in_progress', { response: response('in_progress', [], null) });
    if (item.type === 'message') {
      const text = produced.kind === 'text' ? produced.text : '';
      ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
      ev('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } });
      for (const c of chunks(text)) ev('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: c, logprobs: [] });
      ev('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text, logprobs: [] });
      ev('response.content_part.done', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text } });
    } else if (item.type === 'function_call') {
      ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const c of chunks(String(item.arguments))) ev('response.function_call_arguments.delta', { item_id: item.id, output_index: 0, delta: c });
      ev('response.function_call_arguments.done', { item_id: item.id, output_index: 0, arguments: item.arguments });
    } else {
      ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', input: '' } });
      for (const c of chunks(String(item.input))) ev('response.custom_tool_call_input.delta', { item_id: item.id, output_index: 0, delta: c });
      ev('response.custom_tool_call_input.done', { item_id: item.id, output_index: 0, input: item.input });
    }
    ev('response.output_item.done', { output_index: 0, item });
    ev('response.completed', { response: response('completed', [item], usageJson) });
    res.end();
  }
}
