/**
 * An issue's workflow state and who may start runs, through Linear's GraphQL API
 * (https://linear.app/developers/graphql; types `Issue`, `Team`, `WorkflowState`, `User`,
 * `TeamMembership` in `../shared/reference/linear/schema.graphql`). The one implementation: the
 * Linear run activities (activities/linearRun/) call these functions. Every request goes through
 * {@link linearCall} with `final` priority (the request budget's reserve).
 */
import { LinearErrorType, type LinearClient } from '@linear/sdk';
import { LinearApiError } from './errors.js';
import { linearCall } from './client.js';

/** Where {@link moveIssueToState} moves an issue. */
export type StateTarget =
  /** The team's first `started` state by position (Linear's advice on taking up an issue). */
  | { kind: 'started' }
  /** The team's review state: the one named in the team's settings, else a `started` state named like "review". */
  | { kind: 'review' }
  /** A state by name, case-insensitive (e.g. `In Review`). */
  | { kind: 'named'; name: string };

/** Per-team settings of {@link moveIssueToState} (config `linear.teamSettings.<KEY>`). */
export interface TeamStateSettings {
  /** `false`: never move this team's issues. */
  issueStates?: boolean;
  /** The review state's name (case-insensitive), for target `review`. */
  reviewState?: string;
}

/** What {@link moveIssueToState} did. */
export type MoveResult =
  | { moved: true; stateId: string; stateName: string }
  /**
   * `already`: the issue is in a started state (target `started`), in the target state, or
   * completed/canceled (`stateName` names it); `no_state`: the team has no such state;
   * `disabled`: the team's settings turn issue states off; `forbidden`: the API key may not
   * change the issue.
   */
  | { moved: false; reason: 'already' | 'no_state' | 'disabled' | 'forbidden'; stateName?: string };

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
 * The state to move an issue to (pure). `started`: the team's first `started` state by position,
 * unless the issue is in a started state already. `review`: the state named `reviewState` (any
 * type, case-insensitive), else the first `started` state whose name contains "review". `named`:
 * that state. An issue that is completed or canceled is left where it is.
 */
export function chooseState(input: { current: { id: string; name: string; type: string }; states: TeamState[]; target: 'started' | 'review' | StateTarget; reviewState?: string }): StateChoice {
  const { current } = input;
  const target: StateTarget = typeof input.target === 'string' ? { kind: input.target } : input.target;
  if (current.type === 'completed' || current.type === 'canceled') return { kind: 'already', state: current.name };
  const byPosition = [...input.states].sort((a, b) => a.position - b.position);
  if (target.kind === 'started') {
    if (current.type === 'started') return { kind: 'already', state: current.name };
    const first = byPosition.find((s) => s.type === 'started');
    return first ? { kind: 'move', state: first } : { kind: 'no_state' };
  }
  const wanted = (target.kind === 'named' ? target.name : input.reviewState)?.trim().toLowerCase();
  const to = wanted ? byPosition.find((s) => s.name.trim().toLowerCase() === wanted) : byPosition.find((s) => s.type === 'started' && /review/i.test(s.name));
  if (!to) return { kind: 'no_state' };
  return to.id === current.id ? { kind: 'already', state: current.name } : { kind: 'move', state: to };
}

interface IssueStates {
  issue: { id: string; state: { id: string; name: string; type: string }; team: { id: string; key: string; states: { nodes: TeamState[] } } };
}

const ISSUE_STATES = `query NightshiftIssueStates($id: String!) {
  issue(id: $id) { id state { id name type } team { id key states(first: 100) { nodes { id name type position } } } }
}`;
const ISSUE_UPDATE = `mutation NightshiftIssueMove($id: String!, $stateId: String!) {
  issueUpdate(id: $id, input: { stateId: $stateId }) { success issue { id state { id name } } }
}`;

/** SDK error types that mean "this key may not do that". */
const FORBIDDEN = new Set<string>([LinearErrorType.Forbidden, LinearErrorType.FeatureNotAccessible]);

/** Whether a Linear failure is a permission error (by the SDK's error type or HTTP 403). */
export function isForbidden(err: LinearApiError): boolean {
  return FORBIDDEN.has(err.reason) || err.status === 403;
}

/**
 * Moves an issue to a state of its team: one query (the issue's state and its team's states), then
 * `issueUpdate` unless there is nothing to do. `teamSettings` gives the settings of the issue's
 * team by key (read from the query's answer). A permission error is a result, not a throw.
 * @throws LinearApiError for any other failure (unknown issue, network, rate limit; retryable as classified)
 */
export async function moveIssueToState(
  client: LinearClient,
  issueId: string,
  target: StateTarget,
  teamSettings: (teamKey: string) => TeamStateSettings | undefined = () => undefined,
): Promise<MoveResult> {
  try {
    const { data } = await linearCall(client, 'final', `issue(${issueId}) states`, () => client.client.rawRequest<IssueStates, { id: string }>(ISSUE_STATES, { id: issueId }));
    if (!data) throw new LinearApiError(`issue(${issueId}) states: no data`, 'Unsuccessful', undefined, { retryable: true });
    const { state, team } = data.issue;
    const settings = teamSettings(team.key);
    if (settings?.issueStates === false) return { moved: false, reason: 'disabled' };
    const choice = chooseState({ current: state, states: team.states.nodes, target, reviewState: settings?.reviewState });
    if (choice.kind === 'already') return { moved: false, reason: 'already', stateName: choice.state };
    if (choice.kind === 'no_state') return { moved: false, reason: 'no_state', stateName: state.name };
    const to = choice.state;
    const res = await linearCall(client, 'final', `issueUpdate ${issueId} → ${to.name}`, () =>
      client.client.rawRequest<{ issueUpdate: { success: boolean } }, { id: string; stateId: string }>(ISSUE_UPDATE, { id: data.issue.id, stateId: to.id }),
    );
    if (!res.data?.issueUpdate.success) throw new LinearApiError(`issueUpdate(${issueId}): Linear answered success=false`, 'Unsuccessful', undefined, { retryable: false });
    return { moved: true, stateId: to.id, stateName: to.name };
  } catch (err) {
    if (err instanceof LinearApiError && isForbidden(err)) return { moved: false, reason: 'forbidden' };
    throw err;
  }
}

/** What Linear says about a user, for access decisions. */
export interface LinearUserAccess {
  active: boolean;
  /** `User.guest` / `User.app`: not queried (the stand-in does not serve them), so false. */
  guest: boolean;
  app: boolean;
  /** Keys of the teams the user is a member of. */
  teams: string[];
  /** Ids of the same teams. */
  teamIds?: string[];
}

interface UserTeams {
  user: { id: string; active?: boolean; guest?: boolean; app?: boolean; teamMemberships: { nodes: { team: { id: string; key: string } }[] } } | null;
}

const USER_TEAMS = `query NightshiftUserTeams($id: String!) {
  user(id: $id) { id active guest app teamMemberships(first: 250) { nodes { team { id key } } } }
}`;

/**
 * A user's standing in the workspace (one request); undefined when Linear does not know the id
 * (it answers "Entity not found" as an input or user error).
 * @throws LinearApiError when the lookup fails for another reason
 */
export async function getUserAccess(client: LinearClient, userId: string): Promise<LinearUserAccess | undefined> {
  let data: UserTeams | undefined;
  try {
    ({ data } = await linearCall(client, 'final', `user(${userId}) teams`, () => client.client.rawRequest<UserTeams, { id: string }>(USER_TEAMS, { id: userId })));
  } catch (err) {
    if (err instanceof LinearApiError && (err.reason === LinearErrorType.InvalidInput || err.reason === LinearErrorType.UserError)) return undefined;
    throw err;
  }
  const u = data?.user;
  if (!u) return undefined;
  const teams = u.teamMemberships.nodes.map((m) => m.team);
  return { active: u.active !== false, guest: u.guest === true, app: u.app === true, teams: teams.map((t) => t.key), teamIds: teams.map((t) => t.id) };
}

/**
 * Whether a user belongs to one of the teams (by id or key); with no team, whether the user is
 * an active member of the workspace. An unknown user is not a member. One request.
 * @throws LinearApiError when the lookup fails for another reason
 */
export async function isTeamMember(client: LinearClient, userId: string, teamIds: readonly string[]): Promise<boolean> {
  const user = await getUserAccess(client, userId);
  if (!user?.active) return false;
  if (teamIds.length === 0) return true;
  return teamIds.some((t) => user.teams.includes(t) || (user.teamIds ?? []).includes(t));
}
