/**
 * The `postDigest` activity: builds a team's morning digest from the run ledger and posts it as
 * Block Kit to the team's Slack channel (`digest.teams.KEY.channel`) with the worker's Slack client.
 */
import type { WebClient } from '@slack/web-api';
import type { Config } from '../worker/config.js';
import { collectDigest, type DigestLedger } from '../digest/collect.js';
import { renderDigestBlocks } from '../digest/blocks.js';
import type { DigestActivities } from '../workflows/digest.js';
import { NightshiftError } from './errors.js';
import { slackFailure } from './slack/index.js';

/** What the digest activity needs. */
export interface DigestActivityDeps {
  config: Pick<Config, 'repos' | 'linear' | 'spendCaps' | 'digest'>;
  ledger?: DigestLedger;
  slack?: WebClient;
  /** Clock, epoch ms (tests). */
  now?: () => number;
}

/**
 * Builds the digest activities. Errors: CONFIG_INVALID (not retryable) for an unknown team or a
 * missing ledger; NOTIFY_UNCONFIGURED without SLACK_BOT_TOKEN; SLACK_FAILED as classified.
 */
export function createDigestActivities(deps: DigestActivityDeps): DigestActivities {
  const clock = deps.now ?? Date.now;
  return {
    async postDigest({ team }) {
      const settings = deps.config.digest.teams[team];
      if (!settings) throw new NightshiftError('CONFIG_INVALID', `no digest is configured for team ${team} (digest.teams)`, { retryable: false });
      if (!deps.ledger) throw new NightshiftError('CONFIG_INVALID', 'the digest needs the run ledger, and none is open', { retryable: false });
      if (!deps.slack) throw new NightshiftError('NOTIFY_UNCONFIGURED', 'cannot post the digest to Slack: SLACK_BOT_TOKEN is not set', { retryable: false });
      const nowMs = clock();
      const digest = await collectDigest(deps.ledger, deps.config, { team, sinceMs: nowMs - settings.sinceHours * 3_600_000, nowMs });
      const message = renderDigestBlocks(digest, settings.tz);
      try {
        const r = await deps.slack.chat.postMessage({ channel: settings.channel, text: message.text, blocks: message.blocks, unfurl_links: false });
        const t = digest.totals;
        return { channel: settings.channel, ts: r.ts ?? '', blocks: message.blocks.length, totals: { runs: t.runs, prs: t.prs, escalations: t.escalations, usd: t.usd } };
      } catch (err) {
        throw slackFailure('chat.postMessage', err);
      }
    },
  };
}
