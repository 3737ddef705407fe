/**
 * Issue state of a Linear run: on start the issue moves to its team's first `started` state
 * (unless it is in one already), on a PR to the team's review state when it has one. Per team:
 * `linear.teamSettings.<KEY>.reviewState` names the review state (default: a `started` state
 * named like "review"), `issueStates: false` (or `linear.issueStates: false`) turns it off.
 *
 * GraphQL (https://linear.app/developers/graphql, schema `Issue.state`, `Team.states`,
 * `issueUpdate(id, input: {stateId})`). A permission error is a result (`forbidden`), not a
 * failure: the run goes on and stops moving the issue.
 */
import { LinearErrorType, type LinearClient } from '@linear/sdk';
import type { Config } from '../../worker/config.js';
import type { IssueMove, IssueStateTarget } from '../../workflows/linearTypes.js';
import { LinearApiError, toLinearApiError } from '../linear.js';

/** A workflow state of a team (`WorkflowState`: type is backlog | unstarted | started | completed | canceled | triage). */
export interface TeamState {
  id: string;
  name: string;
  type: string;
  /** Order within the team's workflow (ascending). */
  position: number;
}

/** What {@link chooseState} decided. */
export type StateChoice = { kind: 'move'; state: TeamState } | { kind: 'already'; state: string } | { kind: 'no_state' };

/**
 * The state to move an issue to. `started`: the team's first `started` state by position, unless
 * the issue is in a started state already. `review`: the state named `reviewState` (any type,
 * case-insensitive), else the first `started` state whose name contains "review". An issue that
 * is completed or canceled is left where it is.
 */
export function chooseState(input: { current: { id: string; name: string; type: string }; states: TeamState[]; target: IssueStateTarget; reviewState?: string }): StateChoice {
  const { current, target } = input;
  if (current.type === 'completed' || current.type === 'canceled') return { kind: 'already', state: current.name };
  const byPosition = [...input.states].sort((a, b) => a.position - b.position);
  if (target === 'started') {
    if (current.type === 'started') return { kind: 'already', state: current.name };
    const first = byPosition.find((s) => s.type === 'started');
    return first ? { kind: 'move', state: first } : { kind: 'no_state' };
  }
  const wanted = input.reviewState?.trim().toLowerCase();
  const review = wanted ? byPosition.find((s) => s.name.trim().toLowerCase() === wanted) : byPosition.find((s) => s.type === 'started' && /review/i.test(s.name));
  if (!review) return { kind: 'no_state' };
  return review.id === current.id ? { kind: 'already', state: current.name } : { kind: 'move', state: review };
}

const ISSUE_STATES = `query NightshiftIssueStates($id: String!) {
  issue(id: $id) { id state { id name type } team { id key states(first: 100) { nodes { id name type position } } } }
}`;
const MOVE_ISSUE = `mutation NightshiftMoveIssue($id: String!, $stateId: String!) {
  issueUpdate(id: $id, input: { stateId: $stateId }) { success }
}`;

interface IssueStatesData {
  issue: { id: string; state: { id: string; name: string; type: string }; team: { id: string; key: string; states: { nodes: TeamState[] } } };
}

/** SDK error types that mean "this key may not do that". */
const FORBIDDEN = new Set<string>([LinearErrorType.Forbidden, LinearErrorType.FeatureNotAccessible]);

/** Whether a Linear failure is a permission error. */
export function isForbidden(err: LinearApiError): boolean {
  return FORBIDDEN.has(err.reason) || err.status === 403;
}

/**
 * Moves the issue toward `target` per the team's settings.
 * @throws LinearApiError for failures other than a permission error (retryable as classified)
 */
export async function moveIssue(client: LinearClient, config: Pick<Config, 'linear'>, issueId: string, target: IssueStateTarget): Promise<IssueMove> {
  if (!config.linear.issueStates) return { moved: false, reason: 'disabled' };
  try {
    let data: IssueStatesData | undefined;
    try {
      data = (await client.client.rawRequest<IssueStatesData, { id: string }>(ISSUE_STATES, { id: issueId })).data;
    } catch (err) {
      throw toLinearApiError(err, `issue(${issueId}) states`);
    }
    if (!data) throw new LinearApiError(`issue(${issueId}) states: no data`, 'Unsuccessful', undefined, { retryable: true });
    const team = config.linear.teamSettings[data.issue.team.key];
    if (team?.issueStates === false) return { moved: false, reason: 'disabled' };
    const choice = chooseState({ current: data.issue.state, states: data.issue.team.states.nodes, target, reviewState: team?.reviewState });
    if (choice.kind === 'already') return { moved: false, reason: 'already', state: choice.state };
    if (choice.kind === 'no_state') return { moved: false, reason: 'no_state', state: data.issue.state.name };
    let ok: boolean | undefined;
    try {
      ok = (await client.client.rawRequest<{ issueUpdate: { success: boolean } }, { id: string; stateId: string }>(MOVE_ISSUE, { id: issueId, stateId: choice.state.id })).data?.issueUpdate.success;
    } catch (err) {
      throw toLinearApiError(err, `issueUpdate(${issueId})`);
    }
    if (!ok) throw new LinearApiError(`issueUpdate(${issueId}): Linear answered success=false`, 'Unsuccessful', undefined, { retryable: false });
    return { moved: true, state: choice.state.name };
  } catch (err) {
    if (err instanceof LinearApiError && isForbidden(err)) return { moved: false, reason: 'forbidden' };
    throw err;
  }
}
