/** Links of a run outside Slack. Pure. */
import type { Config } from '../../../worker/config.js';

/**
 * The run in the Temporal Web UI (`<temporal.webUiUrl>/namespaces/<ns>/workflows/<id>`), or
 * undefined when no Web UI URL is configured.
 */
export function temporalRunLink(config: Pick<Config, 'temporal'>, workflowId: string): string | undefined {
  const base = config.temporal.webUiUrl;
  if (!base) return undefined;
  return `${base.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
