/**
 * The Linear webhook receiver: verifies a delivery, decides whether it asks for a run, starts the
 * `agentTask` workflow (id `linear-<issue id>`) and answers. The work happens in the workflow;
 * the request only verifies, enqueues and answers (Linear wants a 2xx within 5 s).
 *
 * Verification is the SDK's: `LinearWebhookClient(secret).createHandler()` from
 * `@linear/sdk/webhooks` (https://linear.app/developers/webhooks#securing-webhooks). What it
 * answers (SDK 98.0.0, read from `dist/webhooks-*.mjs`):
 * - 405 for a method other than POST;
 * - 400 "Missing webhook signature" when `linear-signature` is absent;
 * - 400 "Invalid webhook" when the body is not JSON, the signature does not match (including
 *   uppercase hex: the comparison is on the lowercase hex string), or the signed
 *   `webhookTimestamp` is missing or more than 60 s from now. A bad signature and a stale
 *   timestamp are both 400 (never 401); the `linear-timestamp` header is ignored;
 * - 413 when the body exceeds `maxBodyBytes`;
 * - 500 when a listener throws (here: when `startRun` fails, so that Linear redelivers);
 * - 200 "OK" otherwise.
 *
 * What starts a run (everything else is answered 200 and logged, nothing started):
 * - `Issue` `create` whose labels include the trigger label;
 * - `Issue` `update` where the trigger label is on the issue now and `updatedFrom.labelIds`
 *   (the previous label ids, present only when labels changed) does not hold its id;
 * - `AgentSessionEvent` `created` on an issue (the issue was delegated to, or the agent was
 *   mentioned in, Linear's agent UI); the source then carries `agentSessionId`.
 *
 * A team with no repository still starts a run, with `repo: ''`: the workflow's scope step
 * rejects it and comments on the issue, so the requester hears why instead of nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LinearWebhookClient, type LinearWebhookPayload } from '@linear/sdk/webhooks';
import { z } from 'zod';
import { workflowIdFor, type TaskRequest, type TaskSource } from '../../workflows/types.js';
import type { Logger } from '../../worker/logger.js';
import { DEFAULT_MAX_BODY_BYTES } from '../http.js';

/** Dependencies of the handler. */
export interface LinearWebhookDeps {
  /** The webhook's signing secret (Linear → Settings → API → Webhooks). */
  webhookSecret: string;
  /** Name of the label that asks for a run (compared case-insensitively, like Linear does). */
  triggerLabel: string;
  /** Repository name for a team key; undefined when the team has none. */
  resolveRepo(teamKey: string | undefined): string | undefined;
  /**
   * Starts the workflow with this id once. Resolves `already_started` when a workflow with the
   * id exists (a redelivery); rejects on any other failure.
   */
  startRun(workflowId: string, req: TaskRequest): Promise<'started' | 'already_started'>;
  logger: Logger;
  /** How long `startRun` may take before the delivery is answered 500 (Linear waits 5 s). Default 4000. */
  startTimeoutMs?: number;
  /** Largest accepted body. Default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
}

const nullableString = z.string().nullish();

const teamSchema = z.object({ key: z.string().min(1) }).nullish();

/** The fields of an `Issue` data-change payload we act on (`IssueWebhookPayload` in SDK 98). */
const issueEventSchema = z.object({
  type: z.literal('Issue'),
  action: z.string(),
  webhookId: z.string().optional(),
  url: nullableString,
  actor: z
    .object({ id: z.string().optional(), name: z.string().optional(), service: z.string().optional(), type: z.string().optional() })
    .nullish(),
  data: z.object({
    id: z.string().min(1),
    identifier: z.string().min(1),
    title: z.string(),
    description: nullableString,
    url: nullableString,
    labels: z.array(z.object({ id: z.string(), name: z.string() })).default([]),
    team: teamSchema,
  }),
  /** Previous values of the changed fields (update only). */
  updatedFrom: z.object({ labelIds: z.array(z.string()).optional() }).nullish(),
});

/** The fields of an `AgentSessionEvent` we act on (`AgentSessionEventWebhookPayload` in SDK 98). */
const agentSessionEventSchema = z.object({
  type: z.literal('AgentSessionEvent'),
  action: z.string(),
  webhookId: z.string().optional(),
  agentSession: z.object({
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
    creator: z.object({ name: z.string() }).nullish(),
  }),
});

const envelopeSchema = z.object({ type: z.string(), action: z.string().optional(), webhookId: z.string().optional() });

/** What a delivery asks for. */
export type LinearWebhookDecision =
  | { kind: 'start'; workflowId: string; request: TaskRequest; why: string }
  | { kind: 'ignore'; why: string };

/** Thrown (and logged) when a payload we act on does not have the shape we rely on. */
export class LinearPayloadError extends Error {
  readonly code = 'LINEAR_PAYLOAD_INVALID';
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'LinearPayloadError';
  }
}

function taskText(title: string, ...parts: (string | null | undefined)[]): string {
  return [title, ...parts].map((p) => p?.trim()).filter((p): p is string => !!p).join('\n\n');
}

/**
 * Decides what a verified payload asks for. Pure; exported for tests.
 * @throws LinearPayloadError when an `Issue` or `AgentSessionEvent` payload lacks a field we need.
 */
export function decideLinearWebhook(
  payload: unknown,
  opts: { triggerLabel: string; resolveRepo(teamKey: string | undefined): string | undefined },
): LinearWebhookDecision {
  const envelope = envelopeSchema.safeParse(payload);
  if (!envelope.success) return { kind: 'ignore', why: 'payload has no type' };
  const { type, action } = envelope.data;

  if (type === 'Issue') {
    if (action !== 'create' && action !== 'update') return { kind: 'ignore', why: `Issue ${action ?? '?'}` };
    const parsed = issueEventSchema.safeParse(payload);
    if (!parsed.success) throw new LinearPayloadError(`Issue ${action} payload: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
    const event = parsed.data;
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
    };
    const request: TaskRequest = {
      source,
      requester: event.actor?.name ?? event.actor?.service ?? 'unknown',
      repo: opts.resolveRepo(issue.team?.key) ?? '',
      title: issue.title,
      task: taskText(issue.title, issue.description),
    };
    return { kind: 'start', workflowId: workflowIdFor(source), request, why: `Issue ${action} with label "${label.name}"` };
  }

  if (type === 'AgentSessionEvent') {
    if (action !== 'created') return { kind: 'ignore', why: `AgentSessionEvent ${action ?? '?'} (only "created" starts a run)` };
    const parsed = agentSessionEventSchema.safeParse(payload);
    if (!parsed.success) {
      throw new LinearPayloadError(`AgentSessionEvent created payload: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
    }
    const session = parsed.data.agentSession;
    const issue = session.issue;
    if (!issue) return { kind: 'ignore', why: 'AgentSessionEvent created without an issue' };
    const requester = session.creator?.name ?? 'unknown';
    const source: TaskSource = {
      kind: 'linear',
      issueId: issue.id,
      issueIdentifier: issue.identifier,
      ...(issue.url ? { issueUrl: issue.url } : {}),
      agentSessionId: session.id,
    };
    const request: TaskRequest = {
      source,
      requester,
      repo: opts.resolveRepo(issue.team?.key) ?? '',
      title: issue.title,
      task: taskText(issue.title, issue.description, session.comment?.body ? `Request from ${requester}:\n${session.comment.body}` : undefined),
    };
    return { kind: 'start', workflowId: workflowIdFor(source), request, why: 'AgentSessionEvent created' };
  }

  return { kind: 'ignore', why: `${type} ${action ?? ''}`.trim() };
}

/** `startRun` did not settle within `startTimeoutMs`. */
export class StartRunTimeoutError extends Error {
  readonly code = 'START_RUN_TIMEOUT';
  constructor(workflowId: string, ms: number) {
    super(`starting workflow ${workflowId} took longer than ${ms} ms`);
    this.name = 'StartRunTimeoutError';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, workflowId: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StartRunTimeoutError(workflowId, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A Node `(req, res)` handler for `POST /webhooks/linear`.
 * Statuses: see the module comment (SDK verification) — 200 when nothing is to be done, when the
 * run started, or when it had already started; 500 when starting it failed (Linear redelivers).
 */
export function createLinearWebhookHandler(deps: LinearWebhookDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const log = deps.logger.child({ component: 'linear-webhook' });
  const startTimeoutMs = deps.startTimeoutMs ?? 4000;
  const sdkHandler = new LinearWebhookClient(deps.webhookSecret).createHandler({ maxBodyBytes: deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES });

  sdkHandler.on('*', async (payload: LinearWebhookPayload) => {
    const meta = { type: payload.type, action: 'action' in payload ? payload.action : undefined, webhookId: payload.webhookId };
    let decision: LinearWebhookDecision;
    try {
      decision = decideLinearWebhook(payload, deps);
    } catch (err) {
      // A signed payload we cannot read: redelivery would not fix it, so answer 200, loudly.
      log.error({ ...meta, err }, 'Linear webhook payload does not have the fields Nightshift needs; nothing started');
      return;
    }
    if (decision.kind === 'ignore') {
      log.info({ ...meta, why: decision.why }, 'Linear webhook: nothing to start');
      return;
    }
    const { workflowId, request } = decision;
    const ctx = { ...meta, workflowId, issue: request.source.kind === 'linear' ? request.source.issueIdentifier : undefined, repo: request.repo };
    let result: 'started' | 'already_started';
    const started = Promise.resolve().then(() => deps.startRun(workflowId, request));
    try {
      result = await withTimeout(started, startTimeoutMs, workflowId);
    } catch (err) {
      if (err instanceof StartRunTimeoutError) {
        // The start may still complete; say how it ended (a redelivery then finds it started).
        started.then(
          (late) => log.warn({ ...ctx, result: late }, 'startRun finished after the delivery was answered 500'),
          (lateErr: unknown) => log.error({ ...ctx, err: lateErr }, 'startRun failed after the delivery was answered 500'),
        );
      }
      log.error({ ...ctx, err }, 'starting the run failed; answering 500 so that Linear redelivers');
      throw err;
    }
    if (!request.repo) log.warn(ctx, 'no repository for the issue\'s team; the run will reject the task and say so on the issue');
    log.info({ ...ctx, result, why: decision.why }, result === 'started' ? 'run started' : 'run already started (redelivery)');
  });

  return async (req, res) => {
    await sdkHandler(req, res);
    if (res.statusCode >= 400 && res.statusCode !== 500) {
      // 400/405/413: the SDK refused the delivery before any listener ran (signature, timestamp,
      // JSON, method, size). Headers other than the delivery id are not logged.
      log.warn(
        { status: res.statusCode, method: req.method, delivery: req.headers['linear-delivery'], hasSignature: 'linear-signature' in req.headers },
        'Linear webhook rejected by verification',
      );
    }
  };
}
