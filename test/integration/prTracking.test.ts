/**
 * PR tracking on the real Temporal dev server, real git branches and the GitHub fake: the polling
 * Schedule's workflow registers the PRs runs opened and follows them (merged with a human review
 * and a human commit on top; time to merge); a signed `pull_request` webhook delivery refreshes
 * the PR it names through `prTrackingWorkflow`; a bad signature is refused and starts nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Server } from 'node:http';
import { createOctokit } from '../../activities/github.js';
import { createPrTrackingActivities } from '../../activities/prTracking.js';
import { createHttpServer, listen } from '../../bots/http.js';
import { FakeGitHub } from '../../devstack/github.js';
import { deliverGitHubWebhook } from '../../devstack/githubPullActivity.js';
import { closeServer } from '../../devstack/net.js';
import { openLedger } from '../../ledger/open.js';
import type { Ledger, PullRequestRow } from '../../ledger/types.js';
import { parseConfig } from '../../worker/config.js';
import { createGitHubWebhookHandler, temporalPrTracking } from '../../worker/githubWebhook.js';
import { rootLogger } from '../../worker/logger.js';
import { ensureReportSchedules, PR_TRACKING_SCHEDULE_ID } from '../../worker/reportSchedules.js';
import { startDevServer } from '../../worker/temporal.js';

const SECRET = 'whsec-test-not-a-real-secret';
const BOT = ['-c', 'user.name=nightshift[bot]', '-c', 'user.email=nightshift-bot@users.noreply.github.com'];
let temporal: TestWorkflowEnvironment;
let github: FakeGitHub;
let ledger: Ledger;
let dir: string;
let server: Server | undefined;

const git = (cwd: string, args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ns-prtrack-'));
  const work = join(dir, 'work');
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  git(work, [...BOT, 'commit', '-q', '--allow-empty', '-m', 'base']);
  for (const b of ['nightshift/one', 'nightshift/two']) {
    git(work, ['checkout', '-q', '-b', b, 'main']);
    git(work, [...BOT, 'commit', '-q', '--allow-empty', '-m', `agent work on ${b}`]);
  }
  git(work, ['checkout', '-q', 'main']);
  temporal = await startDevServer({});
  github = new FakeGitHub({ 'acme/calc': work });
  await github.start();
  ledger = await openLedger({ stateDir: join(dir, 'state') });
});
after(async () => {
  if (server) await closeServer(server).catch(() => undefined);
  await github?.stop().catch(() => undefined);
  await ledger?.close().catch(() => undefined);
  await temporal?.teardown().catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const config = parseConfig({
  gateway: { prices: {} },
  repos: { calc: { url: '/tmp/none', github: 'acme/calc', testCommand: 'true', budget: { minutes: 10, tokens: 1000, usd: 1 } } },
  prTracking: { everyMinutes: 30 },
});

async function until(what: string, fn: () => Promise<PullRequestRow | undefined>, ok: (p: PullRequestRow) => boolean, ms = 60_000): Promise<PullRequestRow> {
  const end = Date.now() + ms;
  for (;;) {
    const p = await fn();
    if (p && ok(p)) return p;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(p)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('polling Schedule and signed webhooks follow agent-authored PRs into the ledger', { timeout: 180_000 }, async () => {
  const client = temporal.client;
  const taskQueue = `prtrack-${Date.now()}`;
  const octokit = createOctokit({ token: 'ghs_test', apiUrl: github.url });
  for (const [n, head] of [[1, 'nightshift/one'], [2, 'nightshift/two']] as const) {
    const pr = await octokit.rest.pulls.create({ owner: 'acme', repo: 'calc', head, base: 'main', title: `run ${n}` });
    assert.equal(pr.data.number, n);
    await ledger.upsertRun({ workflowId: `run-${n}`, repo: 'calc', requester: 'ana', title: `run ${n}`, status: 'done', outcome: 'pr_opened', prUrl: pr.data.html_url, createdAt: Date.now() - 3_600_000 });
  }
  const worker = await Worker.create({
    connection: temporal.nativeConnection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('../../workflows/prTracking.js', import.meta.url)),
    activities: createPrTrackingActivities({ config, ledger, octokit, logger: rootLogger() }),
  });
  await worker.runUntil(async () => {
    // The Schedule exists (a second start updates it) and, triggered, registers both PRs.
    assert.deepEqual(await ensureReportSchedules(client, config, taskQueue), [PR_TRACKING_SCHEDULE_ID]);
    await ensureReportSchedules(client, config, taskQueue);
    const schedule = client.schedule.getHandle(PR_TRACKING_SCHEDULE_ID);
    assert.deepEqual((await schedule.describe()).spec.intervals?.map((i) => i.every), [30 * 60_000]);
    await schedule.trigger();
    const one = () => ledger.listPullRequests({ githubRepo: 'acme/calc', number: 1 }).then((l) => l[0]);
    const two = () => ledger.listPullRequests({ githubRepo: 'acme/calc', number: 2 }).then((l) => l[0]);
    const p1 = await until('PR 1 registered', one, (p) => p.state === 'open');
    assert.deepEqual([p1.workflowId, p1.repo, p1.humanCommits, p1.reviewRounds, p1.lastEvent], ['run-1', 'calc', 0, 0, 'register']);
    await until('PR 2 registered', two, (p) => p.state === 'open');

    // A human reviews, pushes a commit on top, reviews again, and merges PR 1.
    const work = join(dir, 'work');
    await github.submitReview('acme/calc', 1, 'alice', 'CHANGES_REQUESTED');
    git(work, ['checkout', '-q', 'nightshift/one']);
    git(work, ['-c', 'user.name=Alice', '-c', 'user.email=alice@example.com', 'commit', '-q', '--allow-empty', '-m', 'fix the test name']);
    git(work, ['checkout', '-q', 'main']);
    await github.submitReview('acme/calc', 1, 'alice', 'APPROVED');
    github.mergePull('acme/calc', 1);
    await schedule.trigger();
    const merged = await until('PR 1 merged', one, (p) => p.state === 'merged');
    assert.equal(merged.humanCommits, 1);
    assert.equal(merged.reviewRounds, 2);
    assert.ok(merged.mergedAt! >= merged.openedAt && merged.mergedAt! - merged.openedAt < 600_000);

    // Webhooks: PR 2 closed unmerged on GitHub; a bad signature is refused, a good one refreshes it.
    server = createHttpServer({
      'POST /webhooks/github': createGitHubWebhookHandler({ secret: SECRET, starter: temporalPrTracking(client, taskQueue), logger: rootLogger(), trackedRepos: new Set(['acme/calc']) }),
    });
    const url = `${await listen(server, 0, '127.0.0.1')}/webhooks/github`;
    github.closePull('acme/calc', 2);
    const payload = { action: 'closed', number: 2, pull_request: { number: 2, merged: false }, repository: { full_name: 'acme/calc' } };
    const bad = await deliverGitHubWebhook(url, SECRET, 'pull_request', payload, 'sha256=' + '0'.repeat(64));
    assert.equal(bad.status, 401);
    const unsigned = await deliverGitHubWebhook(url, 'another-secret', 'pull_request', payload);
    assert.equal(unsigned.status, 401);
    await assert.rejects(client.workflow.getHandle('pr-tracking-acme/calc#2').describe(), /not found/i);
    // A repository Nightshift does not work on starts nothing, signed or not.
    const other = await deliverGitHubWebhook(url, SECRET, 'pull_request', { ...payload, repository: { full_name: 'someone/else' } });
    assert.equal(other.status, 202);
    await assert.rejects(client.workflow.getHandle('pr-tracking-someone/else#2').describe(), /not found/i);
    assert.equal((await two())?.state, 'open');
    const ok = await deliverGitHubWebhook(url, SECRET, 'pull_request', payload);
    assert.equal(ok.status, 202);
    const closed = await until('PR 2 closed by the webhook', two, (p) => p.state === 'closed');
    assert.equal(closed.lastEvent, 'pull_request.closed');
    assert.equal(closed.mergedAt, undefined);
    assert.equal((await deliverGitHubWebhook(url, SECRET, 'ping', { zen: 'hi' })).status, 200);
  });
});
