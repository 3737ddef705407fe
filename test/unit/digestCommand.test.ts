/**
 * `nightshift digest`: the duration option, and the Markdown printed from a real (SQLite) ledger
 * holding a night of mixed outcomes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { openLedger } from '../../ledger/open.js';
import { parseConfig } from '../../worker/config.js';
import { parseSince, registerDigestCommand } from '../../worker/digestCommand.js';
import { night } from '../helpers/digestNight.js';

test('--since takes minutes, hours and days', () => {
  assert.equal(parseSince('24h'), 86_400_000);
  assert.equal(parseSince('90m'), 5_400_000);
  assert.equal(parseSince('2d'), 172_800_000);
  for (const bad of ['24', 'h', '-1h', '0h', '1w']) assert.throws(() => parseSince(bad), /--since must be a duration/);
});

test('nightshift digest --team CALC --since 12h prints the night from the ledger', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'ns-digest-cli-'));
  try {
    const config = parseConfig({
      stateDir,
      gateway: { prices: {} },
      repos: { calculator: { url: '/tmp/none', github: 'acme/calculator', testCommand: 'true', budget: { minutes: 10, tokens: 1000, usd: 1 }, team: 'CALC' } },
      spendCaps: { teams: { CALC: { dailyUsd: 20, tz: 'Europe/Berlin' } } },
      digest: { teams: { CALC: { channel: 'C1', tz: 'Europe/Berlin' } } },
    });
    const ledger = await openLedger(config);
    const now = Date.now();
    for (const r of night(now - 10 * 3_600_000, now)) {
      const { lastValidation: _v, updatedAt: _u, ...row } = r;
      await ledger.upsertRun(row);
    }
    await ledger.close();
    let printed = '';
    const program = new Command('nightshift').exitOverride();
    registerDigestCommand(program, () => config, (s) => (printed += s));
    await program.parseAsync(['digest', '--team', 'CALC', '--since', '12h'], { from: 'user' });
    assert.match(printed, /^# Nightshift digest — CALC: .* \(Europe\/Berlin\)/);
    assert.match(printed, /## Pull requests opened \(2\)\n- \[Fix add\(\)\]\(https:\/\/github\.com\/acme\/calculator\/pull\/1\) — calculator · tests: unknown · \$0\.42/);
    assert.match(printed, /## Escalations waiting for a human \(2\)/);
    assert.match(printed, /## Rejected or failed \(2\)/);
    assert.match(printed, /## Still queued or running \(2\)/);
    assert.match(printed, /\| team CALC \| \$3\.02 \| \$\d+\.\d\d of \$20\.00 today \(Europe\/Berlin\)/);
    assert.ok(!printed.includes('pull/0') && !printed.includes('pull/9'));
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});
