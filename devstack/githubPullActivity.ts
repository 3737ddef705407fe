/**
 * What happens to a pull request after it is opened, for the GitHub fake (devstack/github.ts):
 * reviews, merges and closes by humans, and the commits on the PR's branch (read from the real
 * git repository backing it), in GitHub's REST shapes; and signed webhook deliveries
 * (`X-Hub-Signature-256`, https://docs.github.com/webhooks/webhook-events-and-payloads).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';

/** A review as the fake stores it. */
export interface FakeReview {
  id: number;
  login: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'PENDING';
  /** Head commit reviewed. */
  commitId: string;
  submittedAt: string;
}

/** One commit of `base..head` in a git repository, oldest first: sha, author name, email, date, subject. */
export function branchCommits(gitDir: string, baseSha: string, head: string): Promise<Array<{ sha: string; name: string; email: string; date: string; message: string }>> {
  return new Promise((resolve, reject) => {
    execFile('git', ['-C', gitDir, 'log', '--reverse', '--format=%H%x00%an%x00%ae%x00%aI%x00%s', `${baseSha}..refs/heads/${head}`], { timeout: 30_000 }, (err, stdout) => {
      if (err) return reject(err);
      resolve(
        stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const [sha = '', name = '', email = '', date = '', message = ''] = l.split('\0');
            return { sha, name, email, date, message };
          }),
      );
    });
  });
}

/** A `pull-request-review` object (https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request). */
export function reviewJson(r: FakeReview, htmlPullUrl: string, user: Record<string, unknown>): Record<string, unknown> {
  return {
    id: r.id,
    node_id: Buffer.from(`PullRequestReview:${r.id}`).toString('base64'),
    user,
    body: '',
    state: r.state,
    html_url: `${htmlPullUrl}#pullrequestreview-${r.id}`,
    pull_request_url: htmlPullUrl,
    _links: { html: { href: `${htmlPullUrl}#pullrequestreview-${r.id}` }, pull_request: { href: htmlPullUrl } },
    submitted_at: r.state === 'PENDING' ? undefined : r.submittedAt,
    commit_id: r.commitId,
    author_association: 'MEMBER',
  };
}

/** A `commit` of `pulls.listCommits` (https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request). */
export function commitJson(c: { sha: string; name: string; email: string; date: string; message: string }, apiRepoUrl: string, author: Record<string, unknown> | null): Record<string, unknown> {
  const person = { name: c.name, email: c.email, date: c.date };
  return {
    sha: c.sha,
    node_id: Buffer.from(`Commit:${c.sha}`).toString('base64'),
    url: `${apiRepoUrl}/commits/${c.sha}`,
    commit: { author: person, committer: person, message: c.message, tree: { sha: c.sha, url: `${apiRepoUrl}/git/trees/${c.sha}` }, comment_count: 0, url: `${apiRepoUrl}/git/commits/${c.sha}` },
    author,
    committer: author,
    parents: [],
  };
}

/**
 * Delivers a webhook like GitHub: POST `url` with the JSON body signed with `secret`
 * (`sha256=` HMAC hex), `X-GitHub-Event` and a fresh `X-GitHub-Delivery`. `signature` overrides
 * the header (tests of refusal). Resolves to the answer's status and text.
 */
export async function deliverGitHubWebhook(url: string, secret: string, event: string, payload: unknown, signature?: string): Promise<{ status: number; text: string; delivery: string }> {
  const body = JSON.stringify(payload);
  const delivery = randomUUID();
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/fake',
      'x-github-event': event,
      'x-github-delivery': delivery,
      'x-hub-signature-256': signature ?? (await sign(secret, body)),
    },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, text: await res.text(), delivery };
}
