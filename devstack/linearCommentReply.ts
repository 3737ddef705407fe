/**
 * A human's reply in a comment thread of a Linear issue, for the local stack: a `Comment` `create`
 * webhook built from the real capture (`../shared/reference/linear/comment-create.linear-sdk-test.json`;
 * ids, issue, body and author replaced, `parentId` added as `@linear/sdk`'s `CommentWebhookPayload`
 * types it), signed at send time. Docs: https://linear.app/developers/webhooks
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signedWebhook } from './linear.js';
import { repoRoot } from './paths.js';
import { WEBHOOK_SECRET, type LocalStack } from './stack.js';

type Json = Record<string, unknown>;

/** The real `Comment` `create` capture, read from the shared reference folder (next to the repository). */
export function commentCapture(): Json {
  const path = join(repoRoot(), '..', 'shared', 'reference', 'linear', 'comment-create.linear-sdk-test.json');
  return JSON.parse(readFileSync(path, 'utf8')) as Json;
}

/** The issue a reply is on (as the Linear stand-in knows it). */
export interface ReplyIssue {
  id: string;
  identifier: string;
  title: string;
}

/**
 * A reply by `author` in the thread under `parentId` (e.g. the run's question comment) on `issue`:
 * a fresh comment id and `webhookId`.
 */
export function commentReplyEvent(issue: ReplyIssue, parentId: string, body: string, author: { id: string; name: string }): Json {
  const capture = commentCapture();
  const data = capture.data as Json;
  return {
    ...capture,
    webhookId: randomUUID(),
    url: `https://linear.app/acme/issue/${issue.identifier}#comment-${parentId}`,
    data: { ...data, id: randomUUID(), issueId: issue.id, parentId, body, userId: author.id, user: { id: author.id, name: author.name } },
  };
}

/** Signs `payload` now and posts it to the stack's Linear webhook. Returns the HTTP status. */
export async function deliverComment(stack: LocalStack, issue: ReplyIssue, payload: Json): Promise<number> {
  const res = await stack.sendLinearDelivery({ issueId: issue.id, identifier: issue.identifier, title: issue.title, ...signedWebhook(payload, WEBHOOK_SECRET) });
  await res.body?.cancel();
  return res.status;
}
