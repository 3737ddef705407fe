/**
 * What the Linear stand-in knows (issues, teams and their workflow states, users) and records
 * (comments, agent activities, session updates), and the resolvers that answer from it.
 * Shapes follow Linear's schema (`schema.graphql`: `Issue`, `Team`, `WorkflowState`, `User`,
 * `TeamMembership`, the `*Payload` types); https://linear.app/developers/graphql.
 */
import { randomUUID } from 'node:crypto';
import { forbidden, invalidInput, notFound } from './errors.js';
import type { RootResolvers } from './execute.js';

/** A workflow state of a team (`WorkflowState`; `type` is one of Linear's state types). */
export interface FakeWorkflowState {
  id: string;
  name: string;
  type: 'triage' | 'backlog' | 'unstarted' | 'started' | 'completed' | 'canceled';
  /** Order within the team's states (Linear's `position`, a float). */
  position: number;
}

/** A team: key, workflow states, members (user ids). */
export interface FakeLinearTeam {
  id: string;
  key: string;
  name?: string;
  states: FakeWorkflowState[];
  memberIds: string[];
}

/** A user of the workspace. */
export interface FakeLinearUser {
  id: string;
  name?: string;
  /** A guest of the workspace (limited to some teams). */
  guest?: boolean;
  /** An app user (an integration acting as itself). */
  app?: boolean;
}

/** An issue the fake knows. */
export interface FakeLinearIssue {
  id: string;
  identifier: string;
  title: string;
  description?: string;
  url?: string;
  /** Default: the default team (`team-fake`). */
  teamId?: string;
  /** Default: the team's first `unstarted` state. */
  stateId?: string;
  labelIds?: string[];
}

/** A recorded `commentCreate`. */
export interface RecordedComment {
  id: string;
  issueId: string;
  body: string;
  parentId?: string;
}

/** A recorded `agentActivityCreate`. */
export interface RecordedActivity {
  id: string;
  agentSessionId: string;
  content: Record<string, unknown>;
  ephemeral?: boolean;
  signal?: string;
  signalMetadata?: Record<string, unknown>;
}

/** A recorded `agentSessionUpdate`. */
export interface RecordedSessionUpdate {
  id: string;
  input: Record<string, unknown>;
}

/** The states every default team has, as a new Linear team gets them. */
export function defaultStates(prefix: string): FakeWorkflowState[] {
  return [
    { id: `${prefix}-backlog`, name: 'Backlog', type: 'backlog', position: 0 },
    { id: `${prefix}-todo`, name: 'Todo', type: 'unstarted', position: 1 },
    { id: `${prefix}-in-progress`, name: 'In Progress', type: 'started', position: 2 },
    { id: `${prefix}-in-review`, name: 'In Review', type: 'started', position: 3 },
    { id: `${prefix}-done`, name: 'Done', type: 'completed', position: 4 },
    { id: `${prefix}-canceled`, name: 'Canceled', type: 'canceled', position: 5 },
  ];
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ACTIVITY_TYPES = new Set(['thought', 'action', 'elicitation', 'response', 'error']);
const NOW = '2025-01-01T00:00:00.000Z';

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The fake's entities and records. */
export class FakeLinearState {
  readonly comments: RecordedComment[] = [];
  readonly activities: RecordedActivity[] = [];
  readonly sessionUpdates: RecordedSessionUpdate[] = [];
  readonly issues = new Map<string, FakeLinearIssue>();
  readonly teams = new Map<string, FakeLinearTeam>();
  readonly users = new Map<string, FakeLinearUser>();
  /** Mutations answered with a permission error ({@link forbidden}). */
  readonly forbidden = new Set<string>();
  private syncId = 1000;

  constructor(readonly viewerId: string) {
    this.addTeam({ id: 'team-fake', key: 'FAKE', states: defaultStates('team-fake'), memberIds: [] });
    this.users.set(viewerId, { id: viewerId, name: 'Nightshift' });
  }

  addTeam(team: FakeLinearTeam): void {
    this.teams.set(team.id, team);
  }

  /** Knows a copy of `issue` (by id and identifier): the fake's changes never touch the caller's object. */
  addIssue(issue: FakeLinearIssue): void {
    const own = { ...issue };
    this.issues.set(own.id, own);
    this.issues.set(own.identifier, own);
  }

  private teamOf(issue: FakeLinearIssue): FakeLinearTeam {
    const team = this.teams.get(issue.teamId ?? 'team-fake');
    if (!team) throw notFound('Team');
    return team;
  }

  private stateOf(issue: FakeLinearIssue): FakeWorkflowState {
    const team = this.teamOf(issue);
    const state = team.states.find((s) => s.id === issue.stateId) ?? team.states.find((s) => s.type === 'unstarted') ?? team.states[0];
    if (!state) throw notFound('WorkflowState');
    return state;
  }

  private payload(typename: string, key: string, value: unknown): Record<string, unknown> {
    return { __typename: typename, [key]: value, lastSyncId: this.syncId++, success: true };
  }

  private clientId(input: Record<string, unknown>): string | undefined {
    if (input.id === undefined || input.id === null) return undefined;
    if (typeof input.id !== 'string' || !UUID_V4.test(input.id)) throw invalidInput('id must be a UUID v4');
    return input.id;
  }

  private guard(field: string): void {
    if (this.forbidden.has(field)) throw forbidden(field);
  }

  /** A team as `Team` (states and members take their connection arguments, which the fake ignores but `filter.id.eq`). */
  teamJson(team: FakeLinearTeam): Record<string, unknown> {
    return {
      __typename: 'Team',
      id: team.id,
      key: team.key,
      name: team.name ?? team.key,
      states: () => ({ __typename: 'WorkflowStateConnection', nodes: team.states.map((s) => ({ __typename: 'WorkflowState', ...s, team: { id: team.id } })) }),
      members: (args: Record<string, unknown>) => {
        const eq = str(obj(obj(args.filter).id).eq);
        const ids = team.memberIds.filter((id) => eq === undefined || id === eq);
        return { __typename: 'UserConnection', nodes: ids.map((id) => this.userJson(this.users.get(id) ?? { id })) };
      },
    };
  }

  userJson(user: FakeLinearUser): Record<string, unknown> {
    return {
      __typename: 'User',
      id: user.id,
      name: user.name ?? user.id,
      displayName: user.name ?? user.id,
      active: true,
      guest: user.guest === true,
      app: user.app === true || user.id === this.viewerId,
      teamMemberships: () => ({
        __typename: 'TeamMembershipConnection',
        nodes: [...this.teams.values()]
          .filter((t) => t.memberIds.includes(user.id))
          .map((t) => ({ __typename: 'TeamMembership', id: `membership-${t.id}-${user.id}`, team: this.teamJson(t), user: { id: user.id } })),
      }),
    };
  }

  /** An `Issue` with the fields the SDK's `Issue` fragment reads, plus `state` and `team`. */
  issueJson(issue: FakeLinearIssue): Record<string, unknown> {
    const number = Number(/-(\d+)$/.exec(issue.identifier)?.[1] ?? 1);
    const state = this.stateOf(issue);
    return {
      __typename: 'Issue',
      id: issue.id,
      identifier: issue.identifier,
      number,
      title: issue.title,
      description: issue.description ?? null,
      url: issue.url ?? `https://linear.app/fake/issue/${issue.identifier}`,
      branchName: issue.identifier.toLowerCase(),
      labelIds: issue.labelIds ?? [],
      previousIdentifiers: [],
      priority: 0,
      priorityLabel: 'No priority',
      prioritySortOrder: 0,
      sortOrder: 0,
      boardOrder: 0,
      customerTicketCount: 0,
      reactionData: [],
      reactions: [],
      sharedAccess: { __typename: 'IssueSharedAccess', isShared: false, sharedWithCount: 0, viewerHasOnlySharedAccess: false, disallowedIssueFields: [], sharedWithUsers: [] },
      inheritsSharedAccess: false,
      createdAt: NOW,
      updatedAt: NOW,
      team: this.teamJson(this.teamOf(issue)),
      state: { __typename: 'WorkflowState', ...state },
    };
  }

  /** The root resolvers (see the module comment of ../linear.ts for the list). */
  resolvers(): RootResolvers {
    return {
      query: {
        viewer: () => this.userJson(this.users.get(this.viewerId) ?? { id: this.viewerId }),
        user: ({ id }) => {
          const user = this.users.get(String(id));
          if (!user) throw notFound('User');
          return this.userJson(user);
        },
        team: ({ id }) => {
          const team = this.teams.get(String(id)) ?? [...this.teams.values()].find((t) => t.key === id);
          if (!team) throw notFound('Team');
          return this.teamJson(team);
        },
        issue: ({ id }) => {
          const issue = this.issues.get(String(id));
          if (!issue) throw notFound('Issue');
          return this.issueJson(issue);
        },
        comment: ({ id }) => {
          const c = this.comments.find((x) => x.id === id);
          if (!c) throw notFound('Comment');
          return { __typename: 'Comment', ...c, parent: c.parentId ? { id: c.parentId } : null, issue: { id: c.issueId } };
        },
        agentActivity: ({ id }) => {
          const a = this.activities.find((x) => x.id === id);
          if (!a) throw notFound('AgentActivity');
          return { __typename: 'AgentActivity', ...a, agentSession: { id: a.agentSessionId } };
        },
      },
      mutation: {
        commentCreate: ({ input: raw }) => {
          this.guard('commentCreate');
          const input = obj(raw);
          const issue = this.issues.get(str(input.issueId) ?? '');
          if (!issue) throw notFound('Issue');
          const body = str(input.body);
          if (!body?.trim()) throw invalidInput('body must not be empty');
          const id = this.clientId(input);
          if (id && this.comments.some((c) => c.id === id)) throw invalidInput('a comment with this id already exists');
          const parentId = str(input.parentId);
          if (parentId && !this.comments.some((c) => c.id === parentId)) throw notFound('Comment');
          const comment: RecordedComment = { id: id ?? randomUUID(), issueId: issue.id, body, ...(parentId ? { parentId } : {}) };
          this.comments.push(comment);
          return this.payload('CommentPayload', 'comment', { __typename: 'Comment', id: comment.id, body });
        },
        agentActivityCreate: ({ input: raw }) => {
          this.guard('agentActivityCreate');
          const input = obj(raw);
          const agentSessionId = str(input.agentSessionId) ?? '';
          const content = obj(input.content);
          const type = str(content.type);
          if (!type || !ACTIVITY_TYPES.has(type)) throw invalidInput('content.type is invalid');
          if (type === 'action' ? typeof content.action !== 'string' || typeof content.parameter !== 'string' : typeof content.body !== 'string' || content.body === '') {
            throw invalidInput(type === 'action' ? 'action content needs action and parameter' : `${type} content needs a body`);
          }
          const id = this.clientId(input);
          if (id && this.activities.some((a) => a.id === id)) throw invalidInput('an agent activity with this id already exists');
          const activity: RecordedActivity = {
            id: id ?? randomUUID(),
            agentSessionId,
            content,
            ...(typeof input.ephemeral === 'boolean' ? { ephemeral: input.ephemeral } : {}),
            ...(typeof input.signal === 'string' ? { signal: input.signal } : {}),
            ...(input.signalMetadata && typeof input.signalMetadata === 'object' ? { signalMetadata: obj(input.signalMetadata) } : {}),
          };
          this.activities.push(activity);
          return this.payload('AgentActivityPayload', 'agentActivity', { __typename: 'AgentActivity', id: activity.id });
        },
        agentSessionUpdate: ({ id, input }) => {
          this.guard('agentSessionUpdate');
          this.sessionUpdates.push({ id: String(id), input: obj(input) });
          return this.payload('AgentSessionPayload', 'agentSession', { __typename: 'AgentSession', id });
        },
        issueUpdate: ({ id, input: raw }) => {
          this.guard('issueUpdate');
          const issue = this.issues.get(String(id));
          if (!issue) throw notFound('Issue');
          const stateId = str(obj(raw).stateId);
          if (stateId !== undefined) {
            if (!this.teamOf(issue).states.some((s) => s.id === stateId)) throw invalidInput('stateId is not a state of the issue team');
            issue.stateId = stateId;
          }
          return this.payload('IssuePayload', 'issue', this.issueJson(issue));
        },
      },
    };
  }
}
