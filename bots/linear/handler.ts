/**
 * The Linear webhook receiver: verifies a delivery, decides what it asks for (decide.ts), acts
 * (issueEvents.ts, sessionEvents.ts, comments.ts: start, signal or signalWithStart a run) and
 * answers. The work happens in the workflow; the request only verifies, enqueues and answers
 * (Linear wants a 2xx within 5 s; each action is a few Temporal calls of a few ms).
 *
 * Verification is the SDK's: `LinearWebhookClient(secret).createHandler()` from
 * `@linear/sdk/webhooks` (https://linear.app/developers/webhooks#securing-webhooks). What it
 * answers (SDK 98.0.0, read from `dist/webhooks-*.mjs`):
 * - 405 for a method other than POST;
 * - 400 "Missing webhook signature" when `linear-signature` is absent;
 * - 400 "Invalid webhook" when the body is not JSON, the signature does not match (including
 *   uppercase hex), or the signed `webhookTimestamp` is missing or more than 60 s from now;
 * - 413 when the body exceeds `maxBodyBytes`;
 * - 500 when a listener throws (here: when acting failed or took longer than `startTimeoutMs`,
 *   so that Linear redelivers);
 * - 200 "OK" otherwise.
 *
 * One Linear event (deliveryKey.ts) is acted on once (seen.ts); a redelivery while the first is still being
 * handled waits for it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LinearWebhookClient, type LinearWebhookPayload } from '@linear/sdk/webhooks';
import type { Logger } from '../../worker/logger.js';
import { DEFAULT_MAX_BODY_BYTES } from '../http.js';
import { actOnComment } from './comments.js';
import { decideLinearWebhook, type LinearWebhookDecision } from './decide.js';
import { actOnLabel } from './issueEvents.js';
import type { ActOutcome } from './outcome.js';
import type { LinearRunsPort } from './runs.js';
import { DeliveryLog } from './seen.js';
import { actOnSession } from './sessionEvents.js';
import { linearDeliveryKey } from './deliveryKey.js';

/** Dependencies of the handler. */
export interface LinearWebhookDeps {
  /** The webhook's signing secret (Linear → Settings → API → Webhooks). */
  webhookSecret: string;
  /** Name of the label that asks for a run (compared case-insensitively, like Linear does). */
  triggerLabel: string;
  /** Repository name for a team key; undefined when the team has none. */
  resolveRepo(teamKey: string | undefined): string | undefined;
  /** The runs (Temporal; a fake in unit tests). */
  runs: LinearRunsPort;
  /**
   * The app's Linear user id (config `linear.appUserId`): comments by it are ours and never reach
   * a run. Also learned from `AgentSessionEvent` payloads (`appUserId`) as they arrive.
   */
  appUserId?: string;
  logger: Logger;
  /** How long acting on a delivery may take before it is answered 500 (Linear waits 5 s). Default 4000. */
  startTimeoutMs?: number;
  /** Largest accepted body. Default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
  /** Delivery ids remembered for redeliveries. Default 10,000. */
  seenMax?: number;
}

/** Acting on a delivery did not settle within `startTimeoutMs`. */
export class StartRunTimeoutError extends Error {
  readonly code = 'START_RUN_TIMEOUT';
  constructor(what: string, ms: number) {
    super(`${what} took longer than ${ms} ms`);
    this.name = 'StartRunTimeoutError';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StartRunTimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function act(runs: LinearRunsPort, d: Exclude<LinearWebhookDecision, { kind: 'ignore' }>, eventKey: string | undefined): Promise<ActOutcome> {
  const memo = eventKey ? { linearEvent: eventKey } : {};
  switch (d.kind) {
    case 'start':
      return runs.start(d.workflowId, d.request, memo).then((r) => ({ result: r, workflowId: d.workflowId, why: d.why }));
    case 'label':
      return actOnLabel(runs, d, eventKey);
    case 'session':
      return actOnSession(runs, d, eventKey);
    case 'comment':
      return actOnComment(runs, d);
  }
}

const MESSAGES: Record<ActOutcome['result'], string> = {
  started: 'run started',
  already_started: 'run already started (redelivery)',
  signalled: 'signal delivered to the run',
  told_open: 'label added while a run is open; the run was told',
  follow_up: 'follow-up run started',
  nothing: 'Linear webhook: nothing to do',
};

/**
 * A Node `(req, res)` handler for `POST /webhooks/linear`. Statuses: see the module comment.
 */
export function createLinearWebhookHandler(deps: LinearWebhookDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const log = deps.logger.child({ component: 'linear-webhook' });
  const startTimeoutMs = deps.startTimeoutMs ?? 4000;
  const sdkHandler = new LinearWebhookClient(deps.webhookSecret).createHandler({ maxBodyBytes: deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES });
  const appUserIds = new Set<string>(deps.appUserId ? [deps.appUserId] : []);
  const deliveries = new DeliveryLog<ActOutcome>(deps.seenMax);

  sdkHandler.on('*', async (payload: LinearWebhookPayload) => {
    const meta = { type: payload.type, action: 'action' in payload ? payload.action : undefined, event: linearDeliveryKey(payload) };
    const appUserId = payload.type === 'AgentSessionEvent' ? (payload as { appUserId?: unknown }).appUserId : undefined;
    if (typeof appUserId === 'string' && appUserIds.size < 100) appUserIds.add(appUserId);
    let decision: LinearWebhookDecision;
    try {
      decision = decideLinearWebhook(payload, { triggerLabel: deps.triggerLabel, resolveRepo: deps.resolveRepo, appUserIds });
    } catch (err) {
      // A signed payload we cannot read: redelivery would not fix it, so answer 200, loudly.
      log.error({ ...meta, err }, 'Linear webhook payload does not have the fields Nightshift needs; nothing started');
      return;
    }
    if (decision.kind === 'ignore') {
      log.info({ ...meta, why: decision.why }, 'Linear webhook: nothing to start');
      return;
    }
    const d = decision;
    const ctx = {
      ...meta,
      decision: d.kind,
      ...('request' in d && d.request.source.kind === 'linear' ? { issue: d.request.source.issueIdentifier, repo: d.request.repo } : {}),
    };
    // One event is acted on once: keyed by the event itself (deliveryKey.ts), never by `webhookId`,
    // which names the webhook subscription and is the same on every delivery.
    const key = linearDeliveryKey(payload);
    const acting = deliveries.once(key, () => act(deps.runs, d, key));
    let done: Awaited<typeof acting>;
    try {
      done = await withTimeout(acting, startTimeoutMs, `Linear ${d.kind} delivery`);
    } catch (err) {
      if (err instanceof StartRunTimeoutError) {
        // It may still complete; say how it ended (a redelivery then finds it done).
        acting.then(
          (late) => log.warn({ ...ctx, outcome: late }, 'the delivery was acted on after it was answered 500'),
          (lateErr: unknown) => log.error({ ...ctx, err: lateErr }, 'acting on the delivery failed after it was answered 500'),
        );
      }
      log.error({ ...ctx, err }, 'starting the run failed; answering 500 so that Linear redelivers');
      throw err;
    }
    if (done.repeat) {
      log.info(ctx, 'Linear webhook: redelivery of a delivery already acted on');
      return;
    }
    const { result, workflowId, why } = done.value;
    if (result === 'started' && 'request' in d && !d.request.repo) {
      log.warn({ ...ctx, workflowId }, 'no repository for the issue\'s team; the run will reject the task and say so on the issue');
    }
    log.info({ ...ctx, workflowId, result, why: `${d.why}: ${why}` }, MESSAGES[result]);
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
