/**
 * Sends requests to our Slack endpoint exactly as Slack does ("Verifying requests from Slack",
 * https://docs.slack.dev/authentication/verifying-requests-from-slack): `X-Slack-Request-Timestamp`
 * (Unix seconds) and `X-Slack-Signature` = `v0=` + hex HMAC-SHA256(signing secret,
 * `v0:{timestamp}:{raw body}`), signed at send time. Bodies are built from the real payloads in
 * devstack/fixtures/slack: slash commands as forms, events as JSON envelopes, `block_actions` as a
 * `payload=` form; redeliveries carry `X-Slack-Retry-Num` / `X-Slack-Retry-Reason`.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { devstackFixture } from './paths.js';

/** The two signature headers of a body. `timestamp` in Unix seconds (default now). */
export function slackSignatureHeaders(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const sig = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': `v0=${sig}` };
}

/** How to deliver: a stale or foreign signature, a retry. */
export interface SendOptions {
  /** Unix seconds to sign with (default now). */
  timestamp?: number;
  /** Sign with another secret (a forged request). */
  secret?: string;
  /** Redelivery number (1, 2, 3) and reason, as Slack sends on retries. */
  retryNum?: number;
  retryReason?: string;
}

/** A delivery's answer. */
export interface SlackDelivery {
  status: number;
  text: string;
}

function template(name: string): string {
  return readFileSync(devstackFixture('slack', name), 'utf8');
}

/** Delivers signed Slack requests to `endpoint` (our `/slack/events`). */
export class SlackSigner {
  constructor(
    private readonly secret: string,
    readonly endpoint: string,
    /** Gives each command or interaction its `response_url` (FakeSlack.responseUrl). */
    private readonly responseUrl: () => string,
  ) {}

  /** POSTs a raw body signed at send time. */
  async send(body: string, contentType: string, opts: SendOptions = {}): Promise<SlackDelivery> {
    const headers: Record<string, string> = { 'content-type': contentType, ...slackSignatureHeaders(opts.secret ?? this.secret, body, opts.timestamp) };
    if (opts.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(opts.retryNum);
      headers['x-slack-retry-reason'] = opts.retryReason ?? 'http_timeout';
    }
    const res = await fetch(this.endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, text: await res.text() };
  }

  /** The slash-command form Slack posts (template: bolt-python's), with these fields. */
  slashCommandBody(f: { text: string; user: string; channel: string; command?: string }): string {
    const form = new URLSearchParams(template('slash-command.bolt-python.body.txt'));
    form.set('command', f.command ?? '/nightshift');
    form.set('text', f.text);
    form.set('user_id', f.user);
    form.set('channel_id', f.channel);
    form.set('response_url', this.responseUrl());
    form.set('trigger_id', `${Date.now()}.${randomUUID().slice(0, 8)}`);
    return form.toString();
  }

  /** Sends `/nightshift <text>` as `user` in `channel`. */
  slashCommand(f: { text: string; user: string; channel: string; command?: string }, opts?: SendOptions): Promise<SlackDelivery> {
    return this.send(this.slashCommandBody(f), 'application/x-www-form-urlencoded', opts);
  }

  /** The Events API envelope of `event` (template: Slack docs' app_mention envelope). */
  eventBody(event: Record<string, unknown>, eventId = `Ev${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`): string {
    const envelope = JSON.parse(template('app-mention-envelope.slack-docs.json')) as Record<string, unknown>;
    return JSON.stringify({ ...envelope, event, event_id: eventId, event_time: Math.floor(Date.now() / 1000) });
  }

  /** Sends an event (JSON). Pass the same `body` again with `retryNum` for a redelivery. */
  event(event: Record<string, unknown>, opts?: SendOptions): Promise<SlackDelivery> {
    return this.send(this.eventBody(event), 'application/json', opts);
  }

  /** The `block_actions` payload form (template: bolt-python's), with these fields merged. */
  blockActionsBody(p: { user: string; channel: string; actions: Record<string, unknown>[]; container?: Record<string, unknown>; message?: Record<string, unknown> }): string {
    const payload = JSON.parse(template('block-actions.bolt-python.json')) as Record<string, unknown>;
    const merged = {
      ...payload,
      user: { ...(payload.user as object), id: p.user },
      channel: { id: p.channel, name: 'channel' },
      container: p.container ?? { ...(payload.container as object), channel_id: p.channel },
      response_url: this.responseUrl(),
      trigger_id: `${Date.now()}.${randomUUID().slice(0, 8)}`,
      actions: p.actions,
      ...(p.message ? { message: p.message } : {}),
    };
    return new URLSearchParams({ payload: JSON.stringify(merged) }).toString();
  }

  /**
   * The `view_submission` payload form of a modal (https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload),
   * built on the `block_actions` template's team/app fields: `view` is the modal as opened
   * (`views.open`'s `view`, as FakeSlack recorded it) with the typed `values` as its state.
   */
  viewSubmissionBody(p: { user: string; view: Record<string, unknown>; values: Record<string, Record<string, { type: string; value: string | null }>> }): string {
    const t = JSON.parse(template('block-actions.bolt-python.json')) as Record<string, unknown>;
    const payload = {
      type: 'view_submission',
      team: t.team,
      user: { ...(t.user as object), id: p.user },
      api_app_id: t.api_app_id,
      token: t.token,
      trigger_id: `${Date.now()}.${randomUUID().slice(0, 8)}`,
      view: { id: `V${randomUUID().slice(0, 8).toUpperCase()}`, team_id: (t.team as { id: string }).id, app_id: t.api_app_id, hash: '1.a', ...p.view, state: { values: p.values } },
      response_urls: [],
    };
    return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  }

  /** Sends a modal's submission. */
  viewSubmission(p: Parameters<SlackSigner['viewSubmissionBody']>[0], opts?: SendOptions): Promise<SlackDelivery> {
    return this.send(this.viewSubmissionBody(p), 'application/x-www-form-urlencoded', opts);
  }

  /** Sends a `block_actions` interaction. */
  blockActions(p: Parameters<SlackSigner['blockActionsBody']>[0], opts?: SendOptions): Promise<SlackDelivery> {
    return this.send(this.blockActionsBody(p), 'application/x-www-form-urlencoded', opts);
  }
}
