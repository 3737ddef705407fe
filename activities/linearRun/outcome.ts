/**
 * How a run's report appears in a Linear agent session
 * (https://linear.app/developers/agent-interaction#activity-content-payload): progress notes are
 * `thought`s, a question for a human an `elicitation` (Linear then shows the session as awaiting
 * input), a failure an `error`, any other outcome a `response` (PR opened with its link and test
 * result; cancelled, saying what was kept). Outcomes are never ephemeral.
 */
import type { Report } from '../../workflows/activityTypes.js';
import type { AgentActivitySignalInput } from '../linear/client.js';

/** Activity type of a report in an agent session. Pure. */
export function sessionActivityType(kind: Report['kind'] | string): 'thought' | 'elicitation' | 'error' | 'response' {
  switch (kind) {
    case 'accepted':
    case 'reply_noted':
    case 'duplicate_request':
    case 'deferred':
    case 'host_moved':
      return 'thought';
    case 'escalation':
    case 'approval_needed':
    case 'question':
      return 'elicitation';
    case 'failed':
    case 'environment_failed':
      return 'error';
    default:
      return 'response';
  }
}

/**
 * The signal of a report's session activity: a `question` with choices is an elicitation with
 * `signal: select` and `signalMetadata.options: [{value}]`, so that Linear offers them as buttons
 * (https://linear.app/developers/agent-signals). Undefined otherwise. Pure.
 */
export function sessionActivitySignal(report: Pick<Report, 'kind' | 'options'>): AgentActivitySignalInput | undefined {
  if (sessionActivityType(report.kind) !== 'elicitation' || !report.options?.length) return undefined;
  return { signal: 'select', signalMetadata: { options: report.options.map((value) => ({ value })) } };
}
