/**
 * A loopback fake of the GitHub REST API: the subset of the pull-request flow Nightshift uses.
 *
 * Responses are built from GitHub's own examples (`@octokit/openapi` `pull-request`,
 * `issue-comment`, `label-items`, `git-ref`) and the recorded `@octokit/fixtures` repository
 * response, copied under `test/fixtures/github/` (see `test/fixtures/SOURCES.md`). Branches are
 * real: each `owner/name` maps to a local git repository, inspected with `git`.
 *
 * Endpoints (https://docs.github.com/rest):
 * - `GET  /repos/{owner}/{repo}`                         repos.get
 * - `GET  /repos/{owner}/{repo}/git/ref/heads/{branch}`  git.getRef
 * - `GET  /repos/{owner}/{repo}/pulls`                   pulls.list (`state`, `head`, `base`)
 * - `POST /repos/{owner}/{repo}/pulls`                   pulls.create (201 / 422 like GitHub)
 * - `GET  /repos/{owner}/{repo}/pulls/{n}`               pulls.get
 * - `POST /repos/{owner}/{repo}/issues/{n}/comments`     issues.createComment (PRs are issues)
 * - `POST /repos/{owner}/{repo}/issues/{n}/labels`       issues.addLabels
 * - `GET  /repos/{owner}/{repo}/pulls/{n}/reviews`       pulls.listReviews
 * - `GET  /repos/{owner}/{repo}/pulls/{n}/commits`       pulls.listCommits (the branch's real commits)
 * - `PUT  /repos/{owner}/{repo}/pulls/{n}/merge`         pulls.merge
 * - `PATCH /repos/{owner}/{repo}/pulls/{n}`              pulls.update (`state`)
 *
 * Every request needs an `authorization` header (`token …` or `bearer …`); without one the fake
 * answers 401 "Bad credentials" like GitHub. `failNext(n, status)` makes the next n requests fail
 * with a 5xx before anything else happens, for retry tests.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { devstackFixture } from './paths.js';
import { listen } from '../bots/http.js';
import { closeServer } from './net.js';
import { branchCommits, commitJson, reviewJson, type FakeReview } from './githubPullActivity.js';

/** One request the fake received. */
export interface RecordedGitHubRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  /** Parsed JSON body, or the raw text when it is not JSON, or undefined when empty. */
  body: unknown;
  /** Status the fake answered. */
  status: number;
}

/** A pull request as the fake stores it. */
export interface FakePull {
  number: number;
  title: string;
  body: string | null;
  head: string;
  base: string;
  headSha: string;
  baseSha: string;
  state: 'open' | 'closed';
  draft: boolean;
  labels: string[];
  comments: { id: number; body: string }[];
  createdAt: string;
  /** Set when merged / closed (ISO). */
  mergedAt?: string;
  closedAt?: string;
  reviews?: FakeReview[];
}

export interface FakeGitHubOptions {
  /** When set, the token in `authorization` must equal it (else 401). Default: any token. */
  token?: string;
  /** Login of the authenticated user, used as PR / comment author. Default `nightshift-bot`. */
  login?: string;
  /** Base of `html_url`s. Default `https://github.com`. */
  htmlBaseUrl?: string;
}

interface RepoState {
  owner: string;
  name: string;
  gitDir: string;
  id: number;
  pulls: FakePull[];
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

const DOCS = {
  repo: 'https://docs.github.com/rest/repos/repos#get-a-repository',
  getRef: 'https://docs.github.com/rest/git/refs#get-a-reference',
  listPulls: 'https://docs.github.com/rest/pulls/pulls#list-pull-requests',
  createPull: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
  getPull: 'https://docs.github.com/rest/pulls/pulls#get-a-pull-request',
  comment: 'https://docs.github.com/rest/issues/comments#create-an-issue-comment',
  labels: 'https://docs.github.com/rest/issues/labels#add-labels-to-an-issue',
};

/** GitHub's error bodies carry `status` as a string. */
function errorBody(status: number, message: string, documentationUrl: string, errors?: unknown[]): Record<string, unknown> {
  return { message, ...(errors ? { errors } : {}), documentation_url: documentationUrl, status: String(status) };
}

function validationFailed(documentationUrl: string, errors: unknown[]): HttpError {
  return new HttpError(422, errorBody(422, 'Validation Failed', documentationUrl, errors));
}

function notFound(documentationUrl: string): HttpError {
  return new HttpError(404, errorBody(404, 'Not Found', documentationUrl));
}

/** Replaces substrings in every string of a JSON value. */
function rewrite<T>(value: T, replacements: [string, string][]): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return replacements.reduce((s, [from, to]) => s.split(from).join(to), v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

type Json = Record<string, unknown>;

interface Templates {
  repository: Json;
  pullRequest: Json;
  issueComment: Json;
  label: Json;
  gitRef: Json;
}

function loadTemplates(): Templates {
  const recorded = JSON.parse(readFileSync(devstackFixture('github', 'get-repository.normalized-fixture.json'), 'utf8')) as { response: Json }[];
  const openapi = JSON.parse(readFileSync(devstackFixture('github', 'openapi-pr-flow.octokit-openapi-23.0.2.json'), 'utf8')) as {
    examples: Record<string, unknown>;
  };
  const repository = recorded[0]?.response;
  const labels = openapi.examples['label-items'] as Json[] | undefined;
  const templates = {
    repository,
    pullRequest: openapi.examples['pull-request'] as Json | undefined,
    issueComment: openapi.examples['issue-comment'] as Json | undefined,
    label: labels?.[0],
    gitRef: openapi.examples['git-ref'] as Json | undefined,
  };
  for (const [k, v] of Object.entries(templates)) {
    if (!v || typeof v !== 'object') throw new Error(`FakeGitHub: fixture template ${k} missing`);
  }
  return templates as Templates;
}

function git(gitDir: string, args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('git', ['-C', gitDir, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ ok: !err, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

/** A fake GitHub REST server on 127.0.0.1. */
export class FakeGitHub {
  /** Every request received, in order. */
  readonly requests: RecordedGitHubRequest[] = [];
  private readonly repos = new Map<string, RepoState>();
  private readonly templates = loadTemplates();
  private server: Server | undefined;
  private baseUrl = '';
  private failures: { remaining: number; status: number } = { remaining: 0, status: 502 };
  private nextId = 5000;

  /**
   * @param repos `owner/name` → path of a local (bare or not) git repository backing it.
   */
  constructor(
    repos: Record<string, string>,
    private readonly options: FakeGitHubOptions = {},
  ) {
    let id = 1000;
    for (const [full, gitDir] of Object.entries(repos)) {
      const [owner, name, ...rest] = full.split('/');
      if (!owner || !name || rest.length > 0) throw new Error(`FakeGitHub: expected "owner/name", got "${full}"`);
      this.repos.set(full.toLowerCase(), { owner, name, gitDir, id: id++, pulls: [] });
    }
  }

  /** Base URL of the API, e.g. `http://127.0.0.1:41234` (pass it as Octokit's `baseUrl`). */
  get url(): string {
    if (!this.baseUrl) throw new Error('FakeGitHub not started');
    return this.baseUrl;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.baseUrl = await listen(server, 0, '127.0.0.1');
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server);
  }

  /** Makes the next `n` requests fail with `status` (a 5xx) before any other processing. */
  failNext(n: number, status = 502): void {
    if (status < 500 || status > 599) throw new Error('failNext: status must be a 5xx');
    this.failures = { remaining: n, status };
  }

  /** The pull requests of `owner/name`, oldest first. */
  pulls(ownerRepo: string): FakePull[] {
    return this.repoState(ownerRepo).pulls;
  }

  /** Closes a pull request (as a human would on github.com). */
  closePull(ownerRepo: string, number: number): void {
    const pull = this.repoState(ownerRepo).pulls.find((p) => p.number === number);
    if (!pull) throw new Error(`FakeGitHub: no pull #${number} in ${ownerRepo}`);
    pull.state = 'closed';
    pull.closedAt ??= new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** Merges a pull request (as a human would on github.com). */
  mergePull(ownerRepo: string, number: number, at = new Date()): void {
    const pull = this.pullOf(ownerRepo, number);
    pull.state = 'closed';
    pull.mergedAt = pull.closedAt = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** A human's review of the PR's current head (as on github.com). */
  async submitReview(ownerRepo: string, number: number, login: string, state: FakeReview['state']): Promise<void> {
    const repo = this.repoState(ownerRepo);
    const pull = this.pullOf(ownerRepo, number);
    const head = (await this.branchSha(repo, pull.head)) ?? pull.headSha;
    (pull.reviews ??= []).push({ id: this.nextId++, login, state, commitId: head, submittedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
  }

  private pullOf(ownerRepo: string, number: number): FakePull {
    const pull = this.repoState(ownerRepo).pulls.find((p) => p.number === number);
    if (!pull) throw new Error(`FakeGitHub: no pull #${number} in ${ownerRepo}`);
    return pull;
  }

  private repoState(ownerRepo: string): RepoState {
    const repo = this.repos.get(ownerRepo.toLowerCase());
    if (!repo) throw new Error(`FakeGitHub: unknown repository ${ownerRepo}`);
    return repo;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const record: RecordedGitHubRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: undefined,
      status: 0,
    };
    this.requests.push(record);
    let status: number;
    let body: unknown;
    const headers: Record<string, string> = {};
    try {
      record.body = await readBody(req);
      const result = await this.route(record, headers);
      status = result.status;
      body = result.body;
    } catch (err) {
      if (err instanceof HttpError) {
        status = err.status;
        body = err.body;
      } else {
        status = 500;
        body = { message: `FakeGitHub internal error: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
    record.status = status;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': `FAKE:${this.requests.length}`,
      ...headers,
    });
    res.end(text);
  }

  private async route(r: RecordedGitHubRequest, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
    if (this.failures.remaining > 0) {
      this.failures.remaining--;
      const status = this.failures.status;
      throw new HttpError(status, { message: status === 502 ? 'Server Error' : 'Service Unavailable' });
    }
    const auth = r.headers.authorization;
    const m = typeof auth === 'string' ? /^(token|bearer)\s+(\S+)$/i.exec(auth) : null;
    if (!m || (this.options.token !== undefined && m[2] !== this.options.token)) {
      throw new HttpError(401, errorBody(401, 'Bad credentials', 'https://docs.github.com/rest'));
    }

    const parts = r.path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== 'repos' || parts.length < 3) throw notFound('https://docs.github.com/rest');
    const repo = this.repos.get(`${parts[1]}/${parts[2]}`.toLowerCase());
    const rest = parts.slice(3);
    const key = `${r.method} ${rest.map((p, i) => (i === 1 && /^\d+$/.test(p) ? ':n' : p)).join('/')}`;
    if (!repo) throw notFound(DOCS.repo);

    if (key === 'GET ') return { status: 200, body: await this.repositoryJson(repo) };
    // Octokit sends `{ref}` URL-encoded (`heads%2Fa%2Fb`); GitHub accepts it raw or encoded.
    const ref = rest[0] === 'git' && rest[1] === 'ref' ? rest.slice(2).join('/') : undefined;
    if (r.method === 'GET' && ref?.startsWith('heads/')) {
      const branch = ref.slice('heads/'.length);
      const sha = await this.branchSha(repo, branch);
      if (!sha) throw notFound(DOCS.getRef);
      return { status: 200, body: this.gitRefJson(repo, branch, sha) };
    }
    switch (key) {
      case 'GET pulls':
        return { status: 200, body: await this.listPulls(repo, r.query) };
      case 'POST pulls': {
        const pull = await this.createPull(repo, r.body);
        headers.location = `${this.baseUrl}/repos/${repo.owner}/${repo.name}/pulls/${pull.number}`;
        return { status: 201, body: await this.pullJson(repo, pull, 'full') };
      }
      case 'GET pulls/:n': {
        const pull = repo.pulls.find((p) => p.number === Number(rest[1]));
        if (!pull) throw notFound(DOCS.getPull);
        return { status: 200, body: await this.pullJson(repo, pull, 'full') };
      }
      case 'GET pulls/:n/reviews': {
        const pull = this.pullOf(`${repo.owner}/${repo.name}`, Number(rest[1]));
        return { status: 200, body: (pull.reviews ?? []).map((rv) => reviewJson(rv, `${this.htmlRepoUrl(repo)}/pull/${pull.number}`, this.userJson(rv.login, 'User', 7000 + rv.id))) };
      }
      case 'GET pulls/:n/commits': {
        const pull = this.pullOf(`${repo.owner}/${repo.name}`, Number(rest[1]));
        const bot = this.options.login ?? 'nightshift-bot';
        const commits = await branchCommits(repo.gitDir, pull.baseSha, pull.head);
        // GitHub links a commit to the account of its email; the fake knows the bot's (`<login>@…`) and calls the rest by name.
        return { status: 200, body: commits.map((c) => commitJson(c, this.apiRepoUrl(repo), this.userJson(c.email.startsWith(`${bot}@`) || c.email.startsWith('nightshift-bot@') ? bot : c.name.replace(/\s+/g, '-').toLowerCase(), 'User'))) };
      }
      case 'PUT pulls/:n/merge': {
        const pull = this.pullOf(`${repo.owner}/${repo.name}`, Number(rest[1]));
        if (pull.state !== 'open') throw new HttpError(405, errorBody(405, 'Pull Request is not mergeable', 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request'));
        this.mergePull(`${repo.owner}/${repo.name}`, pull.number);
        return { status: 200, body: { sha: pull.headSha, merged: true, message: 'Pull Request successfully merged' } };
      }
      case 'PATCH pulls/:n': {
        const pull = this.pullOf(`${repo.owner}/${repo.name}`, Number(rest[1]));
        const state = (r.body as { state?: unknown } | undefined)?.state;
        if (state === 'closed') this.closePull(`${repo.owner}/${repo.name}`, pull.number);
        else if (state === 'open' && !pull.mergedAt) pull.state = 'open';
        return { status: 200, body: await this.pullJson(repo, pull, 'full') };
      }
      case 'POST issues/:n/comments':
        return { status: 201, body: this.createComment(repo, Number(rest[1]), r.body) };
      case 'POST issues/:n/labels':
        return { status: 200, body: this.addLabels(repo, Number(rest[1]), r.body) };
      default:
        throw notFound('https://docs.github.com/rest');
    }
  }

  private async branchSha(repo: RepoState, branch: string): Promise<string | undefined> {
    if (!branch || branch.startsWith('-') || branch.includes('..')) return undefined;
    const out = await git(repo.gitDir, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]);
    return out.ok && /^[0-9a-f]{40,64}$/.test(out.stdout) ? out.stdout : undefined;
  }

  private async defaultBranch(repo: RepoState): Promise<string> {
    const out = await git(repo.gitDir, ['symbolic-ref', '--short', 'HEAD']);
    if (!out.ok || !out.stdout) throw new Error(`cannot read HEAD of ${repo.gitDir}: ${out.stderr}`);
    return out.stdout;
  }

  private apiRepoUrl(repo: RepoState): string {
    return `${this.baseUrl}/repos/${repo.owner}/${repo.name}`;
  }

  private htmlRepoUrl(repo: RepoState): string {
    return `${this.options.htmlBaseUrl ?? 'https://github.com'}/${repo.owner}/${repo.name}`;
  }

  private async repositoryJson(repo: RepoState): Promise<Json> {
    const html = this.options.htmlBaseUrl ?? 'https://github.com';
    const json = rewrite(this.templates.repository, [
      ['https://api.github.com', this.baseUrl],
      ['https://github.com', html],
      ['octokit-fixture-org/hello-world', `${repo.owner}/${repo.name}`],
      ['octokit-fixture-org', repo.owner],
    ]);
    const defaultBranch = await this.defaultBranch(repo);
    return { ...json, id: repo.id, name: repo.name, full_name: `${repo.owner}/${repo.name}`, default_branch: defaultBranch };
  }

  private gitRefJson(repo: RepoState, branch: string, sha: string): Json {
    return {
      ...this.templates.gitRef,
      ref: `refs/heads/${branch}`,
      node_id: Buffer.from(`Ref:${repo.id}:${branch}`).toString('base64'),
      url: `${this.apiRepoUrl(repo)}/git/refs/heads/${branch}`,
      object: { type: 'commit', sha, url: `${this.apiRepoUrl(repo)}/git/commits/${sha}` },
    };
  }

  /** A user object from the example's `user`, renamed; default: the authenticated bot. */
  private userJson(login = this.options.login ?? 'nightshift-bot', type = 'Bot', id = 4242): Json {
    const template = this.templates.pullRequest.user as Json;
    return { ...rewrite(template, [['https://api.github.com', this.baseUrl], ['octocat', login]]), login, id, type };
  }

  private async pullJson(repo: RepoState, pull: FakePull, shape: 'full' | 'simple'): Promise<Json> {
    const html = this.options.htmlBaseUrl ?? 'https://github.com';
    const t = rewrite(this.templates.pullRequest, [
      ['https://api.github.com/repos/octocat/Hello-World', this.apiRepoUrl(repo)],
      ['https://github.com/octocat/Hello-World', this.htmlRepoUrl(repo)],
      ['https://api.github.com', this.baseUrl],
      ['https://github.com', html],
      ['/1347', `/${pull.number}`],
      ['6dcb09b5b57875f334f61aebed695e2e4193db5e', pull.headSha],
    ]);
    const repoJson = await this.repositoryJson(repo);
    const user = this.userJson();
    const ownerUser = this.userJson(repo.owner, 'Organization', repo.id);
    const labelJson = pull.labels.map((name) => this.labelJson(repo, name));
    const json: Json = {
      ...t,
      id: 100000 + repo.id * 1000 + pull.number,
      node_id: Buffer.from(`PullRequest:${repo.id}:${pull.number}`).toString('base64'),
      number: pull.number,
      state: pull.state,
      locked: false,
      active_lock_reason: null,
      title: pull.title,
      body: pull.body,
      user,
      labels: labelJson,
      milestone: null,
      assignee: null,
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      created_at: pull.createdAt,
      updated_at: pull.createdAt,
      closed_at: pull.state === 'closed' ? (pull.closedAt ?? pull.createdAt) : null,
      merged_at: pull.mergedAt ?? null,
      merge_commit_sha: null,
      draft: pull.draft,
      author_association: 'CONTRIBUTOR',
      head: { label: `${repo.owner}:${pull.head}`, ref: pull.head, sha: pull.headSha, user: ownerUser, repo: repoJson },
      base: { label: `${repo.owner}:${pull.base}`, ref: pull.base, sha: pull.baseSha, user: ownerUser, repo: repoJson },
    };
    if (shape === 'full') {
      Object.assign(json, {
        merged: pull.mergedAt !== undefined,
        mergeable: null,
        rebaseable: null,
        mergeable_state: 'unknown',
        merged_by: null,
        comments: pull.comments.length,
        review_comments: 0,
        maintainer_can_modify: false,
      });
    } else {
      for (const k of ['merged', 'mergeable', 'rebaseable', 'mergeable_state', 'merged_by', 'comments', 'review_comments', 'maintainer_can_modify', 'commits', 'additions', 'deletions', 'changed_files']) {
        delete json[k];
      }
    }
    return json;
  }

  private labelJson(repo: RepoState, name: string): Json {
    return {
      ...this.templates.label,
      id: 200000 + [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 100000, 0),
      node_id: Buffer.from(`Label:${repo.id}:${name}`).toString('base64'),
      url: `${this.apiRepoUrl(repo)}/labels/${encodeURIComponent(name)}`,
      name,
      description: null,
      color: 'ededed',
      default: false,
    };
  }

  private async listPulls(repo: RepoState, query: Record<string, string>): Promise<Json[]> {
    const state = query.state ?? 'open';
    if (!['open', 'closed', 'all'].includes(state)) {
      throw validationFailed(DOCS.listPulls, [{ resource: 'PullRequest', field: 'state', code: 'invalid', value: state }]);
    }
    let pulls = repo.pulls.filter((p) => state === 'all' || p.state === state);
    if (query.head) {
      // `head` is `user:ref-name` (or `organization:ref-name`); a bare ref matches nothing on GitHub.
      const [owner, ...ref] = query.head.split(':');
      pulls = ref.length === 0 ? [] : pulls.filter((p) => owner?.toLowerCase() === repo.owner.toLowerCase() && p.head === ref.join(':'));
    }
    if (query.base) pulls = pulls.filter((p) => p.base === query.base);
    const sorted = [...pulls].sort((a, b) => b.number - a.number);
    const perPage = Math.min(Number(query.per_page ?? 30) || 30, 100);
    const page = Math.max(Number(query.page ?? 1) || 1, 1);
    return Promise.all(sorted.slice((page - 1) * perPage, page * perPage).map((p) => this.pullJson(repo, p, 'simple')));
  }

  private async createPull(repo: RepoState, body: unknown): Promise<FakePull> {
    const input = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    const missing = ['head', 'base'].filter((f) => typeof input[f] !== 'string' || input[f] === '');
    if (typeof input.title !== 'string' && input.issue === undefined) missing.unshift('title');
    if (missing.length > 0) {
      throw validationFailed(
        DOCS.createPull,
        missing.map((field) => ({ resource: 'PullRequest', code: 'missing_field', field })),
      );
    }
    let head = input.head as string;
    const base = input.base as string;
    if (head.includes(':')) {
      const [owner, ...ref] = head.split(':');
      if (owner?.toLowerCase() !== repo.owner.toLowerCase()) {
        throw validationFailed(DOCS.createPull, [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
      }
      head = ref.join(':');
    }
    const baseSha = await this.branchSha(repo, base);
    if (!baseSha) throw validationFailed(DOCS.createPull, [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
    const headSha = await this.branchSha(repo, head);
    if (!headSha) throw validationFailed(DOCS.createPull, [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
    if (head === base) {
      throw validationFailed(DOCS.createPull, [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` }]);
    }
    if (repo.pulls.some((p) => p.state === 'open' && p.head === head && p.base === base)) {
      throw validationFailed(DOCS.createPull, [
        { resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${repo.owner}:${head}.` },
      ]);
    }
    const ahead = await git(repo.gitDir, ['rev-list', '--count', `${baseSha}..${headSha}`]);
    if (ahead.ok && ahead.stdout === '0') {
      throw validationFailed(DOCS.createPull, [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` }]);
    }
    const pull: FakePull = {
      number: this.nextNumber(repo),
      title: typeof input.title === 'string' ? input.title : `Issue #${String(input.issue)}`,
      body: typeof input.body === 'string' ? input.body : null,
      head,
      base,
      headSha,
      baseSha,
      state: 'open',
      draft: input.draft === true,
      labels: [],
      comments: [],
      createdAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    repo.pulls.push(pull);
    return pull;
  }

  private nextNumber(repo: RepoState): number {
    return repo.pulls.reduce((n, p) => Math.max(n, p.number), 0) + 1;
  }

  private createComment(repo: RepoState, number: number, body: unknown): Json {
    const pull = repo.pulls.find((p) => p.number === number);
    if (!pull) throw notFound(DOCS.comment);
    const text = body && typeof body === 'object' ? (body as Record<string, unknown>).body : undefined;
    if (typeof text !== 'string' || text === '') {
      throw validationFailed(DOCS.comment, [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }]);
    }
    const id = this.nextId++;
    pull.comments.push({ id, body: text });
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      ...rewrite(this.templates.issueComment, [['https://api.github.com', this.baseUrl]]),
      id,
      node_id: Buffer.from(`IssueComment:${id}`).toString('base64'),
      url: `${this.apiRepoUrl(repo)}/issues/comments/${id}`,
      html_url: `${this.htmlRepoUrl(repo)}/pull/${number}#issuecomment-${id}`,
      issue_url: `${this.apiRepoUrl(repo)}/issues/${number}`,
      body: text,
      user: this.userJson(),
      created_at: now,
      updated_at: now,
      author_association: 'CONTRIBUTOR',
    };
  }

  private addLabels(repo: RepoState, number: number, body: unknown): Json[] {
    const pull = repo.pulls.find((p) => p.number === number);
    if (!pull) throw notFound(DOCS.labels);
    const raw = Array.isArray(body) ? body : body && typeof body === 'object' ? (body as Record<string, unknown>).labels : undefined;
    const names = Array.isArray(raw)
      ? raw.map((l: unknown) => (typeof l === 'string' ? l : l && typeof l === 'object' ? (l as Record<string, unknown>).name : undefined))
      : [];
    if (names.length === 0 || names.some((n) => typeof n !== 'string' || n === '')) {
      throw validationFailed(DOCS.labels, [{ resource: 'Label', code: 'invalid', field: 'labels' }]);
    }
    for (const n of names as string[]) {
      if (!pull.labels.some((l) => l.toLowerCase() === n.toLowerCase())) pull.labels.push(n);
    }
    return pull.labels.map((n) => this.labelJson(repo, n));
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, errorBody(400, 'Problems parsing JSON', 'https://docs.github.com/rest'));
  }
}
