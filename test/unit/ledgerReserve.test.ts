/**
 * Spend reservations (ledger/reserve.ts) on SQLite and PostgreSQL (PGlite): runs waking together
 * cannot all take the same headroom; a reservation counts while its run is in flight (not waiting
 * for a human, not done) at max(spend, reservation), in the period it was made in (not the request's), and no
 * longer once the run waits for a human or is done; the reserving run counts at its spend only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openLedger } from '../../ledger/open.js';
import type { Ledger, SpendPeriodQuery } from '../../ledger/types.js';
import { openPgliteLedger } from '../helpers/pgliteLedger.js';

const HOUR = 3_600_000;
const DAY0 = Date.UTC(2025, 5, 1);
const DAY1 = DAY0 + 24 * HOUR;
const today: SpendPeriodQuery[] = [{ scope: { team: 'web' }, from: DAY1, to: DAY1 + 24 * HOUR }];
const CAP = 10;
const BUDGET = 4;

/** Reserves `BUDGET` for `id` when the committed spend leaves room under `CAP`; resolves to whether it did. */
function reserve(ledger: Ledger, id: string, at = DAY1 + 22 * HOUR, spentUsd = 0): Promise<boolean> {
  return ledger.reserveSpend<boolean>({
    workflowId: id, repo: 'web', team: 'web', at, periods: today,
    decide: ([committed]) => ((committed ?? 0) + BUDGET <= CAP ? { reserveUsd: spentUsd + BUDGET, value: true } : { value: false }),
  });
}

function suite(name: string, open: () => Promise<{ ledger: Ledger; cleanup: () => void }>): void {
  describe(name, { timeout: 60_000 }, () => {
    let ledger: Ledger;
    let cleanup = (): void => undefined;
    before(async () => {
      ({ ledger, cleanup } = await open());
      // Five runs requested yesterday, all waiting for tonight's window.
      for (const id of ['r1', 'r2', 'r3', 'r4', 'r5']) {
        await ledger.upsertRun({ workflowId: id, repo: 'web', team: 'web', requester: 'ada', title: id, createdAt: DAY0 + 15 * HOUR, status: 'queued' });
      }
    });
    after(async () => {
      await ledger?.close();
      cleanup();
    });

    test('runs reserving at once: only as many as the cap holds get a reservation', async () => {
      const got = await Promise.all(['r1', 'r2', 'r3', 'r4', 'r5'].map((id) => reserve(ledger, id)));
      assert.deepEqual(got, [true, true, false, false, false]);
      // Committed today: two reservations of $4, though nothing is spent yet and the runs were requested yesterday.
      const c = await ledger.committedBetween({ team: 'web' }, DAY1, DAY1 + 24 * HOUR);
      assert.equal(c.usd, 8);
      assert.equal((await ledger.spendBetween({ team: 'web' }, DAY1, DAY1 + 24 * HOUR)).usd, 0, 'spendBetween still says what was spent');
      // The reserving run counts at its own spend: r1 asking again sees only r2's reservation.
      assert.equal((await ledger.committedBetween({ team: 'web' }, DAY1, DAY1 + 24 * HOUR, 'r1')).usd, 4);
      assert.equal((await ledger.committedBetween({ team: 'web' }, DAY0, DAY1)).usd, 0, 'not in the period of the request');
    });

    test('a reservation counts at max(spend, reserved) while in flight, at spend once waiting for a human or done', async () => {
      await ledger.upsertRun({ workflowId: 'r1', status: 'running', startedAt: DAY1 + 22 * HOUR, spend: { usd: 6, tokens: 10 } });
      await ledger.upsertRun({ workflowId: 'r2', status: 'running', startedAt: DAY1 + 22 * HOUR, spend: { usd: 1, tokens: 10 } });
      assert.equal((await ledger.committedBetween({ team: 'web' }, DAY1, DAY1 + 24 * HOUR)).usd, 10); // 6 (over its reservation) + 4
      await ledger.upsertRun({ workflowId: 'r2', status: 'awaiting_human' });
      assert.equal((await ledger.committedBetween({ team: 'web' }, DAY1, DAY1 + 24 * HOUR)).usd, 7);
      assert.equal(await reserve(ledger, 'r3'), false, '7 + 4 > 10');
      await ledger.upsertRun({ workflowId: 'r1', status: 'done', spend: { usd: 3, tokens: 10 } });
      assert.equal((await ledger.committedBetween({ team: 'web' }, DAY1, DAY1 + 24 * HOUR)).usd, 4);
      assert.equal(await reserve(ledger, 'r3'), true, '4 + 4 <= 10');
    });

    test('a run with no row yet gets one with its reservation (the recorder fills the rest)', async () => {
      assert.equal(await reserve(ledger, 'fresh', DAY1 + 23 * HOUR), false); // 3 + 1 + 4 (r3) committed, + 4 > 10
      const big = await ledger.reserveSpend<boolean>({ workflowId: 'fresh', repo: 'web', team: 'web', at: DAY1 + 23 * HOUR, periods: today, decide: () => ({ reserveUsd: 1, value: true }) });
      assert.equal(big, true);
      const d = await ledger.getRun('fresh');
      assert.equal(d?.run.repo, 'web');
      assert.equal(d?.run.team, 'web');
      assert.equal((await ledger.committedBetween({ team: 'web' }, DAY1, DAY1 + 24 * HOUR)).usd, 9);
    });
  });
}

suite('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-reserve-'));
  return { ledger: await openLedger({ stateDir: dir }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});
suite('PostgreSQL (PGlite)', async () => ({ ledger: await openPgliteLedger(), cleanup: () => undefined }));
