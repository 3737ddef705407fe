/**
 * A Linear agent-session conversation for the local stack (the `--linear-session` demo and the
 * integration tests): webhook payloads built from the real `AgentSessionEvent` `created` capture
 * (devstack/fixtures/linear/agent-session-event-created.linear-beads-2026.json; ids and the
 * issue's text replaced, the shape kept), `prompted` events as `@linear/sdk` types them
 * (`AgentSessionEventWebhookPayload.agentActivity`: id, content `{type: "prompt", body}`, signal,
 * user), sent signed at send time; and the session's activity log rendered as Linear shows it.
 * Docs: https://linear.app/developers/agent-interaction, https://linear.app/developers/webhooks
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { linearEventStamp, signedWebhook, type FakeLinear, type RecordedActivity } from './linear.js';
import { CALCULATOR_ISSUE } from './linearIssue.js';
import { devstackFixture } from './paths.js';
import { scriptFromSteps, type Script } from './scriptedModel.js';
import { afterSteps, fixCalculatorScript, HARMLESS_EDIT } from './scripts.js';
import { WEBHOOK_SECRET, type LocalStack } from './stack.js';

type Json = Record<string, unknown>;

/** The real `created` capture (copied from the shared reference folder into devstack/fixtures/linear/). */
export function createdCapture(): Json {
  const path = devstackFixture('linear', 'agent-session-event-created.linear-beads-2026.json');
  return JSON.parse(readFileSync(path, 'utf8')) as Json;
}

/** One session of the conversation: its ids and the `created` payload. */
export interface SessionConversation {
  sessionId: string;
  issue: { id: string; identifier: string; title: string };
  /** The session's creator (a workspace member the stand-in knows). */
  creatorId: string;
  /** Workflow id of the session's run. */
  workflowId: string;
  created: Json;
}

/**
 * A fresh session on the capture's shape: new session, issue and creator ids (so that runs on a
 * shared Temporal server never meet), the calculator issue as the issue's text. Registers the
 * creator with the Linear stand-in (the access check asks about them).
 */
export function newSession(linear: FakeLinear, identifier = 'CALC-7'): SessionConversation {
  const capture = createdCapture();
  const session = capture.agentSession as Json;
  const sessionId = randomUUID();
  const creatorId = randomUUID();
  const issue = { id: randomUUID(), identifier, title: CALCULATOR_ISSUE.title };
  linear.addUser({ id: creatorId, name: 'Ada Lovelace' });
  const created: Json = {
    ...capture,
    ...linearEventStamp(),
    agentSession: {
      ...session,
      id: sessionId,
      issueId: issue.id,
      issue: { ...(session.issue as Json), ...issue, description: CALCULATOR_ISSUE.description, url: `https://linear.app/acme/issue/${identifier}` },
      comment: { ...(session.comment as Json), id: randomUUID(), body: '@nightshift please take this one' },
      creator: { ...(session.creator as Json), id: creatorId, name: 'Ada Lovelace', email: 'ada@example.com' },
    },
    promptContext: `<issue identifier="${identifier}"><title>${issue.title}</title></issue>`,
  };
  return { sessionId, issue, creatorId, workflowId: `linear-session-${sessionId}`, created };
}

/** A `prompted` event of the session: the creator's message, or their stop (`signal: "stop"`). */
export function promptedEvent(c: SessionConversation, body: string, opts: { stop?: boolean; webhookId?: string } = {}): Json {
  const session = c.created.agentSession as Json;
  return {
    ...c.created,
    action: 'prompted',
    webhookId: opts.webhookId ?? randomUUID(),
    agentActivity: {
      id: randomUUID(),
      agentSessionId: c.sessionId,
      content: { type: 'prompt', body },
      ...(opts.stop ? { signal: 'stop' } : {}),
      user: session.creator,
    },
  };
}

/**
 * Signs `payload` now (a redelivery is signed anew, with the same `webhookId`) and posts it to the
 * stack's Linear webhook. Returns the HTTP status.
 */
export async function deliver(stack: LocalStack, c: SessionConversation, payload: Json): Promise<number> {
  const res = await stack.sendLinearDelivery({ issueId: c.issue.id, identifier: c.issue.identifier, title: c.issue.title, ...signedWebhook(payload, WEBHOOK_SECRET) });
  await res.body?.cancel();
  return res.status;
}

/** The session's activities in the order Linear received them. */
export function sessionActivities(linear: FakeLinear, sessionId: string): RecordedActivity[] {
  return linear.activities.filter((a) => a.agentSessionId === sessionId);
}

const clip = (s: unknown, n: number): string => {
  const one = String(s ?? '').replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
};

/**
 * The session's activity log as Linear shows it, one line an activity: type, `(ephemeral)` for
 * those the next one replaces, then the body (or action, parameter → result), and a signal with
 * its options when there is one. `width` clips bodies (characters).
 */
export function renderActivityLog(activities: readonly RecordedActivity[], width = 160): string[] {
  return activities.map((a, i) => {
    const c = a.content;
    const text = c.type === 'action' ? `${String(c.action)} ${clip(c.parameter, 60)}${c.result !== undefined ? ` → ${clip(c.result, 60)}` : ''}` : clip(c.body, width);
    const options = (a.signalMetadata?.options as { value: string }[] | undefined)?.map((o) => o.value);
    const signal = a.signal ? `  [signal ${a.signal}${options ? `: ${options.join(' | ')}` : ''}]` : '';
    return `${String(i + 1).padStart(3)}. ${String(c.type).padEnd(11)}${a.ephemeral ? ' (ephemeral)' : '            '} ${text}${signal}`;
  });
}

/** The session's latest plan (from its last `agentSessionUpdate` with a plan), as `[status] content` lines. */
export function renderPlan(linear: FakeLinear, sessionId: string): string[] {
  const last = linear.sessionUpdates.filter((u) => u.id === sessionId && Array.isArray(u.input.plan)).at(-1);
  const plan = (last?.input.plan ?? []) as { content: string; status: string }[];
  return plan.map((p) => `[${p.status}] ${p.content}`);
}

/** The guidance the demo and the tests send (the scripted agent fixes add() once it sees it). */
export const DEMO_GUIDANCE = 'The bug is the sign in add(): it must return a + b. Keep the docstring.';

/**
 * Attempts whose prompt carries `guidance` fix add(); the others make a harmless edit, wait
 * `waitSeconds` (a window for a message during the attempt) and claim success, leaving the tests
 * failing, so that the run goes on to another attempt or escalates.
 */
export function guidedScript(waitSeconds: number, guidance = DEMO_GUIDANCE): Script {
  const fix = fixCalculatorScript();
  const stall = afterSteps(HARMLESS_EDIT, scriptFromSteps([{ bash: `sleep ${waitSeconds}` }], 'I believe add() is fixed now.'));
  return (ctx) => (JSON.stringify(ctx.request).includes(guidance) ? fix(ctx) : stall(ctx));
}
