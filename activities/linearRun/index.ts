/**
 * The activities of Linear runs (session mirror, issue state, access), bound to their
 * dependencies. The worker registers them on the messages task queue (`<taskQueue>-messages`)
 * with `notify`, so that a message never waits behind an agent run for an activity slot.
 */
import { Context } from '@temporalio/activity';
import type { LinearClient } from '@linear/sdk';
import type { Config } from '../../worker/config.js';
import type { Logger } from '../../worker/logger.js';
import { redact } from '../../worker/redact.js';
import type { IssueMove, IssueStateTarget, LinearRunActivities } from '../../workflows/linearTypes.js';
import { asFailure, NightshiftError } from '../errors.js';
import { checkAccess } from './access.js';
import { moveIssueToState } from '../linear/issueState.js';
import { mirrorSession } from './session.js';

/** Dependencies of {@link createLinearRunActivities}. */
export interface LinearRunDeps {
  config: Pick<Config, 'linear' | 'temporal'>;
  /** Absent when no LINEAR_API_KEY is set: the activities then fail (not retryable). */
  linear?: LinearClient;
  logger: Logger;
}

/** Moves the issue per `linear.issueStates` and the team's settings, through the client layer's {@link moveIssueToState}. */
async function moveIssue(client: LinearClient, config: Pick<Config, 'linear'>, issueId: string, target: IssueStateTarget): Promise<IssueMove> {
  if (!config.linear.issueStates) return { moved: false, reason: 'disabled' };
  const r = await moveIssueToState(client, issueId, { kind: target }, (key) => config.linear.teamSettings[key]);
  return r.moved ? { moved: true, state: r.stateName } : { moved: false, reason: r.reason, ...(r.stateName !== undefined ? { state: r.stateName } : {}) };
}

/** Creates the Linear run activities; failures leave as typed ApplicationFailures (code LINEAR_FAILED). */
export function createLinearRunActivities(deps: LinearRunDeps): LinearRunActivities {
  const client = (): LinearClient => {
    if (!deps.linear) throw new NightshiftError('NOTIFY_UNCONFIGURED', 'cannot reach Linear: LINEAR_API_KEY is not set', { retryable: false });
    return deps.linear;
  };
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (err) {
        return asFailure(err);
      }
    };
  return {
    mirrorLinearSession: guard(async (input) => {
      await mirrorSession(client(), deps.config, input, Context.current().info.attempt > 1);
    }),
    moveLinearIssue: guard(async ({ workflowId, issueId, target }) => {
      const r = await moveIssue(client(), deps.config, issueId, target);
      const log = deps.logger.child({ workflowId });
      if (r.moved) log.info({ issueId, state: r.state, target }, 'moved the Linear issue');
      else if (r.reason === 'forbidden') log.warn({ issueId, target }, 'the Linear API key may not change issue states; issue states are off for this run');
      else log.info({ issueId, target, reason: r.reason, state: r.state }, 'left the Linear issue where it is');
      return r;
    }),
    checkLinearAccess: guard(async ({ workflowId, requesterId, requester }) => {
      const d = await checkAccess(client(), deps.config, requesterId, requester);
      if (!d.allowed) deps.logger.child({ workflowId }).info({ requester: redact(requester), reason: d.reason }, 'refused a Linear request');
      return d;
    }),
  };
}
