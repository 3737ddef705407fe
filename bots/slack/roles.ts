/**
 * Who may do what, per repository (config `slack.roles`): `requester` (start runs within the
 * repo's budget, cancel their own runs), `approver` (raise a budget up to `maxBudget`, approve or
 * reject risky diffs, cancel anyone's run), `admin` (everything). Each role includes the ones
 * below it. Entries are Slack user ids (`U…`/`W…`) or user-group ids (`S…`, resolved with
 * `usergroups.users.list`, cached). Defaults: with no `requester` list everyone is a requester;
 * approvers and admins must be named. Roles under `*` apply to every repository.
 */
import type { Config, SlackRolesConfig } from '../../worker/config.js';

/** A role, lowest first. */
export type Role = 'requester' | 'approver' | 'admin';

/** What a Slack user asks to do (part B's buttons use the same names). */
export type SlackAction = 'run' | 'raise_budget' | 'cancel_own' | 'cancel_any' | 'approve' | 'reject' | 'guidance' | 'take_over';

/** The least role each action needs. */
export const ROLE_NEEDED: Record<SlackAction, Role> = {
  run: 'requester',
  cancel_own: 'requester',
  guidance: 'requester',
  take_over: 'requester',
  raise_budget: 'approver',
  cancel_any: 'approver',
  approve: 'approver',
  reject: 'approver',
};

const RANK: Record<Role, number> = { requester: 0, approver: 1, admin: 2 };

/** A decision of {@link Roles.mayAct}. `message` (mrkdwn) names the role needed, for an ephemeral reply. */
export type RoleDecision = { ok: true } | { ok: false; needs: Role; message: string };

/** Members of a user group (`usergroups.users.list`); rejects when Slack refuses. */
export type GroupMembers = (groupId: string) => Promise<string[]>;

/** Role checks for one configuration. */
export interface Roles {
  /** Whether `user` may do `action` on `repo`; never throws (a failed group lookup counts as not a member, logged by the caller). */
  mayAct(user: string, repo: string, action: SlackAction): Promise<RoleDecision>;
}

/** How long a user group's member list is reused, ms. */
export const GROUP_CACHE_MS = 60_000;

/**
 * Builds {@link Roles} from `config.slack.roles`, looking groups up with `groupMembers`
 * (cached {@link GROUP_CACHE_MS}). `now` is injectable for tests (Unix ms).
 */
export function createRoles(config: Pick<Config, 'slack'>, groupMembers: GroupMembers, now: () => number = Date.now): Roles {
  const cache = new Map<string, { at: number; members: Promise<string[]> }>();
  const members = (group: string): Promise<string[]> => {
    const hit = cache.get(group);
    if (hit && now() - hit.at < GROUP_CACHE_MS) return hit.members;
    const p = groupMembers(group).catch(() => {
      cache.delete(group);
      return [] as string[];
    });
    cache.set(group, { at: now(), members: p });
    return p;
  };
  const listed = async (user: string, ids: string[] | undefined): Promise<boolean> => {
    if (!ids) return false;
    if (ids.includes(user)) return true;
    for (const id of ids.filter((i) => i.startsWith('S'))) {
      if ((await members(id)).includes(user)) return true;
    }
    return false;
  };
  const rolesOf = (repo: string): SlackRolesConfig[] => [config.slack.roles[repo], config.slack.roles['*']].filter((r): r is SlackRolesConfig => Boolean(r));

  /** Whether `user` holds `needs` (or a higher role) on `repo`; looks groups up only when it must. */
  async function holds(user: string, repo: string, needs: Role): Promise<boolean> {
    const sets = rolesOf(repo);
    if (needs === 'requester') {
      const requesterLists = sets.map((s) => s.requester).filter((r): r is string[] => r !== undefined);
      if (requesterLists.length === 0) return true;
      for (const r of requesterLists) if (await listed(user, r)) return true;
    }
    for (const s of sets) {
      if (RANK[needs] <= RANK.approver && (await listed(user, s.approver))) return true;
      if (await listed(user, s.admin)) return true;
    }
    return false;
  }

  return {
    async mayAct(user, repo, action) {
      const needs = ROLE_NEEDED[action];
      if (await holds(user, repo, needs)) return { ok: true };
      return { ok: false, needs, message: `You need the *${needs}* role on \`${repo}\` to ${describe(action)}. Ask an admin of \`${repo}\` to add you to \`slack.roles\`.` };
    },
  };
}

function describe(action: SlackAction): string {
  switch (action) {
    case 'run':
      return 'start a run';
    case 'raise_budget':
      return "raise a run's budget above the repository's default";
    case 'cancel_own':
      return 'cancel this run';
    case 'cancel_any':
      return "cancel someone else's run";
    case 'approve':
      return 'approve this change';
    case 'reject':
      return 'reject this change';
    case 'guidance':
      return 'answer this run';
    case 'take_over':
      return 'take this run over';
  }
}
