/**
 * `openPullRequest` and error classification against FakeGitHub, through the real Octokit.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createOctokit, GitHubApiError, isRetryable, openPullRequest, type OpenPullRequestInput } from '../../activities/github.js';
import { FakeGitHub } from '../../devstack/github.js';

const TOKEN = 'ghp_faketoken000000000000000000000000000';
const OWNER = 'acme';
const REPO = 'widgets';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' },
  }).trim();
}

/** A bare repository with `main` and `nightshift/feature` (one commit ahead). */
function makeBareRepo(root: string): string {
  const bare = join(root, 'widgets.git');
  const work = join(root, 'work');
  execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  execFileSync('git', ['init', '--quiet', '--initial-branch=main', work]);
  writeFileSync(join(work, 'README.md'), 'widgets\n');
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'initial');
  git(work, 'push', '--quiet', bare, 'main');
  git(work, 'checkout', '--quiet', '-b', 'nightshift/feature');
  writeFileSync(join(work, 'feature.txt'), 'new\n');
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'feature');
  git(work, 'push', '--quiet', bare, 'nightshift/feature');
  return bare;
}

const input: OpenPullRequestInput = {
  owner: OWNER,
  repo: REPO,
  head: 'nightshift/feature',
  base: 'main',
  title: 'Add feature',
  body: 'Nightshift-Run: linear-123',
};

describe('openPullRequest against FakeGitHub', () => {
  let root: string;
  let fake: FakeGitHub;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'nightshift-gh-'));
  });

  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await fake?.stop();
    const dir = mkdtempSync(join(root, 'r-'));
    fake = new FakeGitHub({ [`${OWNER}/${REPO}`]: makeBareRepo(dir) }, { token: TOKEN });
    await fake.start();
  });

  after(async () => {
    await fake?.stop();
  });

  it('creates the PR once; a second call returns the same PR with created:false', async () => {
    const octokit = createOctokit({ token: TOKEN, apiUrl: fake.url });
    const first = await openPullRequest(octokit, input);
    assert.equal(first.created, true);
    assert.equal(first.number, 1);
    assert.equal(first.url, `https://github.com/${OWNER}/${REPO}/pull/1`);

    const second = await openPullRequest(octokit, input);
    assert.deepEqual(second, { number: 1, url: first.url, created: false });

    const pulls = fake.pulls(`${OWNER}/${REPO}`);
    assert.equal(pulls.length, 1);
    assert.equal(pulls[0]?.head, 'nightshift/feature');
    assert.equal(pulls[0]?.base, 'main');
    assert.equal(pulls[0]?.title, 'Add feature');
    assert.equal(pulls[0]?.body, 'Nightshift-Run: linear-123');
    // The lookup uses GitHub's `owner:branch` head filter.
    const lists = fake.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/pulls'));
    assert.equal(lists[0]?.query.head, `${OWNER}:nightshift/feature`);
    assert.equal(lists[0]?.query.state, 'open');
    assert.match(String(fake.requests[0]?.headers.authorization), /^token /);
  });

  it('surfaces a 422 for a head branch that does not exist as a non-retryable typed error', async () => {
    const octokit = createOctokit({ token: TOKEN, apiUrl: fake.url });
    const err = await openPullRequest(octokit, { ...input, head: 'nightshift/missing' }).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof GitHubApiError);
    assert.equal(err.code, 'GITHUB_FAILED');
    assert.equal(err.status, 422);
    assert.equal(err.reason, 'validation_failed');
    assert.equal(err.retryable, false);
    assert.equal(isRetryable(err), false);
    assert.equal((err.cause as Error).name, 'HttpError');
    assert.deepEqual(err.options.details?.errors, [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
    assert.equal(fake.pulls(`${OWNER}/${REPO}`).length, 0);
  });

  it('classifies a 502 as retryable, and a later attempt succeeds', async () => {
    const octokit = createOctokit({ token: TOKEN, apiUrl: fake.url });
    fake.failNext(1, 502);
    const err = await openPullRequest(octokit, input).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof GitHubApiError);
    assert.equal(err.status, 502);
    assert.equal(err.reason, 'server_error');
    assert.equal(isRetryable(err), true);
    // What Temporal's retry would do:
    const pr = await openPullRequest(octokit, input);
    assert.equal(pr.created, true);
  });

  it('resolves a 422 "already exists" race by looking again', async () => {
    // Another worker creates the same PR between our lookup and our create.
    let raced = false;
    const racingFetch: typeof fetch = async (url, init) => {
      if (!raced && init?.method === 'POST' && String(url).endsWith(`/repos/${OWNER}/${REPO}/pulls`)) {
        raced = true;
        const other = await fetch(url, init);
        assert.equal(other.status, 201);
      }
      return fetch(url, init);
    };
    const octokit = createOctokit({ token: TOKEN, apiUrl: fake.url });
    octokit.hook.before('request', (options) => {
      options.request = { ...options.request, fetch: racingFetch };
    });
    const pr = await openPullRequest(octokit, input);
    assert.deepEqual(pr, { number: 1, url: `https://github.com/${OWNER}/${REPO}/pull/1`, created: false });
    const creates = fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/pulls'));
    assert.deepEqual(
      creates.map((r) => r.status),
      [201, 422],
    );
    assert.equal(fake.pulls(`${OWNER}/${REPO}`).length, 1);
  });

  it('classifies a bad token (401) as non-retryable', async () => {
    const octokit = createOctokit({ token: 'wrong', apiUrl: fake.url });
    const err = await openPullRequest(octokit, input).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof GitHubApiError);
    assert.equal(err.status, 401);
    assert.equal(err.reason, 'unauthorized');
    assert.equal(isRetryable(err), false);
  });

  it('classifies an unreachable API as a retryable network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const octokit = createOctokit({ token: TOKEN, apiUrl: `http://127.0.0.1:${port}` });
    const err = await openPullRequest(octokit, input).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof GitHubApiError);
    assert.equal(err.reason, 'network');
    assert.equal(err.status, undefined);
    assert.equal(isRetryable(err), true);
  });

  it('isRetryable: unknown errors are not retryable', () => {
    assert.equal(isRetryable(new Error('boom')), false);
    assert.equal(isRetryable('x'), false);
  });
});

describe('FakeGitHub speaks the PR-flow subset', () => {
  let root: string;
  let fake: FakeGitHub;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'nightshift-gh-'));
    fake = new FakeGitHub({ [`${OWNER}/${REPO}`]: makeBareRepo(root) });
    await fake.start();
  });

  after(async () => {
    await fake.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers 401 "Bad credentials" without an authorization header', async () => {
    const res = await fetch(`${fake.url}/repos/${OWNER}/${REPO}`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { message: string }).message, 'Bad credentials');
  });

  it('serves repos.get, git.getRef, pulls.get, createComment, addLabels and pulls.list?state=all', async () => {
    const octokit = createOctokit({ token: 'any', apiUrl: fake.url });
    const repo = await octokit.rest.repos.get({ owner: OWNER, repo: REPO });
    assert.equal(repo.data.default_branch, 'main');
    assert.equal(repo.data.full_name, `${OWNER}/${REPO}`);
    assert.equal(repo.data.owner.login, OWNER);

    const ref = await octokit.rest.git.getRef({ owner: OWNER, repo: REPO, ref: 'heads/nightshift/feature' });
    assert.equal(ref.data.ref, 'refs/heads/nightshift/feature');
    assert.match(ref.data.object.sha, /^[0-9a-f]{40}$/);
    await assert.rejects(octokit.rest.git.getRef({ owner: OWNER, repo: REPO, ref: 'heads/nope' }), { status: 404 });

    const created = await octokit.rest.pulls.create({ owner: OWNER, repo: REPO, head: 'nightshift/feature', base: 'main', title: 'T' });
    assert.equal(created.status, 201);
    assert.equal(created.data.head.ref, 'nightshift/feature');
    assert.equal(created.data.head.sha, ref.data.object.sha);
    assert.equal(created.data.base.ref, 'main');
    assert.equal(created.data.state, 'open');

    const got = await octokit.rest.pulls.get({ owner: OWNER, repo: REPO, pull_number: created.data.number });
    assert.equal(got.data.html_url, created.data.html_url);

    const comment = await octokit.rest.issues.createComment({ owner: OWNER, repo: REPO, issue_number: created.data.number, body: 'hello' });
    assert.equal(comment.status, 201);
    assert.equal(comment.data.body, 'hello');
    const labels = await octokit.rest.issues.addLabels({ owner: OWNER, repo: REPO, issue_number: created.data.number, labels: ['nightshift'] });
    assert.deepEqual(
      labels.data.map((l) => l.name),
      ['nightshift'],
    );
    assert.deepEqual(fake.pulls(`${OWNER}/${REPO}`)[0]?.comments.map((c) => c.body), ['hello']);

    fake.closePull(`${OWNER}/${REPO}`, created.data.number);
    const open = await octokit.rest.pulls.list({ owner: OWNER, repo: REPO, head: `${OWNER}:nightshift/feature` });
    assert.equal(open.data.length, 0);
    const all = await octokit.rest.pulls.list({ owner: OWNER, repo: REPO, head: `${OWNER}:nightshift/feature`, state: 'all' });
    assert.equal(all.data.length, 1);
  });

  it('refuses head == base with 422 Validation Failed', async () => {
    const octokit = createOctokit({ token: 'any', apiUrl: fake.url });
    await assert.rejects(octokit.rest.pulls.create({ owner: OWNER, repo: REPO, head: 'main', base: 'main', title: 'T' }), (err: unknown) => {
      const e = err as { status: number; response: { data: { message: string; errors: { code: string; message?: string }[] } } };
      assert.equal(e.status, 422);
      assert.equal(e.response.data.message, 'Validation Failed');
      assert.equal(e.response.data.errors[0]?.message, 'No commits between main and main');
      return true;
    });
  });
});
