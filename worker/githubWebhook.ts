/**
 * `POST /webhooks/github`: GitHub `pull_request` and `pull_request_review` deliveries for PR
 * tracking. The signature (`X-Hub-Signature-256`, HMAC-SHA256 of the raw body with the webhook's
 * secret, https://docs.github.com/webhooks/using-webhooks/validating-webhook-deliveries) is
 * verified first with `@octokit/webhooks-methods`; a delivery then starts one
 * `prTrackingWorkflow` for the PR it names (workflow id per delivery: a redelivery starts
 * nothing twice) and is answered 202 at once; the workflow's activity does the work.
 *
 * Answers: 401 without or with a bad signature; 400 for a body that is not a PR event's JSON;
 * 413 above 1 MB; 200 for `ping`; 202 for other events and actions (ignored) and accepted ones.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verify } from '@octokit/webhooks-methods';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { SyncPullRequestsInput } from '../workflows/prTracking.js';
import { DEFAULT_MAX_BODY_BYTES } from '../bots/http.js';
import type { Logger } from './logger.js';

/** Starts the sync of one PR (Temporal in production). Resolves once started, or when that delivery already started it. */
export interface PrTrackingStarter {
  start(workflowId: string, input: SyncPullRequestsInput): Promise<void>;
}

/** The starter on a Temporal client. */
export function temporalPrTracking(client: Client, taskQueue: string): PrTrackingStarter {
  return {
    async start(workflowId, input) {
      try {
        await client.workflow.start('prTrackingWorkflow', { taskQueue, workflowId, args: [input], workflowExecutionTimeout: '1 hour' });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    },
  };
}

/** Events that can change a tracked PR. */
const EVENTS = new Set(['pull_request', 'pull_request_review']);

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function rawBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The route handler. `secret` is $GITHUB_WEBHOOK_SECRET (never logged). */
export function createGitHubWebhookHandler(deps: {
  secret: string;
  starter: PrTrackingStarter;
  logger: Logger;
  maxBodyBytes?: number;
  /** GitHub repositories (`owner/name`) Nightshift works on (`repos.*.github`); deliveries about others start nothing. Absent: all. */
  trackedRepos?: ReadonlySet<string>;
}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const body = await rawBody(req, deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    if (body === undefined) return answer(res, 413, 'Payload too large');
    const signature = req.headers['x-hub-signature-256'];
    if (typeof signature !== 'string' || !(await verify(deps.secret, body, signature).catch(() => false))) {
      deps.logger.warn({ delivery: req.headers['x-github-delivery'] }, 'GitHub webhook refused: missing or bad X-Hub-Signature-256');
      return answer(res, 401, 'Bad signature');
    }
    const event = String(req.headers['x-github-event'] ?? '');
    const delivery = String(req.headers['x-github-delivery'] ?? '');
    if (event === 'ping') return answer(res, 200, 'pong');
    if (!EVENTS.has(event)) return answer(res, 202, 'Ignored');
    let payload: { action?: unknown; repository?: { full_name?: unknown }; pull_request?: { number?: unknown } };
    try {
      payload = JSON.parse(body) as typeof payload;
    } catch {
      return answer(res, 400, 'Body is not JSON');
    }
    const githubRepo = payload.repository?.full_name;
    const number = payload.pull_request?.number;
    if (typeof githubRepo !== 'string' || typeof number !== 'number' || !delivery) return answer(res, 400, 'Not a pull request event');
    if (deps.trackedRepos && !deps.trackedRepos.has(githubRepo.toLowerCase())) return answer(res, 202, 'Ignored: not a repository Nightshift works on');
    const input: SyncPullRequestsInput = { only: { githubRepo, number }, event: `${event}.${String(payload.action ?? '')}` };
    // One refresh per PR at a time, whatever the delivery id (not covered by the signature: a
    // replayed body with new ids must not start a workflow each): a refresh that is running reads
    // the PR's current state; the polling Schedule catches anything it missed.
    await deps.starter.start(`pr-tracking-${githubRepo}#${number}`, input);
    deps.logger.info({ delivery, event: input.event, pr: `${githubRepo}#${number}` }, 'GitHub webhook accepted');
    return answer(res, 202, 'Accepted');
  };
}
