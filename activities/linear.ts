/**
 * The Linear client layer (./linear/): typed errors, the request budget, comments, agent
 * activities and sessions, issue states, team membership and the live session stream.
 * This module re-exports it so that `activities/linear.js` imports keep working.
 */
export { DEFAULT_RATE_LIMIT_WAIT_MS, LinearApiError, toLinearApiError, type LinearFailureReason } from './linear/errors.js';
export {
  createLinearClient,
  deterministicId,
  linearCall,
  linearEntityExists,
  postAgentActivity,
  postIssueComment,
  updateAgentSession,
  type AgentActivityContent,
  type AgentActivitySignalInput,
  type AgentPlanStep,
  type AgentSessionChanges,
  type ExternalUrl,
  type PostActivityOptions,
} from './linear/client.js';
export { chooseState, getUserAccess, isForbidden, isTeamMember, moveIssueToState, type LinearUserAccess, type MoveResult, type StateTarget, type TeamStateSettings } from './linear/issueState.js';
export { attachBudget, budgetForKey, budgetSettingsFor, budgetOf, DEFAULT_RATE_BUDGET, LinearRequestBudget, type RateBudgetSettings } from './linear/rateBudget.js';
