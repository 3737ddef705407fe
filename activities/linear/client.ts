/**
 * Thin wrappers over `@linear/sdk` used by activities: comments on issues, agent activities and
 * agent sessions. Every failure becomes a {@link LinearApiError}; no retry loop here: the
 * activity rethrows and Temporal's retry policy decides (waiting `retryAfterMs` on a rate limit).
 * Every call takes a token from the client's request budget (./rateBudget.ts) first; a
 * rate-limited answer pauses that budget for every run of the process.
 *
 * Docs: https://linear.app/developers/sdk, https://linear.app/developers/agent-interaction
 */
import { createHash } from 'node:crypto';
import { LinearClient } from '@linear/sdk';
import { asyncLocalStorage as activityContext } from '@temporalio/activity';
import { LinearApiError, toLinearApiError } from './errors.js';
import { attachBudget, budgetForKey, budgetOf, BudgetWaitAbandoned, type RateBudgetSettings, type TakeBounds } from './rateBudget.js';

/**
 * A Linear client. `apiUrl` defaults to `https://api.linear.app/graphql`; the SDK accepts plain
 * http only for localhost / 127.0.0.1 / [::1] (the fakes). The key is sent as `Authorization`.
 * The client takes from the process-wide request budget of its key (`budget` sizes it the first time).
 */
export function createLinearClient(opts: { apiKey: string; apiUrl?: string; budget?: Partial<RateBudgetSettings> }): LinearClient {
  const client = new LinearClient({ apiKey: opts.apiKey, ...(opts.apiUrl ? { apiUrl: opts.apiUrl } : {}) });
  attachBudget(client, budgetForKey(opts.apiKey, opts.budget));
  return client;
}

/** Margin before an activity's start-to-close deadline within which no request is started, ms. */
const DEADLINE_MARGIN_MS = 2_000;

/** When each activity attempt first called Linear (≈ its start: Temporal's Info has no start time), Unix ms. */
const firstCall = new WeakMap<object, number>();

/**
 * The bounds of a budget wait inside a Temporal activity: its cancellation signal, and its
 * deadline: the attempt's start (its first Linear call) + start-to-close − a margin, and no later
 * than schedule-to-close allows. None outside an activity.
 */
function activityBounds(): TakeBounds {
  const ctx = activityContext.getStore();
  if (!ctx) return {};
  const { info } = ctx;
  let started = firstCall.get(ctx);
  if (started === undefined) firstCall.set(ctx, (started = Date.now()));
  const limits = [
    info.startToCloseTimeoutMs > 0 ? started + info.startToCloseTimeoutMs : Infinity,
    info.scheduleToCloseTimeoutMs > 0 ? info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs : Infinity,
  ];
  const deadline = Math.min(...limits) - DEADLINE_MARGIN_MS;
  return { signal: ctx.cancellationSignal, ...(Number.isFinite(deadline) ? { deadline } : {}) };
}

/**
 * Runs one request: a token from the client's budget (waiting for it, but never past the
 * calling activity's deadline or cancel), the call, errors typed.
 * @throws LinearApiError (reason `BudgetWait`, retryable, when the wait for a token was given up)
 */
export async function linearCall<T>(client: LinearClient, priority: 'final' | 'progress', what: string, call: () => Promise<T>): Promise<T> {
  const budget = budgetOf(client);
  try {
    await budget?.take(priority, activityBounds());
  } catch (err) {
    if (!(err instanceof BudgetWaitAbandoned)) throw err;
    throw new LinearApiError(`${what}: not sent: ${err.message}`, 'BudgetWait', undefined, { cause: err, retryable: true });
  }
  try {
    return await call();
  } catch (err) {
    const typed = toLinearApiError(err, what);
    if (typed.retryAfterMs !== undefined) budget?.pause(typed.retryAfterMs);
    throw typed;
  }
}

const unsuccessful = (what: string): LinearApiError => new LinearApiError(`${what}: Linear answered success=false`, 'Unsuccessful', undefined, { retryable: false });

/**
 * A client-chosen entity id, deterministic in its parts: a UUID v4-shaped hash (Linear requires
 * UUID v4 for `CommentCreateInput.id` / `AgentActivityCreateInput.id`), e.g.
 * `deterministicId(workflowId, 'attempt', 2, 'activity', 7)`.
 */
export function deterministicId(...parts: (string | number)[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Posts a Markdown comment on an issue (`commentCreate`); `parentId` answers in a thread.
 * https://linear.app/developers/graphql — mutation `commentCreate(input: CommentCreateInput!)`
 * @throws LinearApiError
 */
export async function postIssueComment(client: LinearClient, issueId: string, body: string, id?: string, opts: { parentId?: string } = {}): Promise<{ commentId: string }> {
  const what = `commentCreate on issue ${issueId}`;
  const payload = await linearCall(client, 'final', what, () => client.createComment({ issueId, body, ...(id ? { id } : {}), ...(opts.parentId ? { parentId: opts.parentId } : {}) }));
  const commentId = payload.commentId;
  if (!payload.success || !commentId) throw unsuccessful(what);
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
 * A signal on an activity (`AgentActivitySignal`): `select` on an elicitation offers choices
 * (`signalMetadata: {options: [{value}]}`), `auth` asks to authenticate (`{url}`), `stop`, `continue`.
 */
export type AgentActivitySignalInput =
  | { signal: 'select'; signalMetadata: { options: { value: string; label?: string }[] } }
  | { signal: 'auth'; signalMetadata: { url: string } }
  | { signal: 'stop' | 'continue'; signalMetadata?: Record<string, unknown> };

/** Options of {@link postAgentActivity}. */
export interface PostActivityOptions {
  /** Replaced by the next activity (progress notes). */
  ephemeral?: boolean;
  /** Client-chosen UUID v4 (idempotent retries; see {@link deterministicId}). */
  id?: string;
  signal?: AgentActivitySignalInput;
  /** `progress` for live updates the caller may coalesce; default `final`. */
  priority?: 'final' | 'progress';
}

/**
 * Adds an activity to an agent session (`agentActivityCreate`).
 * @throws LinearApiError
 */
export async function postAgentActivity(client: LinearClient, agentSessionId: string, content: AgentActivityContent, opts: PostActivityOptions = {}): Promise<{ activityId: string }> {
  const what = `agentActivityCreate on session ${agentSessionId}`;
  const payload = await linearCall(client, opts.priority ?? 'final', what, () =>
    client.createAgentActivity({
      ...(opts.id ? { id: opts.id } : {}),
      agentSessionId,
      content: { ...content },
      ...(opts.ephemeral !== undefined ? { ephemeral: opts.ephemeral } : {}),
      // The SDK types `signal` as its enum, whose values are these strings.
      ...(opts.signal ? { signal: opts.signal.signal as never, ...(opts.signal.signalMetadata ? { signalMetadata: opts.signal.signalMetadata } : {}) } : {}),
    }),
  );
  const activityId = payload.agentActivityId;
  if (!payload.success || !activityId) throw unsuccessful(what);
  return { activityId };
}

/** One step of a session's plan, as Linear shows it (https://linear.app/developers/agent-interaction). */
export interface AgentPlanStep {
  content: string;
  status: 'pending' | 'inProgress' | 'completed' | 'canceled';
}

/** A link shown on the session (PR, the run in the Temporal Web UI). */
export interface ExternalUrl {
  label: string;
  url: string;
}

/** What {@link updateAgentSession} may change (`AgentSessionUpdateInput`). */
export interface AgentSessionChanges {
  /** The whole plan (replaces the previous one). */
  plan?: AgentPlanStep[];
  /** All links (replaces them). */
  externalUrls?: ExternalUrl[];
  /** Links to add to those there. */
  addedExternalUrls?: ExternalUrl[];
}

/**
 * Updates an agent session (`agentSessionUpdate(id, input: AgentSessionUpdateInput)`): its plan
 * and its links. The schema types `plan` `JSONObject`; Linear takes the list of steps.
 * @throws LinearApiError
 */
export async function updateAgentSession(client: LinearClient, agentSessionId: string, input: AgentSessionChanges): Promise<void> {
  const what = `agentSessionUpdate on session ${agentSessionId}`;
  const payload = await linearCall(client, 'final', what, () =>
    client.updateAgentSession(agentSessionId, {
      ...(input.plan ? { plan: input.plan as unknown as Record<string, unknown> } : {}),
      ...(input.externalUrls ? { externalUrls: input.externalUrls } : {}),
      ...(input.addedExternalUrls ? { addedExternalUrls: input.addedExternalUrls } : {}),
    }),
  );
  if (!payload.success) throw unsuccessful(what);
}

/**
 * Whether a comment or agent activity with this id exists (a retried delivery checks before
 * posting again). https://linear.app/developers/graphql — queries `comment(id)` and `agentActivity(id)`
 * @throws LinearApiError when the lookup itself fails (an unknown id is also an error in Linear's API)
 */
export async function linearEntityExists(client: LinearClient, kind: 'comment' | 'agentActivity', id: string): Promise<boolean> {
  const r = await linearCall(client, 'final', `${kind}(id) lookup`, () =>
    client.client.rawRequest<Record<string, { id?: string } | null>, { id: string }>(`query NightshiftExists($id: String!) { ${kind}(id: $id) { id } }`, { id }),
  );
  return r.data?.[kind]?.id === id;
}
