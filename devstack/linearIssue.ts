/** Linear webhook deliveries for the example repository, built from the recorded payload shape. */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { devstackFixture } from './paths.js';
import { signedWebhook } from './linear.js';

/** Task text of the demo issue. */
export const CALCULATOR_ISSUE = {
  title: 'add() returns the wrong result',
  description:
    '`calc.add(2, 3)` returns -1 instead of 5. Fix `add()` in calc.py.\n\nDone when `python3 -m unittest -v` passes (test_add fails today).',
};

/**
 * A signed `Issue` `update` delivery in which the `nightshift` label was just added
 * (shape: devstack/fixtures/linear/issue-update-label-added.constructed.json).
 */
export function labeledIssueDelivery(secret: string, issue: { id?: string; identifier?: string; title?: string; description?: string } = {}) {
  const body = JSON.parse(readFileSync(devstackFixture('linear', 'issue-update-label-added.constructed.json'), 'utf8')) as {
    data: Record<string, unknown>;
    webhookId: string;
    url: string;
  };
  const id = issue.id ?? randomUUID();
  const identifier = issue.identifier ?? 'CALC-7';
  body.data = {
    ...body.data,
    id,
    identifier,
    title: issue.title ?? CALCULATOR_ISSUE.title,
    description: issue.description ?? CALCULATOR_ISSUE.description,
    url: `https://linear.app/example/issue/${identifier}`,
  };
  body.url = `https://linear.app/example/issue/${identifier}`;
  body.webhookId = randomUUID();
  return { issueId: id, identifier, title: String(body.data.title), ...signedWebhook(body, secret) };
}
