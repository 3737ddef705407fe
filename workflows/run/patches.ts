/**
 * Patch ids (Temporal's `patched`): a run that started on a worker without the change replays as
 * it ran; new runs take the new path. Remove a patch once no run older than it is open.
 * https://docs.temporal.io/develop/typescript/versioning#patching
 */
export const PATCH_PASS_BEFORE_STOP = 'pass-before-budget-stop';
export const PATCH_ATOMIC_DELIVERY = 'atomic-delivery';
export const PATCH_ENVIRONMENT_PHASE = 'environment-phase';
export const PATCH_GIT_WAIT_CANCEL = 'git-wait-cancel';
export const PATCH_REPLY_ONLY_WHEN_ASKED = 'reply-only-when-asked';
export const PATCH_SLACK_LIVE_STATUS = 'slack-live-status';
/** Replies while no escalation is pending are acted on (cancel, take over, notes for the next attempt); reply ids dedup. */
export const PATCH_REPLY_DURING_WORK = 'reply-during-work';
/** A cheap model assesses the scoped task and may ask a clarifying question first. */
export const PATCH_CLARIFY_AT_SCOPE = 'clarify-at-scope';
/** The task is classified at scope and the model routed by tier (and escalated on retry). */
export const PATCH_MODEL_ROUTING = 'model-routing';
/** A finished run's workspace cleanup runs beside its slot release and last ledger writes, not after them. */
export const PATCH_PARALLEL_TEARDOWN = 'parallel-teardown';
