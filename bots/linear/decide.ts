/**
 * What a verified Linear delivery asks for: pure decisions on the payload (no I/O), so that the
 * rules are tested on real captures. Payload shapes: `@linear/sdk@98` typings
 * (`EntityWebhookPayload`, `IssueWebhookPayload`, `CommentWebhookPayload`,
 * `AgentSessionEventWebhookPayload`); https://linear.app/developers/webhooks and
 * https://linear.app/developers/agent-interaction.
 *
 * - `Issue` `create` with the trigger label, or `update` that adds it → {@link LabelDecision}
 *   (the first run of the issue, a later one, or "already running": see issueEvents.ts).
 * - `AgentSessionEvent` `created` on an issue → start the session's run (id from the session).
 * - `AgentSessionEvent` `prompted` → a `humanReply` to the session's run, or `cancel` when the
 *   activity carries `signal: "stop"` ({@link SessionDecision}, see sessionEvents.ts). A `prompted`
 *   carries the same `agentSession` (issue, creator, first comment) as `created`, so it holds the
 *   request to start the run with when it wins the race against `created`.
 * - `Comment` `create` with `parentId` (a reply in a thread) on an issue, by a human →
 *   {@link CommentDecision} (a `humanReply` to the issue's open label run, see comments.ts).
 *   Our own comments (author = the app user, or a `botActor`) and top-level comments: ignored.
 */
import { z } from 'zod';
import { workflowIdFor, type HumanReply, type TaskRequest, type TaskSource } from '../../workflows/types.js';
import { linearDeliveryKey } from './deliveryKey.js';

/** Options of {@link decideLinearWebhook}. */
export interface DecideOptions {
  /** Name of the label that asks for a run (compared case-insensitively, like Linear does). */
  triggerLabel: string;
  /** Repository name for a team key; undefined when the team has none. */
  resolveRepo(teamKey: string | undefined): string | undefined;
  /** User ids of our own app (config `linear.appUserId`, and those learned from session events). */
  appUserIds?: ReadonlySet<string>;
}

const nullableString = z.string().nullish();
const teamSchema = z.object({ key: z.string().min(1) }).nullish();
const actorSchema = z
  .object({ id: z.string().optional(), name: z.string().optional(), service: z.string().optional(), type: z.string().optional() })
  .nullish();

const issueEventSchema = z.object({
  type: z.literal('Issue'),
  action: z.string(),
  webhookId: z.string().optional(),
  url: nullableString,
  actor: actorSchema,
  data: z.object({
    id: z.string().min(1),
    identifier: z.string().min(1),
    title: z.string(),
    description: nullableString,
    url: nullableString,
    labels: z.array(z.object({ id: z.string(), name: z.string() })).default([]),
    team: teamSchema,
    /** Linear priority: 0 none, 1 urgent, 2 high, 3 medium, 4 low. */
    priority: z.number().int().min(0).max(4).nullish(),
  }),
  /** Previous values of the changed fields (update only). */
  updatedFrom: z.object({ labelIds: z.array(z.string()).optional() }).nullish(),
});

const sessionSchema = z.object({
  id: z.string().min(1),
  issue: z
    .object({
      id: z.string().min(1),
      identifier: z.string().min(1),
      title: z.string(),
      description: nullableString,
      url: nullableString,
      team: teamSchema,
    })
    .nullish(),
  comment: z.object({ body: z.string() }).nullish(),
  creator: z.object({ id: z.string().optional(), name: z.string() }).nullish(),
});

const agentSessionEventSchema = z.object({
  type: z.literal('AgentSessionEvent'),
  action: z.string(),
  webhookId: z.string().optional(),
  appUserId: z.string().optional(),
  agentSession: sessionSchema,
  /** `prompted` only: the user's message (`content.body`), `signal: "stop"` when they pressed stop. */
  agentActivity: z
    .object({
      id: z.string().optional(),
      content: z.object({ body: z.string().optional() }).loose().nullish(),
      signal: nullableString,
      user: z.object({ id: z.string().optional(), name: z.string().optional() }).nullish(),
    })
    .nullish(),
});

const commentEventSchema = z.object({
  type: z.literal('Comment'),
  action: z.string(),
  webhookId: z.string().optional(),
  actor: actorSchema,
  data: z.object({
    id: z.string().min(1),
    body: z.string(),
    issueId: nullableString,
    parentId: nullableString,
    userId: nullableString,
    user: z.object({ id: z.string().optional(), name: z.string().optional() }).nullish(),
    /** Set when an application wrote the comment (SDK: `botActor?: string`). */
    botActor: z.unknown().optional(),
  }),
});

const envelopeSchema = z.object({ type: z.string(), action: z.string().optional(), webhookId: z.string().optional() });

/** A label asks for a run of the issue (issueEvents.ts picks its number). */
export interface LabelDecision {
  kind: 'label';
  /** `linear-<issueId>`: the first run's id; later runs are `<base>-<n>`. */
  baseId: string;
  /** The request of run 1; issueEvents.ts adds "run n" for later ones. */
  request: TaskRequest;
  /** Who added the label. */
  by: string;
  why: string;
}

/** Something happened in an agent session (sessionEvents.ts delivers it). */
export interface SessionDecision {
  kind: 'session';
  /** The session's run id (`linear-session-<sessionId>`); follow-ups are `<base>-<n>`. */
  baseId: string;
  /** The id a run of this session had before the session scheme (`linear-<issueId>`). */
  legacyId: string;
  agentSessionId: string;
  /** The request the session's run starts with (when the event wins the race against `created`). */
  request: TaskRequest;
  action: { kind: 'reply'; reply: HumanReply } | { kind: 'stop'; by: string };
  why: string;
}

/** A human replied in a comment thread of an issue (comments.ts finds the run). */
export interface CommentDecision {
  kind: 'comment';
  /** `linear-<issueId>`: the issue's label runs. */
  baseId: string;
  reply: HumanReply;
  why: string;
}

/** What a delivery asks for. */
export type LinearWebhookDecision =
  | { kind: 'start'; workflowId: string; request: TaskRequest; why: string }
  | LabelDecision
  | SessionDecision
  | CommentDecision
  | { kind: 'ignore'; why: string };

/** Thrown (and logged) when a payload we act on does not have the shape we rely on. */
export class LinearPayloadError extends Error {
  readonly code = 'LINEAR_PAYLOAD_INVALID';
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'LinearPayloadError';
  }
}

/** Joins the non-empty parts of a task text with blank lines. */
export function taskText(title: string, ...parts: (string | null | undefined)[]): string {
  return [title, ...parts].map((p) => p?.trim()).filter((p): p is string => !!p).join('\n\n');
}

function parse<T>(schema: z.ZodType<T>, payload: unknown, what: string): T {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw new LinearPayloadError(`${what} payload: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  return parsed.data;
}

function decideIssue(payload: unknown, action: string | undefined, opts: DecideOptions): LinearWebhookDecision {
  if (action !== 'create' && action !== 'update') return { kind: 'ignore', why: `Issue ${action ?? '?'}` };
  const event = parse(issueEventSchema, payload, `Issue ${action}`);
  const wanted = opts.triggerLabel.toLowerCase();
  const label = event.data.labels.find((l) => l.name.toLowerCase() === wanted);
  if (!label) return { kind: 'ignore', why: `Issue ${action} without label "${opts.triggerLabel}"` };
  if (action === 'update') {
    const before = event.updatedFrom?.labelIds;
    if (!before) return { kind: 'ignore', why: 'Issue update that did not change labels' };
    if (before.includes(label.id)) return { kind: 'ignore', why: `Issue update; label "${label.name}" was already there` };
  }
  const issue = event.data;
  const source: TaskSource = {
    kind: 'linear',
    issueId: issue.id,
    issueIdentifier: issue.identifier,
    ...(issue.url || event.url ? { issueUrl: (issue.url ?? event.url) as string } : {}),
    // Who added the label: the access check (linear.allowedTeams) asks Linear about this user.
    ...(event.actor?.id && event.actor.type !== 'integration' ? { requesterId: event.actor.id } : {}),
  };
  const by = event.actor?.name ?? event.actor?.service ?? 'unknown';
  const request: TaskRequest = {
    source,
    requester: by,
    repo: opts.resolveRepo(issue.team?.key) ?? '',
    title: issue.title,
    task: taskText(issue.title, issue.description),
    ...(issue.priority ? { priority: issue.priority } : {}),
  };
  // The issue's other labels: `classification.labels` may force the task type from one.
  const labels = issue.labels.map((l) => l.name).filter((n) => n.toLowerCase() !== wanted);
  if (labels.length) request.labels = labels;
  return { kind: 'label', baseId: workflowIdFor(source), request, by, why: `Issue ${action} with label "${label.name}"` };
}

function decideSession(payload: unknown, action: string | undefined, opts: DecideOptions): LinearWebhookDecision {
  if (action !== 'created' && action !== 'prompted') return { kind: 'ignore', why: `AgentSessionEvent ${action ?? '?'}` };
  const event = parse(agentSessionEventSchema, payload, `AgentSessionEvent ${action}`);
  const session = event.agentSession;
  const issue = session.issue;
  if (!issue) return { kind: 'ignore', why: `AgentSessionEvent ${action} without an issue` };
  const requester = session.creator?.name ?? 'unknown';
  const source: TaskSource = {
    kind: 'linear',
    issueId: issue.id,
    issueIdentifier: issue.identifier,
    ...(issue.url ? { issueUrl: issue.url } : {}),
    agentSessionId: session.id,
    ...(session.creator?.id ? { requesterId: session.creator.id } : {}),
  };
  const request: TaskRequest = {
    source,
    requester,
    repo: opts.resolveRepo(issue.team?.key) ?? '',
    title: issue.title,
    task: taskText(issue.title, issue.description, session.comment?.body ? `Request from ${requester}:\n${session.comment.body}` : undefined),
  };
  const workflowId = workflowIdFor(source);
  if (action === 'created') return { kind: 'start', workflowId, request, why: 'AgentSessionEvent created' };

  const activity = event.agentActivity;
  if (!activity) return { kind: 'ignore', why: 'AgentSessionEvent prompted without an agentActivity' };
  const author = activity.user?.name ?? requester;
  const common = { kind: 'session' as const, baseId: workflowId, legacyId: `linear-${issue.id}`, agentSessionId: session.id, request };
  if (activity.signal === 'stop') return { ...common, action: { kind: 'stop', by: author }, why: 'AgentSessionEvent prompted with signal stop' };
  const text = activity.content?.body?.trim();
  if (!text) return { kind: 'ignore', why: 'AgentSessionEvent prompted with an empty body' };
  // The prompt's own id (never `webhookId`: that names the webhook subscription, the same for every event).
  const id = activity.id ?? linearDeliveryKey(payload);
  const reply: HumanReply = { author, text, via: 'linear-session', ...(id ? { id } : {}) };
  return { ...common, action: { kind: 'reply', reply }, why: 'AgentSessionEvent prompted' };
}

function decideComment(payload: unknown, action: string | undefined, opts: DecideOptions): LinearWebhookDecision {
  if (action !== 'create') return { kind: 'ignore', why: `Comment ${action ?? '?'}` };
  const event = parse(commentEventSchema, payload, 'Comment create');
  const c = event.data;
  const ours = opts.appUserIds ?? new Set<string>();
  const authorId = c.userId ?? c.user?.id ?? undefined;
  if (c.botActor != null || (authorId && ours.has(authorId))) return { kind: 'ignore', why: 'Comment by Nightshift itself (or another app)' };
  if (!c.parentId) return { kind: 'ignore', why: 'top-level Comment (only thread replies reach a run)' };
  if (!c.issueId) return { kind: 'ignore', why: 'Comment reply not on an issue' };
  const text = c.body.trim();
  if (!text) return { kind: 'ignore', why: 'Comment reply with an empty body' };
  const author = c.user?.name ?? event.actor?.name ?? authorId ?? 'unknown';
  const reply: HumanReply = { author, text, id: c.id, via: 'linear-comment', inReplyTo: c.parentId };
  return { kind: 'comment', baseId: workflowIdFor({ kind: 'linear', issueId: c.issueId }), reply, why: 'Comment reply in a thread' };
}

/**
 * Decides what a verified payload asks for. Pure.
 * @throws LinearPayloadError when an `Issue`, `AgentSessionEvent` or `Comment` payload we act on
 *   lacks a field we need.
 */
export function decideLinearWebhook(payload: unknown, opts: DecideOptions): LinearWebhookDecision {
  const envelope = envelopeSchema.safeParse(payload);
  if (!envelope.success) return { kind: 'ignore', why: 'payload has no type' };
  const { type, action } = envelope.data;
  if (type === 'Issue') return decideIssue(payload, action, opts);
  if (type === 'AgentSessionEvent') return decideSession(payload, action, opts);
  if (type === 'Comment') return decideComment(payload, action, opts);
  return { kind: 'ignore', why: `${type} ${action ?? ''}`.trim() };
}
