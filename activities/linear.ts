/**
 * Thin wrappers over `@linear/sdk` used by activities: comments on issues and agent activities.
 *
 * Every failure becomes a {@link LinearApiError} (code `LINEAR_FAILED`, a `reason` from the SDK's
 * error type, the HTTP status, the SDK error as `cause`) whose `retryable` flag is set from the
 * error's type and status, never from its message. No retry loop here: the activity rethrows and
 * Temporal's retry policy decides.
 *
 * Docs: https://linear.app/developers/sdk, https://linear.app/developers/agent-interaction
 */
import { LinearClient, LinearError, LinearErrorType } from '@linear/sdk';
import { NightshiftError } from './errors.js';

/** Why a Linear call failed: the SDK's error type, or one of ours. */
export type LinearFailureReason = `${LinearErrorType}` | 'Network' | 'Unsuccessful';

/** A failed Linear API call. */
export class LinearApiError extends NightshiftError {
  constructor(
    message: string,
    /** Classification of the failure (the SDK's `LinearErrorType`, or `Network` / `Unsuccessful`). */
    readonly reason: LinearFailureReason,
    /** HTTP status of the response, when there was one. */
    readonly status: number | undefined,
    options: { cause?: unknown; retryable: boolean },
  ) {
    super('LINEAR_FAILED', message, { cause: options.cause, retryable: options.retryable, details: { reason, status } });
    this.name = 'LinearApiError';
  }
}

/** Linear error types worth another try: throttling, transient server trouble, the network. */
const RETRYABLE_TYPES = new Set<string>([
  LinearErrorType.Ratelimited,
  LinearErrorType.NetworkError,
  LinearErrorType.InternalError,
  LinearErrorType.LockTimeout,
]);

/** Wraps any error thrown by the SDK (or fetch) into a {@link LinearApiError}. */
export function toLinearApiError(err: unknown, what: string): LinearApiError {
  if (err instanceof LinearApiError) return err;
  if (err instanceof LinearError) {
    const status = err.status;
    const noAnswer = status === undefined && (err.errors?.length ?? 0) === 0;
    // The SDK reports a request that never got an answer (DNS, refused connection) as Unknown
    // with no status and no GraphQL errors.
    const reason: LinearFailureReason = noAnswer ? 'Network' : (err.type ?? LinearErrorType.Unknown);
    const retryable = noAnswer || RETRYABLE_TYPES.has(reason) || (status !== undefined && (status >= 500 || status === 429));
    return new LinearApiError(`${what}: ${err.message}`, reason, status, { cause: err, retryable });
  }
  // Not from the SDK: fetch itself failing, or a bug. Only a fetch TypeError is a network failure.
  const network = err instanceof TypeError;
  return new LinearApiError(`${what}: ${err instanceof Error ? err.message : String(err)}`, network ? 'Network' : LinearErrorType.Unknown, undefined, {
    cause: err,
    retryable: network,
  });
}

/**
 * A Linear client. `apiUrl` defaults to `https://api.linear.app/graphql`; the SDK accepts plain
 * http only for localhost / 127.0.0.1 / [::1] (the fakes). The key is sent as `Authorization`.
 */
export function createLinearClient(opts: { apiKey: string; apiUrl?: string }): LinearClient {
  return new LinearClient({ apiKey: opts.apiKey, ...(opts.apiUrl ? { apiUrl: opts.apiUrl } : {}) });
}

/**
 * Posts a Markdown comment on an issue (`commentCreate`).
 * https://linear.app/developers/graphql — mutation `commentCreate(input: CommentCreateInput!)`
 * @throws LinearApiError
 */
export async function postIssueComment(client: LinearClient, issueId: string, body: string, id?: string): Promise<{ commentId: string }> {
  const what = `commentCreate on issue ${issueId}`;
  let payload;
  try {
    payload = await client.createComment({ issueId, body, ...(id ? { id } : {}) });
  } catch (err) {
    throw toLinearApiError(err, what);
  }
  const commentId = payload.commentId;
  if (!payload.success || !commentId) {
    throw new LinearApiError(`${what}: Linear answered success=${String(payload.success)}`, 'Unsuccessful', undefined, { retryable: false });
  }
  return { commentId };
}

/**
 * Content of an agent activity (https://linear.app/developers/agent-interaction#activity-content-payload).
 * Send a `thought` within 10 s of an `AgentSessionEvent` `created`, or Linear shows the agent as
 * unresponsive.
 */
export type AgentActivityContent =
  | { type: 'thought'; body: string }
  | { type: 'action'; action: string; parameter: string; result?: string }
  | { type: 'elicitation'; body: string }
  | { type: 'response'; body: string }
  | { type: 'error'; body: string };

/**
 * Adds an activity to an agent session (`agentActivityCreate`).
 * @param opts.ephemeral replaced by the next activity (progress notes).
 * @throws LinearApiError
 */
export async function postAgentActivity(
  client: LinearClient,
  agentSessionId: string,
  content: AgentActivityContent,
  opts: { ephemeral?: boolean; id?: string } = {},
): Promise<{ activityId: string }> {
  const what = `agentActivityCreate on session ${agentSessionId}`;
  let payload;
  try {
    payload = await client.createAgentActivity({
      ...(opts.id ? { id: opts.id } : {}),
      agentSessionId,
      content: { ...content },
      ...(opts.ephemeral !== undefined ? { ephemeral: opts.ephemeral } : {}),
    });
  } catch (err) {
    throw toLinearApiError(err, what);
  }
  const activityId = payload.agentActivityId;
  if (!payload.success || !activityId) {
    throw new LinearApiError(`${what}: Linear answered success=${String(payload.success)}`, 'Unsuccessful', undefined, { retryable: false });
  }
  return { activityId };
}

/**
 * Updates an agent session (`agentSessionUpdate`), e.g. to link the pull request:
 * `{ externalUrls: [{ label: 'Pull request', url }] }`.
 * @throws LinearApiError
 */
export async function updateAgentSession(
  client: LinearClient,
  agentSessionId: string,
  input: { externalUrls?: { label: string; url: string }[]; summary?: string },
): Promise<void> {
  const what = `agentSessionUpdate on session ${agentSessionId}`;
  let payload;
  try {
    payload = await client.updateAgentSession(agentSessionId, input);
  } catch (err) {
    throw toLinearApiError(err, what);
  }
  if (!payload.success) {
    throw new LinearApiError(`${what}: Linear answered success=false`, 'Unsuccessful', undefined, { retryable: false });
  }
}

/**
 * Whether a comment or agent activity with this id exists (a retried delivery checks before
 * posting again). https://linear.app/developers/graphql — queries `comment(id)` and `agentActivity(id)`
 * @throws LinearApiError when the lookup itself fails (an unknown id is also an error in Linear's API)
 */
export async function linearEntityExists(client: LinearClient, kind: 'comment' | 'agentActivity', id: string): Promise<boolean> {
  try {
    const r = await client.client.rawRequest<Record<string, { id?: string } | null>, { id: string }>(`query NightshiftExists($id: String!) { ${kind}(id: $id) { id } }`, { id });
    return r.data?.[kind]?.id === id;
  } catch (err) {
    throw toLinearApiError(err, `${kind}(id) lookup`);
  }
}
