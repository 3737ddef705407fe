/**
 * `demo --linear-session`: Linear as the front end. A user delegates the issue to the app (the real
 * `AgentSessionEvent` `created` capture's shape, signed at send time) → a live session (plan,
 * thoughts, the attempt's actions) → attempt 1 fails and the run escalates (an `elicitation`) →
 * the user answers in the session (`prompted` guidance) → attempt 2 → PR (a `response`). Prints the
 * session's activity log as Linear shows it and the final plan. The agent is the real Claude Code
 * CLI driven by the scripted model (the escalation needs a scripted first attempt).
 */
import { DEMO_GUIDANCE, deliver, newSession, promptedEvent, renderActivityLog, renderPlan, sessionActivities } from '../devstack/linearConversation.js';
import type { LocalStack } from '../devstack/stack.js';
import type { RunOutcome } from '../workflows/types.js';
import { runResult, runStatus } from './runs.js';

/** Runs the conversation on `stack` (started with `guidedScript`, maxAttempts 1); returns the outcome. */
export async function runLinearSessionDemo(stack: LocalStack, out: (line?: string) => void): Promise<RunOutcome> {
  const c = newSession(stack.linear);
  const created = await deliver(stack, c, c.created);
  out(`webhook:        AgentSessionEvent created (${c.issue.identifier} delegated to Nightshift) → ${created}`);
  out(`workflow id:    ${c.workflowId}`);
  if (created !== 200) throw new Error(`the webhook was refused: ${created}`);
  const end = Date.now() + 300_000;
  for (;;) {
    const phase = (await runStatus(stack.client, c.workflowId).catch(() => undefined))?.phase;
    if (phase === 'awaiting_human') break;
    if (phase === 'done') throw new Error('the run ended before escalating');
    if (Date.now() > end) throw new Error(`the run did not escalate in 5 minutes (phase ${String(phase)})`);
    await new Promise((r) => setTimeout(r, 500));
  }
  out('escalated:      attempt 1 failed the tests; the session asks for guidance (elicitation)');
  const prompted = await deliver(stack, c, promptedEvent(c, DEMO_GUIDANCE));
  out(`webhook:        AgentSessionEvent prompted "${DEMO_GUIDANCE}" → ${prompted}`);
  const outcome = await runResult(stack.client, c.workflowId);
  // The session's last plan update follows the outcome's report by a moment.
  await new Promise((r) => setTimeout(r, 1_000));
  out('');
  out(`---- agent session on ${c.issue.identifier}, as Linear shows it ----`);
  for (const line of renderActivityLog(sessionActivities(stack.linear, c.sessionId))) out(line);
  out('---- plan ----');
  for (const line of renderPlan(stack.linear, c.sessionId)) out(`     ${line}`);
  out('---- end of session ----');
  out('');
  const invalid = stack.linear.invalidRequests.length;
  out(`Linear:         ${stack.linear.requests.length} API requests, ${invalid} invalid against Linear's schema`);
  if (invalid > 0) throw new Error('Linear received requests its schema refuses');
  return outcome;
}
