/**
 * A loopback fake of the Slack Web API, spoken to by the real `WebClient` (`@slack/web-api`, and
 * Bolt's `App` with `clientOptions.slackApiUrl = fake.apiUrl`), plus `response_url` endpoints.
 *
 * Wire format (https://docs.slack.dev/apis/web-api/): `POST /api/<method>` with an
 * `application/x-www-form-urlencoded` body (JSON-typed fields such as `blocks` as JSON strings)
 * or `application/json` (then the token must be a `Bearer` header); the token as
 * `Authorization: Bearer` or a `token` field. Answers `200 {ok:true,...}` or `200 {ok:false,error}`;
 * `not_authed` / `invalid_auth` for a missing / wrong token; `ratelimited` as HTTP 429 with
 * `Retry-After` (seconds) when {@link FakeSlack.rateLimitNext} asked for it. Arguments are
 * checked against the documented contract (`slackContract.ts`). Every call is recorded.
 *
 * Methods: auth.test, chat.postMessage, chat.update, chat.postEphemeral, views.open,
 * views.update, conversations.replies, users.info, usergroups.users.list. Others: `unknown_method`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { cutAfter, FaultQueue } from './faults.js';
import { listen } from '../bots/http.js';
import { closeServer } from './net.js';
import { checkArgs, JSON_FIELDS, type Args } from './slackContract.js';

/** One recorded Web API call (also the refused ones). */
export interface RecordedSlackCall {
  method: string;
  args: Args;
  contentType: string;
  /** What the fake answered: `ok` or the error code. */
  outcome: string;
  at: number;
}

/** A message the fake holds (posted by us, or seeded as a human's with {@link FakeSlack.addMessage}). */
export interface FakeMessage {
  channel: string;
  ts: string;
  text: string;
  user?: string;
  bot_id?: string;
  thread_ts?: string;
  blocks?: unknown[];
  /** Message metadata (`chat.postMessage` `metadata`), returned with `include_all_metadata`. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

/** A body posted to a `response_url`. */
export interface RecordedResponse {
  id: string;
  body: Record<string, unknown>;
  at: number;
}

export interface FakeSlackOptions {
  /** The bot token the fake accepts. */
  token: string;
  /** The bot's user id and bot id (auth.test, posted messages). */
  botUserId?: string;
  botId?: string;
  /** Users (users.info) and user groups (usergroups.users.list: group id → member ids). */
  users?: Record<string, { name: string; real_name?: string; is_bot?: boolean }>;
  usergroups?: Record<string, string[]>;
  /** Channels the bot is not in (`not_in_channel` on posting). */
  notInChannel?: string[];
  /** The app-level token (`xapp-…`) `apps.connections.open` accepts, and the Socket Mode URL it hands out. */
  socket?: { appToken: string; url: string };
}

/** The fake. Start with {@link FakeSlack.start}; `apiUrl` ends with `/api/` as Slack's does. */
export class FakeSlack {
  readonly calls: RecordedSlackCall[] = [];
  readonly messages: FakeMessage[] = [];
  readonly responses: RecordedResponse[] = [];
  private readonly rateLimits = new Map<string, number>();
  /**
   * Faults for the next calls of a Web API method (the route is the method name,
   * `chat.postMessage`, `chat.update`), applied after the token check: a 5xx answers
   * `{ok:false,error:"internal_error"}`, a 429 `ratelimited` (with `Retry-After` when
   * `retryAfterSec` is set); `cut` with `afterBytes: 0` drops the connection after the call was
   * performed.
   */
  readonly faults = new FaultQueue();
  private clock = Math.floor(Date.now() / 1000);
  private seq = 0;
  private views = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly opts: FakeSlackOptions,
  ) {}

  static async start(opts: FakeSlackOptions): Promise<FakeSlack> {
    const server = createServer();
    const url = await listen(server, 0);
    const fake = new FakeSlack(server, url, opts);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      fake.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    return fake;
  }

  /** Base URL for `slackApiUrl`. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** A fresh `response_url` (Slack gives one per command and interaction). */
  responseUrl(id = `r${++this.seq}`): string {
    return `${this.url}/responses/${id}`;
  }

  /** Answers the next call of `method` with `ratelimited` (HTTP 429, `Retry-After: retryAfterSec`). */
  rateLimitNext(method: string, retryAfterSec = 1): void {
    this.rateLimits.set(method, retryAfterSec);
  }

  /** Seeds a message (e.g. a human's, earlier in a thread); returns it. `ts` is generated when absent. */
  addMessage(m: Omit<FakeMessage, 'ts'> & { ts?: string }): FakeMessage {
    const msg = { ...m, ts: m.ts ?? this.nextTs() };
    this.messages.push(msg);
    return msg;
  }

  /** The recorded successful calls of `method`, in order. */
  callsOf(method: string): RecordedSlackCall[] {
    return this.calls.filter((c) => c.method === method && c.outcome === 'ok');
  }

  close(): Promise<void> {
    this.faults.endHung();
    return closeServer(this.server);
  }

  private nextTs(): string {
    this.clock += 1;
    return `${this.clock}.${String(++this.seq).padStart(6, '0')}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const raw = await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');
    if (req.method === 'POST' && path.startsWith('/responses/')) {
      this.responses.push({ id: path.slice('/responses/'.length), body: JSON.parse(raw || '{}') as Record<string, unknown>, at: Date.now() });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const m = /^\/api\/([\w.]+)$/.exec(path);
    if (req.method !== 'POST' || !m?.[1]) {
      res.writeHead(404).end();
      return;
    }
    const method = m[1];
    const json = contentType.startsWith('application/json');
    const args: Args = json ? (JSON.parse(raw || '{}') as Args) : formArgs(raw);
    const auth = String(req.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : json ? undefined : (args.token as string | undefined);
    delete args.token;
    const answer = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}): void => {
      this.calls.push({ method, args, contentType, outcome: body.ok === true ? 'ok' : String(body.error), at: Date.now() });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(body));
    };
    if (!token) return answer(200, { ok: false, error: 'not_authed' });
    if (method === 'apps.connections.open') {
      // Socket Mode: the app-level token, never the bot's (https://docs.slack.dev/reference/methods/apps.connections.open).
      if (!this.opts.socket || token !== this.opts.socket.appToken) return answer(200, { ok: false, error: 'invalid_auth' });
      return answer(200, { ok: true, url: this.opts.socket.url });
    }
    if (token !== this.opts.token) return answer(200, { ok: false, error: 'invalid_auth' });
    const retryAfter = this.rateLimits.get(method);
    if (retryAfter !== undefined) {
      this.rateLimits.delete(method);
      return answer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(retryAfter) });
    }
    const fault = this.faults.take(method);
    if (fault?.kind === 'hang') return void (await this.faults.hang(res));
    if (fault?.kind === 'hold') await fault.release;
    if (fault?.kind === 'cut') cutAfter(res, fault.afterBytes);
    if (fault?.kind === 'status') {
      const headers = { ...(fault.retryAfterSec !== undefined ? { 'retry-after': String(fault.retryAfterSec) } : {}), ...(fault.headers ?? {}) };
      return answer(fault.status, (fault.body as Record<string, unknown> | undefined) ?? { ok: false, error: fault.status === 429 ? 'ratelimited' : 'internal_error' }, headers);
    }
    const violation = checkArgs(method, args);
    if (violation) return answer(200, { ok: false, error: violation.error, response_metadata: { messages: violation.messages } });
    const result = this.perform(method, args);
    answer(200, result);
  }

  private perform(method: string, a: Args): Record<string, unknown> {
    const channel = a.channel as string;
    const botUserId = this.opts.botUserId ?? 'UBOTNIGHT';
    const botId = this.opts.botId ?? 'BBOTNIGHT';
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://fake.slack.test/', team: 'Fake', user: 'nightshift', team_id: 'T0FAKE', user_id: botUserId, bot_id: botId };
      case 'chat.postMessage': {
        if (this.opts.notInChannel?.includes(channel)) return { ok: false, error: 'not_in_channel' };
        const msg = this.addMessage({
          channel,
          text: String(a.text ?? ''),
          user: botUserId,
          bot_id: botId,
          ...(a.thread_ts ? { thread_ts: a.thread_ts as string } : {}),
          ...(a.blocks ? { blocks: a.blocks as unknown[] } : {}),
          ...(a.metadata ? { metadata: a.metadata as FakeMessage['metadata'] } : {}),
        });
        return { ok: true, channel, ts: msg.ts, message: { type: 'message', ...msg } };
      }
      case 'chat.update': {
        const msg = this.messages.find((x) => x.channel === channel && x.ts === a.ts);
        if (!msg) return { ok: false, error: 'message_not_found' };
        if (msg.bot_id !== botId) return { ok: false, error: 'cant_update_message' };
        if (a.text !== undefined) msg.text = String(a.text);
        if (a.blocks !== undefined) msg.blocks = a.blocks as unknown[];
        return { ok: true, channel, ts: msg.ts, text: msg.text };
      }
      case 'chat.postEphemeral':
        if (this.opts.notInChannel?.includes(channel)) return { ok: false, error: 'not_in_channel' };
        return { ok: true, message_ts: this.nextTs() };
      case 'views.open':
      case 'views.update':
        return { ok: true, view: { id: (a.view_id as string | undefined) ?? `V${++this.views}`, ...(a.view as object) } };
      case 'conversations.replies': {
        const thread = this.messages.filter((x) => x.channel === channel && (x.ts === a.ts || x.thread_ts === a.ts));
        if (thread.length === 0) return { ok: false, error: 'thread_not_found' };
        const withMeta = a.include_all_metadata === true || a.include_all_metadata === 'true';
        const messages = thread.sort((x, y) => Number(x.ts) - Number(y.ts)).map(({ metadata, ...x }) => ({ type: 'message', ...x, ...(withMeta && metadata ? { metadata } : {}) }));
        return { ok: true, messages, has_more: false, response_metadata: { next_cursor: '' } };
      }
      case 'users.info': {
        const u = this.opts.users?.[a.user as string];
        return u ? { ok: true, user: { id: a.user, ...u } } : { ok: false, error: 'user_not_found' };
      }
      case 'usergroups.users.list': {
        const members = this.opts.usergroups?.[a.usergroup as string];
        return members ? { ok: true, users: members } : { ok: false, error: 'no_such_subteam' };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

function formArgs(raw: string): Args {
  const out: Args = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.includes(k)) {
      try {
        out[k] = JSON.parse(v) as unknown;
      } catch {
        out[k] = v;
      }
    } else out[k] = v;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
