/**
 * Who may start runs from Linear: members of the teams in `linear.allowedTeams`, or, when that is
 * empty, any active user of the workspace.
 *
 * The lookup is the client layer's {@link getUserAccess} (`User.active`, `User.guest`, `User.app`
 * and the team memberships): guests and app users never start runs.
 */
import type { LinearClient } from '@linear/sdk';
import type { Config } from '../../worker/config.js';
import type { AccessDecision } from '../../workflows/linearTypes.js';
import { getUserAccess, type LinearUserAccess } from '../linear/issueState.js';

export type { LinearUserAccess };

/** The decision for a user (undefined: Linear does not know the user). Pure. */
export function decideAccess(user: LinearUserAccess | undefined, allowedTeams: string[], requester: string): AccessDecision {
  if (!user) return { allowed: false, reason: `${requester} is not a member of this Linear workspace.` };
  if (!user.active) return { allowed: false, reason: `${requester}'s Linear account is deactivated.` };
  if (user.app) return { allowed: false, reason: 'Runs are started by people, not by other apps.' };
  if (allowedTeams.length > 0) {
    const allowed = new Set(allowedTeams.map((k) => k.toUpperCase()));
    if (user.teams.some((k) => allowed.has(k.toUpperCase()))) return { allowed: true };
    return { allowed: false, reason: `Only members of the team${allowedTeams.length > 1 ? 's' : ''} ${allowedTeams.join(', ')} can start Nightshift runs, and ${requester} is not one.` };
  }
  if (user.guest) return { allowed: false, reason: `Only members of the workspace can start Nightshift runs; ${requester} is a guest.` };
  return { allowed: true };
}

/**
 * Checks the requester's access. Without a requester id: allowed when no team is configured
 * (the signed webhook came from the workspace), refused otherwise (nobody to check).
 * @throws LinearApiError when Linear cannot be asked (retryable as classified)
 */
export async function checkAccess(client: LinearClient, config: Pick<Config, 'linear'>, requesterId: string | undefined, requester: string): Promise<AccessDecision> {
  const allowedTeams = config.linear.allowedTeams;
  if (!requesterId) {
    return allowedTeams.length === 0 ? { allowed: true } : { allowed: false, reason: 'Nightshift could not tell who asked (no Linear user id), so it cannot check team membership.' };
  }
  return decideAccess(await getUserAccess(client, requesterId), allowedTeams, requester);
}
