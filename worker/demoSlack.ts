/**
 * `demo --slack`: the run started from Slack. A signed `/nightshift run` goes to the local Bolt
 * server (FakeSlack is the Web API), the run keeps its root message current, and the thread is
 * printed as Slack would show it: the root message's successive states, then the replies, ending
 * with the PR link.
 */
import { threadTranscript } from '../devstack/slackTranscript.js';
import type { LocalStack } from '../devstack/stack.js';
import type { RunOutcome } from '../workflows/types.js';
import { runResult } from './runs.js';

/** Channel and user of the demo's command. */
export const DEMO_CHANNEL = 'C0DEMO';
export const DEMO_USER = 'U0DEMO';

/** Sends the command, waits for the run, prints the thread; returns the outcome. */
export async function runSlackDemo(stack: LocalStack, out: (line?: string) => void): Promise<RunOutcome> {
  const slack = stack.slack;
  const signer = stack.slackSigner;
  if (!slack || !signer) throw new Error('the stack was started without Slack');
  const text = 'run fix add() in calc.py so that test_add passes --now';
  const res = await signer.slashCommand({ text, user: DEMO_USER, channel: DEMO_CHANNEL });
  out(`Slack:          signed POST /slack/events "/nightshift ${text}" → ${res.status}`);
  if (res.status !== 200) throw new Error(`the command was refused: ${res.status} ${res.text}`);
  let root = slack.messages.find((m) => m.channel === DEMO_CHANNEL && m.bot_id && !m.thread_ts);
  for (let i = 0; !root && i < 150; i++) {
    await new Promise((r) => setTimeout(r, 100));
    root = slack.messages.find((m) => m.channel === DEMO_CHANNEL && m.bot_id && !m.thread_ts);
  }
  if (!root) throw new Error('no root message was posted');
  const workflowId = `slack-${DEMO_CHANNEL}-${root.ts}`;
  out(`workflow id:    ${workflowId}`);
  const outcome = await runResult(stack.client, workflowId);
  // The final live update follows the outcome report: wait for the root message to show it.
  for (let i = 0; i < 50 && !/Done|opened|Cancelled|Failed|Handed|Nobody|Not taken|could not/.test(slack.messages.find((m) => m.ts === root.ts)?.text ?? ''); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  out('');
  out(threadTranscript(slack, DEMO_CHANNEL, root.ts));
  out('');
  return outcome;
}
