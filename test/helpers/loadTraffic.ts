/**
 * The deliveries of the load test (test/faults/load.test.ts), as the platforms send them:
 * - Linear (https://linear.app/developers/webhooks): an `Issue` `update` adding the trigger label
 *   (devstack fixture) and an `AgentSessionEvent` `created` (the recorded capture), each a new event
 *   (`linearEventStamp`); a redelivery re-sends the same event, signed again with a new
 *   `webhookTimestamp` (devstack/linear.ts `signedWebhook`);
 * - Slack (https://docs.slack.dev/apis/events-api/#retries): `/nightshift run` slash commands and
 *   `app_mention` events, signed at send time (devstack/slackSigner.ts); a redelivery is the same
 *   event body with `X-Slack-Retry-Num` (Slack does not retry slash commands).
 * Every send is timed from the request to the end of the answer (what the platform waits for).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { linearEventStamp, signedWebhook } from '../../devstack/linear.js';
import { devstackFixture } from '../../devstack/paths.js';
import type { SlackSigner } from '../../devstack/slackSigner.js';
import { fixturePath } from './paths.js';

type Json = Record<string, unknown>;

/** What each delivery asks for, and the run it must start. */
export type LoadEvent =
  | { kind: 'linear-label'; issueId: string; identifier: string; payload: Json; workflowId: string }
  | { kind: 'linear-session'; issueId: string; identifier: string; sessionId: string; payload: Json; workflowId: string }
  | { kind: 'slack-command'; channel: string; user: string; text: string }
  | { kind: 'slack-mention'; channel: string; ts: string; body: string; workflowId: string };

/** One timed request. */
export interface Timed {
  platform: 'linear' | 'slack';
  kind: LoadEvent['kind'];
  redelivery: boolean;
  status: number;
  /** Request to the end of the answer, ms. */
  ms: number;
}

const TASK = 'add() returns the wrong result: fix add() in calc.py. Done when `python3 -m unittest -v` passes (test_add fails today).';
const read = (p: string): Json => JSON.parse(readFileSync(p, 'utf8')) as Json;

/** How many events of each kind. */
export type LoadMix = Record<LoadEvent['kind'], number>;

/**
 * The events of `mix`, interleaved (round robin over the kinds): label and session deliveries on
 * distinct issues, commands and mentions spread over `channels` Slack channels; mention ts are
 * distinct and increasing.
 */
export function loadEvents(mix: LoadMix, channels: string[]): LoadEvent[] {
  const n = Math.max(...Object.values(mix));
  const labelTemplate = read(devstackFixture('linear', 'issue-update-label-added.constructed.json'));
  const created = read(fixturePath('linear', 'agent-session-event-created.linear-beads-2026.json'));
  const session = created.agentSession as Json;
  const events: LoadEvent[] = [];
  const base = Math.floor(Date.now() / 1000);
  for (let i = 0; i < n; i++) {
    if (i < mix['linear-label']) {
      const issueId = randomUUID();
      const identifier = `LIN-${2000 + i}`;
      const data = { ...(labelTemplate.data as Json), id: issueId, identifier, title: 'add() returns the wrong result', description: TASK, url: `https://linear.app/example/issue/${identifier}` };
      events.push({ kind: 'linear-label', issueId, identifier, workflowId: `linear-${issueId}`, payload: { ...labelTemplate, ...linearEventStamp(), data, url: data.url } });
    }
    if (i < mix['linear-session']) {
      const sIssueId = randomUUID();
      const sIdentifier = `GENT-${3000 + i}`;
      const sessionId = randomUUID();
      const issue = { ...(session.issue as Json), id: sIssueId, identifier: sIdentifier, title: 'add() returns the wrong result', description: TASK };
      events.push({
        kind: 'linear-session', issueId: sIssueId, identifier: sIdentifier, sessionId, workflowId: `linear-session-${sessionId}`,
        payload: { ...created, ...linearEventStamp(), agentSession: { ...session, id: sessionId, issueId: sIssueId, issue } },
      });
    }

    const channel = channels[i % channels.length]!;
    if (i < mix['slack-command']) events.push({ kind: 'slack-command', channel, user: `UCMD${i}`, text: `run ${TASK} --now` });

    const ts = `${base}.${String(100000 + i).padStart(6, '0')}`;
    if (i < mix['slack-mention']) events.push({ kind: 'slack-mention', channel, ts, workflowId: `slack-${channel}-${ts}`, body: '' });
  }
  return events;
}

/** Sends one delivery (a redelivery when `retryNum` > 0) and times it. */
export async function sendEvent(e: LoadEvent, ctx: { url: string; linearSecret: string; signer: SlackSigner; botUser: string }, retryNum = 0): Promise<Timed> {
  const t0 = performance.now();
  const timed = (platform: Timed['platform'], status: number): Timed => ({ platform, kind: e.kind, redelivery: retryNum > 0, status, ms: performance.now() - t0 });
  switch (e.kind) {
    case 'linear-label':
    case 'linear-session': {
      // Signed at send time: a redelivery carries the same event with a new webhookTimestamp.
      const { headers, body } = signedWebhook(e.payload, ctx.linearSecret);
      const res = await fetch(`${ctx.url}/webhooks/linear`, { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
      await res.text();
      return timed('linear', res.status);
    }
    case 'slack-command': {
      const res = await ctx.signer.slashCommand({ text: e.text, user: e.user, channel: e.channel });
      return timed('slack', res.status);
    }
    case 'slack-mention': {
      // The first delivery fixes the body (and its event_id); Slack retries send the same body.
      e.body ||= ctx.signer.eventBody({ type: 'app_mention', user: 'UMENTION', text: `<@${ctx.botUser}> ${TASK}`, ts: e.ts, channel: e.channel, event_ts: e.ts });
      const res = await ctx.signer.send(e.body, 'application/json', retryNum > 0 ? { retryNum, retryReason: 'http_timeout' } : {});
      return timed('slack', res.status);
    }
  }
}

/** The `q` quantile (0..1) of `xs` by the nearest-rank method; NaN when empty. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Answer-time figures of one platform, ms. */
export interface LatencyRow {
  platform: string;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** The platform's deadline, ms. */
  limit: number;
}

/** The figures of `timed` for a platform. */
export function latencyRow(timed: Timed[], platform: Timed['platform'], limit: number): LatencyRow {
  const ms = timed.filter((t) => t.platform === platform).map((t) => t.ms);
  return { platform, requests: ms.length, p50: quantile(ms, 0.5), p95: quantile(ms, 0.95), p99: quantile(ms, 0.99), max: Math.max(...ms), limit };
}

/** The rows as a small Markdown table (the README's "Load" figures). */
export function latencyTable(rows: LatencyRow[]): string {
  const f = (x: number): string => `${Math.round(x)} ms`;
  return [
    '| webhook | requests | p50 | p95 | p99 | max | limit |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.platform} | ${r.requests} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.p99)} | ${f(r.max)} | ${f(r.limit)} |`),
  ].join('\n');
}
