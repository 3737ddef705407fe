/**
 * A loopback fake of Linear's GraphQL API, spoken to by the real `LinearClient` from `@linear/sdk`
 * (`new LinearClient({ apiKey, apiUrl: fake.apiUrl })`), plus {@link signedWebhook} to sign
 * webhook deliveries like Linear does.
 *
 * Operations (root fields of the documents the SDK 98 sends; https://linear.app/developers/graphql):
 * - `commentCreate(input: {issueId, body, parentId?})`           → `CommentPayload`
 * - `agentActivityCreate(input: {agentSessionId, content, …})`   → `AgentActivityPayload`
 * - `agentSessionUpdate(id, input)`                              → `AgentSessionPayload`
 * - `issue(id)`                                                   → `Issue` (enough for the SDK model)
 * Anything else is answered with a GraphQL validation error, as a real GraphQL server does.
 *
 * `Authorization` must equal the API key (Linear API keys are sent raw, without `Bearer`).
 * Error bodies follow Linear's shape (`errors[].extensions.type` is what the SDK maps to its
 * error classes, e.g. `"authentication error"` → `AuthenticationLinearError`). The exact
 * messages are not from a recording: no recorded Linear error response was available.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../bots/http.js';
import { closeServer } from './net.js';

/** An issue the fake knows. */
export interface FakeLinearIssue {
  id: string;
  identifier: string;
  title: string;
  description?: string;
  url?: string;
  teamId?: string;
  labelIds?: string[];
}

/** A recorded `commentCreate`. */
export interface RecordedComment {
  id: string;
  issueId: string;
  body: string;
  parentId?: string;
}

/** A recorded `agentActivityCreate`. */
export interface RecordedActivity {
  id: string;
  agentSessionId: string;
  content: Record<string, unknown>;
  ephemeral?: boolean;
  signal?: string;
}

/** A recorded `agentSessionUpdate`. */
export interface RecordedSessionUpdate {
  id: string;
  input: Record<string, unknown>;
}

/** One HTTP request the fake received. */
export interface RecordedGraphQLRequest {
  headers: IncomingMessage['headers'];
  query: string;
  variables: Record<string, unknown>;
  /** Root field of the operation, e.g. `commentCreate`. */
  field: string | undefined;
  status: number;
}

export interface FakeLinearOptions {
  /** The only API key accepted. */
  apiKey: string;
  /** Issues that `issue(id)` and `commentCreate` know (by id or identifier). */
  issues?: FakeLinearIssue[];
}

interface GraphQLError {
  message: string;
  path?: string[];
  extensions: Record<string, unknown>;
}

class GraphQLFailure extends Error {
  constructor(
    readonly status: number,
    readonly errors: GraphQLError[],
  ) {
    super(errors[0]?.message ?? 'GraphQL error');
  }
}

function notFound(entity: string, path: string): GraphQLFailure {
  return new GraphQLFailure(200, [
    {
      message: `Entity not found: ${entity}`,
      path: [path],
      extensions: { type: 'invalid input', code: 'INPUT_ERROR', userError: true, userPresentableMessage: `Could not find referenced ${entity}.` },
    },
  ]);
}

/** A client-chosen entity id (`input.id`, UUID v4 per the schema's CommentCreateInput / AgentActivityCreateInput), validated. */
function clientId(input: Record<string, unknown>, field: string): string | undefined {
  if (input.id === undefined) return undefined;
  if (typeof input.id !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(input.id)) throw invalidInput('id must be a UUID v4', field);
  return input.id;
}

function invalidInput(message: string, path: string): GraphQLFailure {
  return new GraphQLFailure(200, [
    { message, path: [path], extensions: { type: 'invalid input', code: 'INPUT_ERROR', userError: true, userPresentableMessage: message } },
  ]);
}

const ACTIVITY_TYPES = new Set(['thought', 'action', 'elicitation', 'response', 'error']);

/** A fake Linear GraphQL endpoint on 127.0.0.1. */
export class FakeLinear {
  readonly comments: RecordedComment[] = [];
  readonly activities: RecordedActivity[] = [];
  readonly sessionUpdates: RecordedSessionUpdate[] = [];
  readonly requests: RecordedGraphQLRequest[] = [];
  private readonly issues = new Map<string, FakeLinearIssue>();
  private server: Server | undefined;
  private baseUrl = '';
  private syncId = 1000;

  constructor(private readonly options: FakeLinearOptions) {
    for (const issue of options.issues ?? []) this.addIssue(issue);
  }

  /** Makes an issue known (by id and by identifier). */
  addIssue(issue: FakeLinearIssue): void {
    this.issues.set(issue.id, issue);
    this.issues.set(issue.identifier, issue);
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
    await closeServer(server);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (req.method !== 'POST' || path !== '/graphql') {
      send(404, { errors: [{ message: 'Not found', extensions: { type: 'other', code: 'NOT_FOUND' } }] });
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const record: RecordedGraphQLRequest = { headers: req.headers, query: '', variables: {}, field: undefined, status: 0 };
    this.requests.push(record);
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        throw new GraphQLFailure(400, [{ message: 'Unexpected token in JSON body', extensions: { type: 'graphql error', code: 'BAD_REQUEST' } }]);
      }
      const body = (parsed && typeof parsed === 'object' ? parsed : {}) as { query?: unknown; variables?: unknown };
      record.query = typeof body.query === 'string' ? body.query : '';
      record.variables = body.variables && typeof body.variables === 'object' ? (body.variables as Record<string, unknown>) : {};
      if (req.headers.authorization !== this.options.apiKey) {
        throw new GraphQLFailure(400, [
          {
            message: 'Authentication required, not authenticated',
            extensions: {
              type: 'authentication error',
              code: 'AUTHENTICATION_ERROR',
              statusCode: 401,
              userError: true,
              userPresentableMessage: 'You need to authenticate to access this operation.',
            },
          },
        ]);
      }
      const op = parseOperation(record.query);
      record.field = op?.field;
      if (!op) {
        throw new GraphQLFailure(400, [{ message: 'Syntax Error: could not parse the document', extensions: { type: 'graphql error', code: 'GRAPHQL_PARSE_FAILED' } }]);
      }
      const data = this.execute(op.kind, op.field, record.variables);
      record.status = 200;
      send(200, { data });
    } catch (err) {
      if (err instanceof GraphQLFailure) {
        record.status = err.status;
        send(err.status, { errors: err.errors, data: null });
      } else {
        record.status = 500;
        send(500, { errors: [{ message: err instanceof Error ? err.message : String(err), extensions: { type: 'internal error', code: 'INTERNAL_SERVER_ERROR' } }] });
      }
    }
  }

  private execute(kind: 'query' | 'mutation', field: string, vars: Record<string, unknown>): Record<string, unknown> {
    const input = (vars.input && typeof vars.input === 'object' ? vars.input : {}) as Record<string, unknown>;
    const key = `${kind} ${field}`;
    switch (key) {
      case 'mutation commentCreate': {
        const issueId = typeof input.issueId === 'string' ? input.issueId : undefined;
        if (!issueId) throw invalidInput('issueId is required', field);
        const issue = this.issues.get(issueId);
        if (!issue) throw notFound('Issue', field);
        if (typeof input.body !== 'string' || input.body.trim() === '') throw invalidInput('body must not be empty', field);
        const requested = clientId(input, field);
        if (requested && this.comments.some((c) => c.id === requested)) throw invalidInput('a comment with this id already exists', field);
        const comment: RecordedComment = {
          id: requested ?? randomUUID(),
          issueId: issue.id,
          body: input.body,
          ...(typeof input.parentId === 'string' ? { parentId: input.parentId } : {}),
        };
        this.comments.push(comment);
        return { commentCreate: { __typename: 'CommentPayload', comment: { id: comment.id }, lastSyncId: this.syncId++, success: true } };
      }
      case 'mutation agentActivityCreate': {
        const agentSessionId = typeof input.agentSessionId === 'string' ? input.agentSessionId : undefined;
        if (!agentSessionId) throw invalidInput('agentSessionId is required', field);
        const content = input.content && typeof input.content === 'object' ? (input.content as Record<string, unknown>) : undefined;
        const type = content?.type;
        if (!content || typeof type !== 'string' || !ACTIVITY_TYPES.has(type)) throw invalidInput('content.type is invalid', field);
        if (type === 'action') {
          if (typeof content.action !== 'string' || typeof content.parameter !== 'string') {
            throw invalidInput('action content needs action and parameter', field);
          }
        } else if (typeof content.body !== 'string' || content.body === '') {
          throw invalidInput(`${type} content needs a body`, field);
        }
        const requestedId = clientId(input, field);
        if (requestedId && this.activities.some((a) => a.id === requestedId)) throw invalidInput('an agent activity with this id already exists', field);
        const activity: RecordedActivity = {
          id: requestedId ?? randomUUID(),
          agentSessionId,
          content,
          ...(typeof input.ephemeral === 'boolean' ? { ephemeral: input.ephemeral } : {}),
          ...(typeof input.signal === 'string' ? { signal: input.signal } : {}),
        };
        this.activities.push(activity);
        return {
          agentActivityCreate: { __typename: 'AgentActivityPayload', agentActivity: { id: activity.id }, lastSyncId: this.syncId++, success: true },
        };
      }
      case 'mutation agentSessionUpdate': {
        const id = typeof vars.id === 'string' ? vars.id : undefined;
        if (!id) throw invalidInput('id is required', field);
        this.sessionUpdates.push({ id, input });
        return { agentSessionUpdate: { __typename: 'AgentSessionPayload', agentSession: { id }, lastSyncId: this.syncId++, success: true } };
      }
      case 'query comment': {
        const c = this.comments.find((x) => x.id === vars.id);
        if (!c) throw notFound('Comment', field);
        return { comment: { __typename: 'Comment', id: c.id } };
      }
      case 'query agentActivity': {
        const a = this.activities.find((x) => x.id === vars.id);
        if (!a) throw notFound('AgentActivity', field);
        return { agentActivity: { __typename: 'AgentActivity', id: a.id } };
      }
      case 'query issue': {
        const id = typeof vars.id === 'string' ? vars.id : '';
        const issue = this.issues.get(id);
        if (!issue) throw notFound('Issue', field);
        return { issue: issueJson(issue) };
      }
      default:
        throw new GraphQLFailure(400, [
          {
            message: `Cannot query field "${field}" on type "${kind === 'query' ? 'Query' : 'Mutation'}".`,
            extensions: { type: 'graphql error', code: 'GRAPHQL_VALIDATION_FAILED', userError: true },
          },
        ]);
    }
  }
}

/** Kind and root field of the first operation of a GraphQL document. */
function parseOperation(query: string): { kind: 'query' | 'mutation'; field: string } | undefined {
  const m = /^\s*(?:(query|mutation)\b[^{]*)?\{\s*(?:\w+\s*:\s*)?(\w+)/.exec(query);
  if (!m || !m[2]) return undefined;
  return { kind: m[1] === 'mutation' ? 'mutation' : 'query', field: m[2] };
}

/** An `Issue` in the shape of the SDK's `Issue` fragment (the fields its model reads). */
function issueJson(issue: FakeLinearIssue): Record<string, unknown> {
  const now = '2025-01-01T00:00:00.000Z';
  const number = Number(/-(\d+)$/.exec(issue.identifier)?.[1] ?? 1);
  return {
    __typename: 'Issue',
    id: issue.id,
    identifier: issue.identifier,
    number,
    title: issue.title,
    description: issue.description ?? null,
    url: issue.url ?? `https://linear.app/fake/issue/${issue.identifier}`,
    branchName: `${issue.identifier.toLowerCase()}`,
    labelIds: issue.labelIds ?? [],
    previousIdentifiers: [],
    priority: 0,
    priorityLabel: 'No priority',
    prioritySortOrder: 0,
    sortOrder: 0,
    boardOrder: 0,
    subIssueSortOrder: null,
    customerTicketCount: 0,
    reactionData: [],
    reactions: [],
    sharedAccess: {
      __typename: 'IssueSharedAccess',
      isShared: false,
      sharedWithCount: 0,
      viewerHasOnlySharedAccess: false,
      disallowedIssueFields: [],
      sharedWithUsers: [],
    },
    inheritsSharedAccess: false,
    trashed: null,
    createdAt: now,
    updatedAt: now,
    archivedAt: null,
    team: { id: issue.teamId ?? 'team-fake' },
    state: { id: 'state-fake' },
    assignee: null,
    creator: null,
    delegate: null,
  };
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
