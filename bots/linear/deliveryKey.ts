/**
 * The identity of one Linear event, stable across Linear's redeliveries.
 *
 * A payload's `webhookId` is NOT it: `@linear/sdk` types it as "the ID of the webhook that sent this
 * event", i.e. the webhook subscription, the same on every delivery. A redelivery re-sends the same
 * event (only `webhookTimestamp` is new), so the event's own fields identify it: its type and action,
 * the entity it is about, and when it happened (`createdAt` of the event).
 * https://linear.app/developers/webhooks#the-webhook-payload
 */

/** Fields of a webhook payload that identify its event (all optional: absent ones are skipped). */
interface EventFields {
  type?: unknown;
  action?: unknown;
  createdAt?: unknown;
  data?: { id?: unknown; updatedAt?: unknown } | null;
  agentSession?: { id?: unknown } | null;
  agentActivity?: { id?: unknown } | null;
}

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/**
 * `type/action/entity/at`: e.g. `Issue/update/<issue id>/<event createdAt>`,
 * `AgentSessionEvent/prompted/<session id>:<activity id>/<createdAt>`. Pure.
 */
export function linearDeliveryKey(payload: unknown): string {
  const p = (payload ?? {}) as EventFields;
  const entity =
    p.type === 'AgentSessionEvent'
      ? [str(p.agentSession?.id), str(p.agentActivity?.id)].filter(Boolean).join(':')
      : str(p.data?.id);
  const at = str(p.createdAt) || str(p.data?.updatedAt);
  return [str(p.type), str(p.action), entity, at].join('/');
}
