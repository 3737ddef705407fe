/**
 * A loopback fake of Linear's GraphQL API, spoken to by the real `LinearClient` from `@linear/sdk`
 * (`new LinearClient({ apiKey, apiUrl: fake.apiUrl })`), plus {@link signedWebhook} to sign
 * webhook deliveries like Linear does.
 *
 * Every request is parsed, validated against Linear's published schema and has its variables
 * coerced (`../shared/reference/linear/schema.graphql`, see ./linear/schema.ts) before it is
 * answered. A request that fails is answered with GraphQL errors (HTTP 400, as a GraphQL server
 * does) AND recorded in {@link FakeLinear.invalidRequests}: tests call
 * {@link FakeLinear.assertNoInvalidRequests}. Without the schema file the fake validates nothing
 * (`schemaValidation === 'off'`, said once through `onWarning`) and keeps answering.
 *
 * Root fields answered (from ./linear/state.ts; https://linear.app/developers/graphql):
 * - queries: `viewer`, `user(id){ teamMemberships }`, `team(id){ states, members(filter) }`,
 *   `issue(id)` (with `state {id name type position}`, `team {id key}`), `comment(id)`, `agentActivity(id)`;
 * - mutations: `commentCreate`, `agentActivityCreate` (content, ephemeral, signal, signalMetadata,
 *   client-chosen UUID v4 `id`), `agentSessionUpdate` (plan, externalUrls, addedExternalUrls, …),
 *   `issueUpdate(id, {stateId})`.
 * A schema-valid field the fake does not answer gets a `FAKE_UNIMPLEMENTED` error.
 *
 * `Authorization` must equal the API key (Linear API keys are sent raw, without `Bearer`).
 * Rate limits on demand ({@link FakeLinear.rateLimitNext}) and permission errors
 * ({@link FakeLinear.forbid}) are answered in the shapes `@linear/sdk@98` parses (see ./linear/errors.ts).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { cutAfter, FaultQueue } from './faults.js';
import type { GraphQLSchema } from 'graphql';
import { listen } from '../bots/http.js';
import { closeServer } from './net.js';
import { linearSchemaPath } from './paths.js';
import { unimplemented, type FakeGraphQLErrorJson } from './linear/errors.js';
import { executeDocument } from './linear/execute.js';
import { checkRequest, loadSchema, type RequestProblem } from './linear/schema.js';
import { FakeLinearState, type FakeLinearIssue, type FakeLinearTeam, type FakeLinearUser } from './linear/state.js';

export type { FakeLinearIssue, FakeLinearTeam, FakeLinearUser, FakeWorkflowState, RecordedActivity, RecordedComment, RecordedSessionUpdate } from './linear/state.js';
export { defaultStates } from './linear/state.js';

/** One HTTP request the fake received. */
export interface RecordedGraphQLRequest {
  headers: IncomingMessage['headers'];
  query: string;
  variables: Record<string, unknown>;
  /** First root field of the operation, e.g. `commentCreate`. */
  field: string | undefined;
  status: number;
  /** When it arrived, epoch ms. */
  at: number;
  /** Answered with a rate-limit error ({@link FakeLinear.rateLimitNext}). */
  rateLimited?: boolean;
}

/** A request refused before execution: not GraphQL, not valid against the schema, bad variables. */
export interface InvalidRequest {
  stage: RequestProblem['stage'];
  query: string;
  variables: Record<string, unknown>;
  errors: FakeGraphQLErrorJson[];
}

/** A mutation the fake executed (whatever its outcome). */
export interface RecordedMutation {
  field: string;
  /** The request's variables, coerced by the schema when it is known. */
  variables: Record<string, unknown>;
  ok: boolean;
}

export interface FakeLinearOptions {
  /** The only API key accepted. */
  apiKey: string;
  /** Issues that `issue(id)`, `issueUpdate` and `commentCreate` know (by id or identifier). */
  issues?: FakeLinearIssue[];
  /** Teams besides the default `team-fake` (key `FAKE`, Linear's default states). */
  teams?: FakeLinearTeam[];
  users?: FakeLinearUser[];
  /** The API key's user (`viewer`); default `user-nightshift-app`. */
  viewerId?: string;
  /** Linear's schema; default {@link linearSchemaPath}. A missing file turns validation off. */
  schemaPath?: string;
  /** Told once when validation is off; default `console.warn`. */
  onWarning?: (message: string) => void;
}

/** Requests an hour Linear allows an API key (https://linear.app/developers/rate-limiting). */
export const LINEAR_REQUESTS_PER_HOUR = 5000;

/** A fake Linear GraphQL endpoint on 127.0.0.1. */
export class FakeLinear {
  readonly requests: RecordedGraphQLRequest[] = [];
  /**
   * Faults for the next requests whose first top-level field is the route (`commentCreate`,
   * `commentUpdate`, `issueUpdate`, `agentActivityCreate`, `issue`), applied after the request was
   * checked against the schema. A 5xx answers `INTERNAL_SERVER_ERROR`, a 429 Linear's
   * `RATELIMITED` error (with `Retry-After` when `retryAfterSec` is set); `cut` with `afterBytes: 0`
   * drops the connection after the mutation was applied.
   */
  readonly faults = new FaultQueue();
  readonly invalidRequests: InvalidRequest[] = [];
  readonly mutations: RecordedMutation[] = [];
  /** `on` when every request is validated against Linear's schema. */
  readonly schemaValidation: 'on' | 'off';
  /** Why validation is off, when it is. */
  readonly schemaProblem: string | undefined;
  private readonly state: FakeLinearState;
  private readonly schema: GraphQLSchema | undefined;
  private server: Server | undefined;
  private baseUrl = '';
  private rateLimited: { remaining: number; retryAfterSec: number; status: number; only?: (req: { query: string; variables: Record<string, unknown> }) => boolean } | undefined;

  constructor(private readonly options: FakeLinearOptions) {
    this.state = new FakeLinearState(options.viewerId ?? 'user-nightshift-app');
    for (const team of options.teams ?? []) this.state.addTeam(team);
    for (const user of options.users ?? []) this.state.users.set(user.id, user);
    for (const issue of options.issues ?? []) this.addIssue(issue);
    const loaded = loadSchema(options.schemaPath ?? linearSchemaPath());
    this.schema = loaded.schema;
    this.schemaValidation = loaded.schema ? 'on' : 'off';
    this.schemaProblem = loaded.schema ? undefined : loaded.problem;
    if (!loaded.schema) {
      (options.onWarning ?? console.warn)(`FakeLinear: validates NOTHING: Linear's schema could not be read at ${loaded.path} (${loaded.problem})`);
    }
  }

  /** Recorded `commentCreate`s. */
  get comments() {
    return this.state.comments;
  }
  /** Recorded `agentActivityCreate`s. */
  get activities() {
    return this.state.activities;
  }
  /** Recorded `agentSessionUpdate`s. */
  get sessionUpdates() {
    return this.state.sessionUpdates;
  }

  /** Makes an issue known (by id and by identifier). */
  addIssue(issue: FakeLinearIssue): void {
    this.state.addIssue(issue);
  }

  /** Makes a team known (replacing one with the same id). */
  addTeam(team: FakeLinearTeam): void {
    this.state.addTeam(team);
  }

  /** Makes a user known. */
  addUser(user: FakeLinearUser): void {
    this.state.users.set(user.id, user);
  }

  /** The issue as the fake has it now (e.g. its `stateId` after an `issueUpdate`). */
  issue(idOrIdentifier: string): FakeLinearIssue | undefined {
    return this.state.issues.get(idOrIdentifier);
  }

  /** Answers every later `field` mutation with a permission error (`extensions.type: "forbidden"`). */
  forbid(field: string): void {
    this.state.forbidden.add(field);
  }

  /**
   * Answers the next `n` requests like Linear when an API key is over its limit: GraphQL error
   * `extensions: {type: "ratelimited", code: "RATELIMITED"}` with `Retry-After` (seconds) and
   * `X-RateLimit-Requests-{Limit,Remaining,Reset}` (reset: epoch ms). Sources: `@linear/sdk@98`
   * `parseLinearError` (type from `errors[0].extensions.type`, else HTTP 429 → Ratelimited) and
   * `RatelimitedLinearError` (reads exactly those headers); the header names as a real Linear
   * response carries them (github.com/mre/rate-limits/issues/8). The HTTP status is 400 by
   * default (the GraphQL error decides), `opts.status` 429 to test the status path. `opts.only`
   * limits it to the requests it accepts (e.g. the first `agentActivityCreate` of a `response`);
   * the others pass.
   */
  rateLimitNext(n: number, retryAfterSec: number, opts: { status?: 400 | 429; only?: (req: { query: string; variables: Record<string, unknown> }) => boolean } = {}): void {
    this.rateLimited = n > 0 ? { remaining: n, retryAfterSec, status: opts.status ?? 400, ...(opts.only ? { only: opts.only } : {}) } : undefined;
  }

  /** Throws (failing the test) when any request was refused as invalid; the message lists them. */
  assertNoInvalidRequests(): void {
    if (this.invalidRequests.length === 0) return;
    const lines = this.invalidRequests.map((r) => `- ${r.stage}: ${r.errors.map((e) => e.message).join('; ')}\n  ${r.query.replace(/\s+/g, ' ').slice(0, 200)}`);
    throw new Error(`FakeLinear received ${this.invalidRequests.length} invalid request(s):\n${lines.join('\n')}`);
  }

  /** Server origin, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    if (!this.baseUrl) throw new Error('FakeLinear not started');
    return this.baseUrl;
  }

  /** The GraphQL endpoint to pass as `LinearClient`'s `apiUrl`. */
  get apiUrl(): string {
    return `${this.url}/graphql`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.baseUrl = await listen(server, 0, '127.0.0.1');
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.faults.endHung();
    await closeServer(server);
  }

  /** `X-RateLimit-Requests-*` as Linear sends them on every answer. */
  private limitHeaders(exhausted: boolean): Record<string, string> {
    const hourAgo = Date.now() - 3_600_000;
    const used = this.requests.filter((r) => !r.rateLimited && r.at >= hourAgo).length;
    return {
      'x-ratelimit-requests-limit': String(LINEAR_REQUESTS_PER_HOUR),
      'x-ratelimit-requests-remaining': String(exhausted ? 0 : Math.max(0, LINEAR_REQUESTS_PER_HOUR - used)),
      'x-ratelimit-requests-reset': String(Date.now() + 3_600_000),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...this.limitHeaders(false), ...extra });
      res.end(text);
    };
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (req.method !== 'POST' || path !== '/graphql') {
      send(404, { errors: [{ message: 'Not found', extensions: { type: 'other', code: 'NOT_FOUND' } }] });
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const record: RecordedGraphQLRequest = { headers: req.headers, query: '', variables: {}, field: undefined, status: 0, at: Date.now() };
    this.requests.push(record);
    const answer = (status: number, body: unknown, extra?: Record<string, string>): void => {
      record.status = status;
      send(status, body, extra);
    };
    let body: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      body = (parsed && typeof parsed === 'object' ? parsed : {}) as typeof body;
    } catch {
      answer(400, { errors: [{ message: 'Unexpected token in JSON body', extensions: { type: 'graphql error', code: 'BAD_REQUEST' } }] });
      return;
    }
    record.query = typeof body.query === 'string' ? body.query : '';
    record.variables = body.variables && typeof body.variables === 'object' ? (body.variables as Record<string, unknown>) : {};
    if (this.rateLimited && (this.rateLimited.only?.(record) ?? true)) {
      const { retryAfterSec, status } = this.rateLimited;
      if (--this.rateLimited.remaining <= 0) this.rateLimited = undefined;
      record.rateLimited = true;
      answer(
        status,
        { errors: [{ message: 'Rate limit exceeded', extensions: { type: 'ratelimited', code: 'RATELIMITED', statusCode: 429, userError: true, userPresentableMessage: 'Too many requests, try again later.' } }] },
        { ...this.limitHeaders(true), 'retry-after': String(retryAfterSec) },
      );
      return;
    }
    if (req.headers.authorization !== this.options.apiKey) {
      answer(400, {
        errors: [
          {
            message: 'Authentication required, not authenticated',
            extensions: { type: 'authentication error', code: 'AUTHENTICATION_ERROR', statusCode: 401, userError: true, userPresentableMessage: 'You need to authenticate to access this operation.' },
          },
        ],
      });
      return;
    }
    const checked = checkRequest(this.schema, record.query, record.variables, typeof body.operationName === 'string' ? body.operationName : undefined);
    if ('stage' in checked) {
      this.invalidRequests.push({ stage: checked.stage, query: record.query, variables: record.variables, errors: checked.errors });
      answer(400, { errors: checked.errors });
      return;
    }
    const first = checked.operation.selectionSet.selections[0];
    const fault = this.faults.take(first?.kind === 'Field' ? first.name.value : '');
    if (fault?.kind === 'hang') return void (await this.faults.hang(res));
    if (fault?.kind === 'hold') await fault.release;
    if (fault?.kind === 'cut') cutAfter(res, fault.afterBytes);
    if (fault?.kind === 'status') {
      const limited = fault.status === 429;
      answer(
        fault.status,
        fault.body ??
          (limited
            ? { errors: [{ message: 'Rate limit exceeded', extensions: { type: 'ratelimited', code: 'RATELIMITED', statusCode: 429, userError: true } }] }
            : { errors: [{ message: 'Internal server error', extensions: { type: 'internal error', code: 'INTERNAL_SERVER_ERROR', statusCode: fault.status } }] }),
        { ...(limited ? this.limitHeaders(true) : {}), ...(fault.retryAfterSec !== undefined ? { 'retry-after': String(fault.retryAfterSec) } : {}), ...(fault.headers ?? {}) },
      );
      return;
    }
    try {
      const outcome = executeDocument(checked.document, checked.operation, checked.variables, this.state.resolvers(), unimplemented);
      record.field = outcome.fields[0];
      if (checked.operation.operation === 'mutation') {
        for (const field of outcome.fields) this.mutations.push({ field, variables: checked.variables, ok: outcome.errors.length === 0 });
      }
      answer(200, outcome.errors.length ? { data: null, errors: outcome.errors } : { data: outcome.data });
    } catch (err) {
      answer(500, { errors: [{ message: err instanceof Error ? err.message : String(err), extensions: { type: 'internal error', code: 'INTERNAL_SERVER_ERROR' } }] });
    }
  }
}

/** A webhook delivery ready to send: exact bytes and Linear's headers. */
export interface SignedWebhook {
  headers: Record<string, string>;
  /** The serialised body; the signature covers exactly these bytes. */
  body: string;
}

/**
 * Signs a webhook body like Linear: sets `webhookTimestamp` to now (Unix ms), serialises once,
 * and puts the lowercase hex HMAC-SHA256 of those bytes in `linear-signature`
 * (https://linear.app/developers/webhooks#securing-webhooks).
 * @param opts.webhookTimestamp another timestamp (to test staleness).
 */
export function signedWebhook(body: object, secret: string, opts: { webhookTimestamp?: number } = {}): SignedWebhook {
  const payload = { ...body, webhookTimestamp: opts.webhookTimestamp ?? Date.now() } as Record<string, unknown>;
  const text = JSON.stringify(payload);
  const signature = createHmac('sha256', secret).update(text).digest('hex');
  return {
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'linear-signature': signature,
      'linear-delivery': randomUUID(),
      'linear-event': typeof payload.type === 'string' ? payload.type : 'unknown',
      'user-agent': 'Linear-Webhook',
    },
    body: text,
  };
}

/** The webhook subscription's id: Linear puts the same `webhookId` on every event a webhook sends. */
export const FAKE_WEBHOOK_ID = '2f4c1b8e-7d3a-4e9f-a1b2-c3d4e5f6a7b8';

let lastEventMs = 0;

/**
 * Stamps a new Linear event: the subscription's constant `webhookId` and a `createdAt` of its own
 * (strictly increasing), as two distinct events from Linear differ. A redelivery re-sends the same
 * stamp; see bots/linear/deliveryKey.ts.
 */
export function linearEventStamp(): { webhookId: string; createdAt: string } {
  lastEventMs = Math.max(Date.now(), lastEventMs + 1);
  return { webhookId: FAKE_WEBHOOK_ID, createdAt: new Date(lastEventMs).toISOString() };
}
