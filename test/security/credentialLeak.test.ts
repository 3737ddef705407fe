/**
 * The push credential never reaches workflow history, the report posted at the origin, or the
 * logs, even when the git command that carried it fails: a clone from an https remote nobody
 * answers, through the whole stack (webhook → workflow → activity retries → escalation).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { run } from '../../activities/exec.js';
import { fixCalculatorScript } from '../../devstack/scripts.js';
import { GITHUB_TOKEN, LocalStack, WEBHOOK_SECRET } from '../../devstack/stack.js';
import { labeledIssueDelivery } from '../../devstack/linearIssue.js';
import { createRootLogger } from '../../worker/logger.js';
import { runStatus } from '../../worker/runs.js';
import { resolveTemporalCli } from '../../worker/temporal.js';
import { useSharedTemporal } from './attackKit.js';

const shared = useSharedTemporal();

/** Every form the token could leak in: as is, and inside git's Basic credential header. */
function leaks(text: string): string[] {
  const forms = [GITHUB_TOKEN, Buffer.from(`x-access-token:${GITHUB_TOKEN}`).toString('base64')];
  return forms.filter((f) => text.includes(f));
}

describe('the push credential in failures', { timeout: 240_000 }, () => {
  test('a failed https clone: the token is in no history event (temporal workflow show), no report, no log line', async () => {
    const logLines: string[] = [];
    const logger = createRootLogger('debug', { write: (line: string) => void logLines.push(line) });
    const stack = await LocalStack.start({
      script: fixCalculatorScript(),
      temporal: shared.temporal,
      workflowBundle: shared.bundle,
      logger,
      // Connection refused: git fails before any answer, with the credential in its configuration.
      repoUrl: 'https://127.0.0.1:9/acme/calculator.git',
    });
    try {
      const delivery = labeledIssueDelivery(WEBHOOK_SECRET);
      assert.equal((await stack.sendLinearDelivery(delivery)).status, 200);
      const workflowId = `linear-${delivery.issueId}`;
      // The clone is retried (4 tries), then the run escalates with the infrastructure error.
      const end = Date.now() + 180_000;
      while ((await runStatus(stack.client, workflowId)).phase !== 'awaiting_human') {
        assert.ok(Date.now() < end, 'the run escalated');
        await new Promise((r) => setTimeout(r, 500));
      }
      const status = await runStatus(stack.client, workflowId);
      assert.match(status.lastReport ?? '', /CLONE_FAILED/, 'the report names the failure');
      assert.match(status.lastReport ?? '', /git clone failed/, 'and the command, without its argv');

      const cli = resolveTemporalCli();
      assert.equal(cli.type, 'existing-path', 'the Temporal CLI is installed (scripts/setup.sh)');
      const shown = await run(cli.type === 'existing-path' ? cli.path : 'temporal', ['workflow', 'show', '--workflow-id', workflowId, '--address', shared.temporal.address, '--output', 'json']);
      assert.match(shown.stdout, /CLONE_FAILED/, 'the history holds the activity failures');
      assert.deepEqual(leaks(shown.stdout), [], 'no token in workflow history');

      const comments = stack.linear.comments.map((c) => JSON.stringify(c)).join('\n');
      assert.match(comments, /CLONE_FAILED/, 'the escalation was posted to Linear');
      assert.deepEqual(leaks(comments), [], 'no token in the posted report');

      const logs = logLines.join('');
      assert.match(logs, /workflowId/, 'the logs were captured');
      assert.deepEqual(leaks(logs), [], 'no token in the logs');
    } finally {
      await stack.stop();
    }
  });
});
