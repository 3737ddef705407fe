/**
 * `nightshift digest [--since 24h] [--team KEY]`: prints the morning digest (Markdown) from the run
 * ledger, as the team's Schedule would post it to Slack.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { openLedger } from '../ledger/open.js';
import { collectDigest } from '../digest/collect.js';
import { renderDigestMarkdown } from '../digest/markdown.js';
import type { Config } from './config.js';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `24h`, `90m`, `2d` → milliseconds.
 * @throws InvalidArgumentError for anything else
 */
export function parseSince(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([mhd])$/.exec(v.trim());
  if (!m || Number(m[1]) <= 0) throw new InvalidArgumentError('--since must be a duration such as 24h, 90m or 2d');
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** Registers `digest` on the program; `load` reads the configuration. */
export function registerDigestCommand(program: Command, load: () => Config, out: (s: string) => void = (s) => void process.stdout.write(s)): void {
  program
    .command('digest')
    .description('print the morning digest (Markdown) from the run ledger')
    .option('--since <duration>', 'how far back: 24h, 90m, 2d (default: the team\'s digest.sinceHours, else 24h)')
    .option('--team <key>', 'one team (default: every run)')
    .action(async (o: { since?: string; team?: string }) => {
      const config = load();
      const settings = o.team ? config.digest.teams[o.team] : undefined;
      const sinceMs = o.since ? parseSince(o.since) : (settings?.sinceHours ?? 24) * 3_600_000;
      const ledger = await openLedger(config);
      try {
        const nowMs = Date.now();
        const digest = await collectDigest(ledger, config, { team: o.team, sinceMs: nowMs - sinceMs, nowMs });
        out(renderDigestMarkdown(digest, settings?.tz ?? 'UTC'));
      } finally {
        await ledger.close();
      }
    });
}
