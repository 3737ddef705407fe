/**
 * GitHub REST calls of the delivery step, over `@octokit/rest`.
 *
 * Failures become {@link GitHubApiError} (code `GITHUB_FAILED`, HTTP `status`, a `reason`, the
 * Octokit `RequestError` as `cause`), classified by status code and headers only, never by
 * message text. There is no retry loop here: the activity rethrows and Temporal's retry policy
 * retries what {@link isRetryable} calls retryable.
 *
 * Docs: https://docs.github.com/rest/pulls/pulls, https://octokit.github.io/rest.js/
 */
import { Octokit } from '@octokit/rest';
import type { Logger } from '../worker/logger.js';
import { NightshiftError } from './errors.js';

/** What kind of failure a {@link GitHubApiError} is, from its HTTP status. */
export type GitHubFailureReason =
  | 'unauthorized' // 401
  | 'forbidden' // 403 without rate-limit headers
  | 'not_found' // 404
  | 'validation_failed' // 422
  | 'rate_limited' // 429, or 403 with x-ratelimit-remaining: 0 / retry-after
  | 'server_error' // 5xx answered by GitHub
  | 'network' // no answer at all (Octokit reports status 500 without a response)
  | 'client_error' // any other 4xx
  | 'unexpected'; // not an HTTP failure

/** A failed GitHub REST call. */
export class GitHubApiError extends NightshiftError {
  constructor(
    message: string,
    readonly reason: GitHubFailureReason,
    /** HTTP status; undefined when GitHub never answered. */
    readonly status: number | undefined,
    options: { cause?: unknown; retryable: boolean; errors?: unknown[] },
  ) {
    super('GITHUB_FAILED', message, {
      cause: options.cause,
      retryable: options.retryable,
      details: { reason, status, ...(options.errors ? { errors: options.errors } : {}) },
    });
    this.name = 'GitHubApiError';
  }
}

/**
 * Whether trying again may help: 5xx, no answer, 429, or a 403 that carries rate-limit headers.
 * A `GitHubApiError` answers with its own classification; an Octokit `RequestError` is classified
 * by its status; anything else (a bug, an unknown error) is not retryable, because Temporal's
 * default policy would retry it forever.
 */
export function isRetryable(err: unknown): boolean {
  if (err instanceof NightshiftError) return err.retryable;
  if (isRequestError(err)) return classify(err).retryable;
  return false;
}

/**
 * The shape of `RequestError` from `@octokit/request-error` (name `HttpError`), recognised
 * structurally because that package is Octokit's internal dependency, not ours.
 */
interface OctokitRequestError extends Error {
  name: 'HttpError';
  status: number;
  response?: { status: number; headers: Record<string, string | number | undefined>; data: unknown };
}

function isRequestError(err: unknown): err is OctokitRequestError {
  return err instanceof Error && err.name === 'HttpError' && typeof (err as { status?: unknown }).status === 'number';
}

function classify(err: OctokitRequestError): { reason: GitHubFailureReason; retryable: boolean } {
  const status = err.status;
  if (!err.response) {
    // @octokit/request turns a fetch failure into status 500 with no response.
    return { reason: 'network', retryable: true };
  }
  const headers = err.response.headers;
  if (status === 429) return { reason: 'rate_limited', retryable: true };
  if (status === 403 && (headers['x-ratelimit-remaining'] === '0' || headers['retry-after'] !== undefined)) {
    return { reason: 'rate_limited', retryable: true };
  }
  if (status >= 500) return { reason: 'server_error', retryable: true };
  if (status === 401) return { reason: 'unauthorized', retryable: false };
  if (status === 403) return { reason: 'forbidden', retryable: false };
  if (status === 404) return { reason: 'not_found', retryable: false };
  if (status === 422) return { reason: 'validation_failed', retryable: false };
  return { reason: 'client_error', retryable: false };
}

/** Wraps an error from Octokit into a {@link GitHubApiError}. */
export function toGitHubApiError(err: unknown, what: string): GitHubApiError {
  if (err instanceof GitHubApiError) return err;
  if (isRequestError(err)) {
    const { reason, retryable } = classify(err);
    const data = err.response?.data;
    const errors = data && typeof data === 'object' && Array.isArray((data as { errors?: unknown }).errors) ? (data as { errors: unknown[] }).errors : undefined;
    return new GitHubApiError(`${what}: ${err.message}`, reason, err.response ? err.status : undefined, { cause: err, retryable, errors });
  }
  return new GitHubApiError(`${what}: ${err instanceof Error ? err.message : String(err)}`, 'unexpected', undefined, { cause: err, retryable: false });
}

/**
 * An Octokit for `apiUrl` (`https://api.github.com`, or `https://HOST/api/v3` for GitHub
 * Enterprise Server). Octokit's per-request log lines go to `logger` at debug level; the request
 * options (which hold the token) are never logged.
 */
export function createOctokit(opts: { token: string; apiUrl?: string; logger?: Logger }): Octokit {
  const logger = opts.logger;
  const line = (level: 'debug' | 'warn') => (message: string) => {
    if (logger) logger[level]({ component: 'octokit' }, String(message));
  };
  return new Octokit({
    auth: opts.token,
    baseUrl: (opts.apiUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
    log: { debug: () => undefined, info: line('debug'), warn: line('warn'), error: line('debug') },
  });
}

/** Input of {@link openPullRequest}. */
export interface OpenPullRequestInput {
  owner: string;
  repo: string;
  /** Branch with the changes, in the same repository. */
  head: string;
  /** Branch to merge into. */
  base: string;
  title: string;
  body: string;
  /** Open as a draft (https://docs.github.com/rest/pulls/pulls#create-a-pull-request, `draft`). */
  draft?: boolean;
}

/** The pull request opened or found. */
export interface PullRequestRef {
  number: number;
  /** `html_url`, the link for humans. */
  url: string;
  /** False when an open PR for the same head and base already existed. */
  created: boolean;
}

async function findOpenPull(octokit: Octokit, input: OpenPullRequestInput): Promise<{ number: number; url: string } | undefined> {
  // https://docs.github.com/rest/pulls/pulls#list-pull-requests — `head` must be `owner:branch`.
  const res = await octokit.rest.pulls.list({
    owner: input.owner,
    repo: input.repo,
    state: 'open',
    head: `${input.owner}:${input.head}`,
    base: input.base,
    per_page: 10,
  });
  const pull = res.data[0];
  return pull ? { number: pull.number, url: pull.html_url } : undefined;
}

/**
 * Opens a pull request from `head` into `base`, idempotently: creates it, and when GitHub answers
 * 422 (an open PR for the same head exists already: a retried delivery, or a concurrent one
 * created it first) returns that PR (`created: false`); any other 422 stands. Creating first costs
 * a first delivery one request, not two.
 *
 * https://docs.github.com/rest/pulls/pulls#create-a-pull-request
 * @throws GitHubApiError (`retryable` per {@link isRetryable}); a missing head branch is a
 *   non-retryable `validation_failed`.
 */
export async function openPullRequest(octokit: Octokit, input: OpenPullRequestInput): Promise<PullRequestRef> {
  const where = `${input.owner}/${input.repo} ${input.head} → ${input.base}`;
  try {
    const res = await octokit.rest.pulls.create({
      owner: input.owner,
      repo: input.repo,
      head: input.head,
      base: input.base,
      title: input.title,
      body: input.body,
      ...(input.draft ? { draft: true } : {}),
    });
    return { number: res.data.number, url: res.data.html_url, created: true };
  } catch (err) {
    const createError = toGitHubApiError(err, `creating pull request ${where}`);
    if (createError.status !== 422) throw createError;
    let existing;
    try {
      existing = await findOpenPull(octokit, input);
    } catch (lookupErr) {
      throw toGitHubApiError(lookupErr, `listing pull requests of ${where} after a 422`);
    }
    if (existing) return { ...existing, created: false };
    throw createError;
  }
}
