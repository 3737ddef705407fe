/**
 * An issue's workflow state and who may start runs, through Linear's GraphQL API
 * (https://linear.app/developers/graphql; types `Issue`, `Team`, `WorkflowState`, `TeamMembership`
 * in `../shared/reference/linear/schema.graphql`).
 */
import { LinearErrorType, type LinearClient } from '@linear/sdk';
import { LinearApiError } from './errors.js';
import { linearCall } from './client.js';

/** Where {@link moveIssueToState} moves an issue. */
export type StateTarget =
  /** The team's first `started` state by position (Linear's advice on taking up an issue). */
  | { kind: 'started' }
  /** A state by name, case-insensitive (e.g. the team's review state `In Review`). */
  | { kind: 'named'; name: string };

/** What {@link moveIssueToState} did. */
export type MoveResult =
  | { moved: true; stateId: string; stateName: string }
  /**
   * `already`: the issue is in a started state (target `started`) or in the named state;
   * `no_state`: the team has no such state; `forbidden`: the API key may not change the issue.
   */
  | { moved: false; reason: 'already' | 'no_state' | 'forbidden'; stateName?: string };

interface IssueStates {
  issue: {
    id: string;
    state: { id: string; name: string; type: string };
    team: { id: string; key: string; states: { nodes: { id: string; name: string; type: string; position: number }[] } };
  };
}

const ISSUE_STATES = `query NightshiftIssueStates($id: String!) {
  issue(id: $id) { id state { id name type } team { id key states(first: 100) { nodes { id name type position } } } }
}`;
const ISSUE_UPDATE = `mutation NightshiftIssueMove($id: String!, $stateId: String!) {
  issueUpdate(id: $id, input: { stateId: $stateId }) { success issue { id state { id name } } }
}`;

/**
 * Moves an issue to a state of its team: one query (the issue's state and its team's states), then
 * `issueUpdate` unless there is nothing to do. A permission error is a result, not a throw.
 * @throws LinearApiError for any other failure (unknown issue, network, rate limit)
 */
export async function moveIssueToState(client: LinearClient, issueId: string, target: StateTarget): Promise<MoveResult> {
  const { data } = await linearCall(client, 'final', `issue(${issueId}) states`, () => client.client.rawRequest<IssueStates, { id: string }>(ISSUE_STATES, { id: issueId }));
  if (!data) throw new LinearApiError(`issue(${issueId}) states: no data`, 'Unsuccessful', undefined, { retryable: false });
  const { state, team } = data.issue;
  const states = [...team.states.nodes].sort((a, b) => a.position - b.position);
  let to;
  if (target.kind === 'started') {
    if (state.type === 'started') return { moved: false, reason: 'already', stateName: state.name };
    to = states.find((s) => s.type === 'started');
  } else {
    const name = target.name.toLowerCase();
    if (state.name.toLowerCase() === name) return { moved: false, reason: 'already', stateName: state.name };
    to = states.find((s) => s.name.toLowerCase() === name);
  }
  if (!to) return { moved: false, reason: 'no_state' };
  const stateId = to.id;
  try {
    await linearCall(client, 'final', `issueUpdate ${issueId} → ${to.name}`, () => client.client.rawRequest(ISSUE_UPDATE, { id: data.issue.id, stateId }));
  } catch (err) {
    if (err instanceof LinearApiError && err.reason === LinearErrorType.Forbidden) return { moved: false, reason: 'forbidden' };
    throw err;
  }
  return { moved: true, stateId, stateName: to.name };
}

interface UserTeams {
  user: { id: string; active?: boolean; teamMemberships: { nodes: { team: { id: string; key: string } }[] } };
}

const USER_TEAMS = `query NightshiftUserTeams($id: String!) {
  user(id: $id) { id active teamMemberships(first: 250) { nodes { team { id key } } } }
}`;

/**
 * Whether a user belongs to one of the teams (by id or key); with no team, whether the user is
 * an active member of the workspace. An unknown user is not a member. One request.
 * @throws LinearApiError when the lookup fails for another reason
 */
export async function isTeamMember(client: LinearClient, userId: string, teamIds: readonly string[]): Promise<boolean> {
  let data: UserTeams | undefined;
  try {
    ({ data } = await linearCall(client, 'final', `user(${userId}) teams`, () => client.client.rawRequest<UserTeams, { id: string }>(USER_TEAMS, { id: userId })));
  } catch (err) {
    // Linear answers an unknown id with "Entity not found" (invalid input).
    if (err instanceof LinearApiError && err.reason === LinearErrorType.InvalidInput) return false;
    throw err;
  }
  if (!data || data.user.active === false) return false;
  if (teamIds.length === 0) return true;
  return data.user.teamMemberships.nodes.some((m) => teamIds.includes(m.team.id) || teamIds.includes(m.team.key));
}
