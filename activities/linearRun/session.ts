/**
 * The mirror of a Linear agent session, activity side: `agentSessionUpdate` with the run's plan and
 * links (the run in the Temporal Web UI, the PR once opened), then the phase's progress `thought`
 * (ephemeral) when there is one. Two requests per phase change at most, through the client layer
 * (../linear/client.ts: the request budget, typed errors).
 *
 * https://linear.app/developers/agent-interaction (plan: `[{content, status}]`, typed `JSONObject`
 * in the schema; externalUrls: `[{label, url}]`, replacing the session's list).
 */
import type { LinearClient } from '@linear/sdk';
import type { Config } from '../../worker/config.js';
import type { SessionLink, SessionMirrorInput } from '../../workflows/linearTypes.js';
import { linearEntityExists, postAgentActivity, updateAgentSession } from '../linear.js';

/** Web UI of the local Temporal dev server, used when `temporal.webUiUrl` is not set. */
export const DEFAULT_TEMPORAL_UI = 'http://localhost:8233';

/** The session's links: the run in the Temporal Web UI (`<ui>/namespaces/<ns>/workflows/<id>`), and the PR. Pure. */
export function sessionLinks(config: Pick<Config, 'temporal'>, workflowId: string, prUrl?: string): SessionLink[] {
  const base = (config.temporal.webUiUrl ?? DEFAULT_TEMPORAL_UI).replace(/\/+$/, '');
  const run = `${base}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return [{ label: 'Nightshift run (Temporal)', url: run }, ...(prUrl ? [{ label: 'Pull request', url: prUrl }] : [])];
}

/**
 * Updates the session and posts the thought. `retried`: an earlier try may have posted the thought
 * already (same id): it is looked up first.
 * @throws LinearApiError
 */
export async function mirrorSession(client: LinearClient, config: Pick<Config, 'temporal'>, input: SessionMirrorInput, retried: boolean): Promise<void> {
  await updateAgentSession(client, input.agentSessionId, { plan: input.plan, externalUrls: sessionLinks(config, input.workflowId, input.prUrl) });
  const t = input.thought;
  if (!t) return;
  if (retried && (await linearEntityExists(client, 'agentActivity', t.id).catch(() => false))) return;
  await postAgentActivity(client, input.agentSessionId, { type: 'thought', body: t.body }, { id: t.id, ephemeral: t.ephemeral });
}
