/**
 * The scope phase: resolve the repository and policy (or reject the task), then wait for the
 * repository's run window.
 */
import { condition } from '@temporalio/workflow';
import { msUntilWindow } from '../prompt.js';
import { renderRejection } from '../summary.js';
import type { RunOutcome } from '../types.js';
import { short } from './activities.js';
import { askRepository, clarifyStep } from './clarify.js';
import { report } from './report.js';
import { routeStep } from './routing.js';
import { finish, type RunState } from './state.js';

/**
 * Scopes the task: sets `s.plan` and `s.caps` and returns undefined when the run goes on; returns
 * the `rejected` outcome (reported to the origin) when it does not, or the outcome of a clarifying
 * question that ended the run (patch `clarify-at-scope`: cancelled, timed out). When scope knows
 * no repository for the task and says which are configured, the run asks which one instead of
 * rejecting (run/clarify.ts `askRepository`), and scopes again with the answer. Throws what
 * `scopeTask` and `assessTask` throw.
 */
export async function scopePhase(s: RunState): Promise<RunOutcome | undefined> {
  const { req, workflowId } = s;
  s.phase = 'scoping';
  // A Linear agent session must hear from the agent within seconds (its first activity),
  // or Linear shows it as unresponsive.
  if (req.source.kind === 'linear' && req.source.agentSessionId && s.attempts.length === 0 && !s.lastReport) {
    await report(s, 'accepted', () => `Picked up by Nightshift (run \`${workflowId}\`): scoping the task.`);
  }
  for (;;) {
    // The request as clarified so far (an answer may have chosen another repository).
    const scope = await short.scopeTask(s.req, workflowId);
    if (!scope.ok) {
      // No repository known but several configured (scope.clarify on): ask which (patch clarify-at-scope).
      if (scope.repoUnknown) {
        const asked = await askRepository(s, scope.repoUnknown);
        if (asked === 'rescope') continue;
        if (asked !== 'reject') return asked;
      }
      await report(s, 'rejected', (f) => renderRejection({ reason: scope.reason, title: req.title }, f));
      return finish(s, 'rejected', { reason: scope.reason });
    }
    s.plan = scope.plan;
    s.caps = { ...scope.plan.budget };
    // A cheap model may ask a clarifying question first; its answer re-scopes the task (run/clarify.ts).
    const next = await clarifyStep(s);
    if (next === 'proceed') {
      // Classification and model routing (run/routing.ts; patch model-routing): a routed model without a price refuses the run.
      const refused = await routeStep(s);
      if (!refused) return undefined;
      await report(s, 'rejected', (f) => renderRejection({ reason: refused, title: req.title }, f));
      return finish(s, 'rejected', { reason: refused });
    }
    if (next !== 'rescope') return next;
  }
}

/** Waits (durably) until the plan's run window opens, unless the request says `now` or the run is cancelled. */
export async function waitForWindow(s: RunState): Promise<void> {
  const window = s.plan?.window;
  if (!window || s.req.overrides?.now) return;
  const waitMs = msUntilWindow(Date.now(), window);
  if (waitMs > 0) {
    s.phase = 'waiting_for_window';
    await condition(() => s.cancelRequest !== undefined, waitMs);
  }
}
