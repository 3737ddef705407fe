/**
 * The run ledger: the same body against SQLite (a temp file, WAL) and PostgreSQL (PGlite, the
 * real engine in-process): writes, idempotent appends, list filters, spend with a run in flight,
 * full-text search over commands and errors, and migrations applied once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ledgerConfigSchema } from '../../ledger/config.js';
import { openLedger } from '../../ledger/open.js';
import { sqliteFtsQuery } from '../../ledger/sql.js';
import { LedgerError, type Ledger, type TraceEventRow } from '../../ledger/types.js';
import { openPgliteLedger } from '../helpers/pgliteLedger.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 5, 1, 22, 0, 0);

function ev(workflowId: string, attempt: number, seq: number, kind: TraceEventRow['kind'], text: string, extra: Partial<TraceEventRow> = {}): TraceEventRow {
  return { workflowId, attempt, seq, ts: T0 + attempt * HOUR + seq * 1000, kind, text, ...extra };
}

function ledgerSuite(name: string, open: () => Promise<{ ledger: Ledger; cleanup: () => void }>): void {
  describe(name, { timeout: 60_000 }, () => {
    let ledger: Ledger;
    let cleanup = (): void => undefined;
    before(async () => {
      ({ ledger, cleanup } = await open());
      // Three runs: two of team "web" (one done, one in flight), one of team "data".
      await ledger.upsertRun({
        workflowId: 'linear-a', originKind: 'linear', originLink: 'https://linear.app/acme/issue/ENG-1', repo: 'web', team: 'web',
        requester: 'ada', title: 'fix add()', priority: 2, createdAt: T0, status: 'queued', plan: { taskType: 'bug_fix', risk: 'low' },
      });
      await ledger.upsertRun({ workflowId: 'linear-a', status: 'running', startedAt: T0 + HOUR, agent: 'claude-code', model: 'claude-sonnet-4-5' });
      await ledger.recordAttempt({ workflowId: 'linear-a', attempt: 1, startedAt: T0 + HOUR, spend: { usd: 0, tokens: 0 } });
      await ledger.recordAttempt({
        workflowId: 'linear-a', attempt: 1, startedAt: T0 + HOUR, endedAt: T0 + 2 * HOUR, end: 'agent_exited', agent: 'claude-code',
        spend: { usd: 0.5, tokens: 5000 }, filesChanged: ['calc.py'], diffStat: ' calc.py | 2 +-',
      });
      await ledger.recordValidation({
        workflowId: 'linear-a', attempt: 1, ts: T0 + 2 * HOUR, passed: true, exitCode: 0, command: 'python3 -m unittest -v',
        durationMs: 812, failingTests: [], counts: { passed: 3, failed: 0, skipped: 0, total: 3 }, outputTail: 'OK',
      });
      await ledger.upsertRun({ workflowId: 'linear-a', status: 'done', outcome: 'pr_opened', prUrl: 'https://github.com/acme/web/pull/1', spend: { usd: 0.5, tokens: 5000 } });

      await ledger.upsertRun({ workflowId: 'slack-C1-1', originKind: 'slack', repo: 'web', team: 'web', requester: 'U1', title: 'add tests', createdAt: T0 + 2 * HOUR });
      await ledger.upsertRun({ workflowId: 'slack-C1-1', status: 'running', startedAt: T0 + 3 * HOUR, spend: { usd: 1.25, tokens: 9000 } });

      await ledger.upsertRun({ workflowId: 'cli-x', repo: 'etl', team: 'data', requester: 'bob', title: 'bump deps', createdAt: T0 + 4 * HOUR, status: 'awaiting_human', spend: { usd: 2, tokens: 100 } });
    });
    after(async () => {
      await ledger?.close();
      cleanup();
    });

    test('a run reads back with its attempts, validation and fields merged across writes', async () => {
      const d = await ledger.getRun('linear-a');
      assert.ok(d);
      assert.equal(d.run.status, 'done');
      assert.equal(d.run.outcome, 'pr_opened');
      assert.equal(d.run.repo, 'web');
      assert.equal(d.run.priority, 2);
      assert.equal(d.run.model, 'claude-sonnet-4-5', 'a later patch keeps fields it does not name');
      assert.deepEqual(d.run.plan, { taskType: 'bug_fix', risk: 'low' });
      assert.equal(d.run.startedAt, T0 + HOUR);
      assert.ok(d.run.finishedAt && d.run.finishedAt >= d.run.startedAt!, 'done stamps finishedAt');
      assert.equal(d.run.attempts, 1);
      assert.deepEqual(d.run.spend, { usd: 0.5, tokens: 5000 });
      assert.equal(d.attempts.length, 1, 'the attempt written twice is one row');
      assert.equal(d.attempts[0]?.end, 'agent_exited');
      assert.deepEqual(d.attempts[0]?.filesChanged, ['calc.py']);
      assert.deepEqual(d.validations[0]?.counts, { passed: 3, failed: 0, skipped: 0, total: 3 });
      assert.equal(d.validations[0]?.passed, true);
      assert.equal(await ledger.getRun('nope'), undefined);
    });

    test('appends are idempotent by (workflowId, attempt, seq) and come back in order', async () => {
      const batch = [
        ev('linear-a', 1, 0, 'command', 'cat /workspace/missing.txt\ncat: /workspace/missing.txt: ENOENT: no such file or directory', { tool: 'Bash', isError: true, exitCode: 1 }),
        ev('linear-a', 1, 1, 'edit', 'calc.py', { tool: 'Edit' }),
        ev('linear-a', 1, 2, 'message', 'The add function subtracted; fixed it.'),
      ];
      assert.equal(await ledger.appendEvents(batch), 3);
      // A retried activity sends the same batch plus one more: only the new one is added.
      assert.equal(await ledger.appendEvents([...batch, ev('linear-a', 1, 3, 'error', 'TypeError: unsupported operand type(s) for +')]), 1);
      assert.equal(await ledger.appendEvents([ev('linear-a', 0, 0, 'phase', 'scoping')]), 1);
      const d = await ledger.getRun('linear-a');
      assert.deepEqual(d?.events.map((e) => `${e.attempt}.${e.seq}:${e.kind}`), ['0.0:phase', '1.0:command', '1.1:edit', '1.2:message', '1.3:error']);
      assert.equal(d?.events[1]?.exitCode, 1);
      assert.equal(d?.events[1]?.isError, true);
      assert.equal(d?.events[1]?.tool, 'Bash');
      // A big batch crosses the insert chunk size.
      const many = Array.from({ length: 1203 }, (_, i) => ev('cli-x', 1, i, 'tool_call', `Read file_${i}.ts`, { tool: 'Read' }));
      assert.equal(await ledger.appendEvents(many), 1203);
      assert.equal(await ledger.appendEvents(many), 0);
    });

    test('search finds a command and an error, with run, attempt and snippet', async () => {
      const hits = await ledger.search('ENOENT');
      assert.equal(hits.length, 1);
      assert.equal(hits[0]?.workflowId, 'linear-a');
      assert.equal(hits[0]?.attempt, 1);
      assert.equal(hits[0]?.kind, 'command');
      assert.equal(hits[0]?.repo, 'web');
      assert.match(hits[0]?.snippet ?? '', /\[ENOENT\]/);
      const err = await ledger.search('TypeError operand');
      assert.deepEqual(err.map((h) => [h.workflowId, h.kind]), [['linear-a', 'error']]);
      assert.equal((await ledger.search('"no such file"')).length, 1, 'a quoted phrase');
      assert.equal((await ledger.search('"file such no"')).length, 0, 'a phrase is in order');
      assert.equal((await ledger.search('zebra')).length, 0);
      assert.deepEqual(await ledger.search('   '), []);
      // Query syntax in the text is text: no error.
      assert.ok(Array.isArray(await ledger.search('missing.txt: (ENOENT) -x OR " NEAR(')));
      assert.equal((await ledger.search('Read', 5)).length, 5, 'limit');
    });

    test('listRuns filters by repo, team, status and creation time, newest first', async () => {
      const ids = async (f: Parameters<Ledger['listRuns']>[0]) => (await ledger.listRuns(f)).map((r) => r.workflowId);
      assert.deepEqual(await ids({}), ['cli-x', 'slack-C1-1', 'linear-a']);
      assert.deepEqual(await ids({ repo: 'web' }), ['slack-C1-1', 'linear-a']);
      assert.deepEqual(await ids({ team: 'data' }), ['cli-x']);
      assert.deepEqual(await ids({ status: 'running' }), ['slack-C1-1']);
      assert.deepEqual(await ids({ status: ['done', 'awaiting_human'] }), ['cli-x', 'linear-a']);
      assert.deepEqual(await ids({ since: T0 + HOUR }), ['cli-x', 'slack-C1-1']);
      assert.deepEqual(await ids({ since: T0, until: T0 + 3 * HOUR, repo: 'web' }), ['slack-C1-1', 'linear-a']);
      assert.deepEqual(await ids({ limit: 1 }), ['cli-x']);
      assert.deepEqual(await ids({ repo: 'nope' }), []);
    });

    test('spendBetween counts runs in flight at their latest spend, by team and repo and period', async () => {
      const night = await ledger.spendBetween({ team: 'web' }, T0, T0 + 12 * HOUR);
      assert.equal(night.runs, 2);
      assert.equal(night.inFlight, 1);
      assert.ok(Math.abs(night.usd - 1.75) < 1e-9, `usd ${night.usd}`);
      assert.equal(night.tokens, 14_000);
      await ledger.upsertRun({ workflowId: 'slack-C1-1', spend: { usd: 1.5, tokens: 11_000 } });
      assert.ok(Math.abs((await ledger.spendBetween({ repo: 'web' }, T0, T0 + 12 * HOUR)).usd - 2) < 1e-9, 'the newer spend replaces the older');
      // A run counts in the period of its start: the in-flight one started at T0+3h.
      assert.equal((await ledger.spendBetween({ team: 'web' }, T0 + 2 * HOUR, T0 + 12 * HOUR)).runs, 1);
      assert.deepEqual(await ledger.spendBetween({ team: 'web' }, T0 - 10 * HOUR, T0), { usd: 0, tokens: 0, runs: 0, inFlight: 0 });
      const all = await ledger.spendBetween({}, T0, T0 + 12 * HOUR);
      assert.equal(all.runs, 3);
      const byTeam = await ledger.spendByGroup('team', T0, T0 + 12 * HOUR);
      assert.deepEqual(byTeam.map((g) => [g.key, g.runs, g.inFlight]), [['data', 1, 1], ['web', 2, 1]]);
    });

    test('a closed ledger rejects with a typed error', async () => {
      const { ledger: other, cleanup: c } = await open();
      await other.close();
      await assert.rejects(other.listRuns(), (e: unknown) => e instanceof LedgerError && e.code === 'closed');
      assert.throws(() => void other.appendEvents([ev('', 1, 0, 'message', 'x')]), (e: unknown) => e instanceof LedgerError && e.code === 'bad_input');
      c();
    });
  });
}

const dirs: string[] = [];
ledgerSuite('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-ledger-'));
  dirs.push(dir);
  return { ledger: await openLedger({ stateDir: dir }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});
ledgerSuite('PostgreSQL (PGlite)', async () => ({ ledger: await openPgliteLedger(), cleanup: () => undefined }));

test('SQLite: a second open migrates nothing and sees the first one\'s writes (WAL, two connections)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-ledger-'));
  try {
    const a = await openLedger({ stateDir: dir });
    const b = await openLedger({ stateDir: dir });
    await a.upsertRun({ workflowId: 'cli-1', repo: 'web', title: 't', requester: 'me' });
    assert.deepEqual((await b.listRuns()).map((r) => r.workflowId), ['cli-1']);
    await Promise.all([a.close(), b.close()]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the FTS5 query quotes every word, so punctuation is never query syntax', () => {
  assert.equal(sqliteFtsQuery('ENOENT'), '"ENOENT"');
  assert.equal(sqliteFtsQuery(' "no such" file -x '), '"no such" "file" "-x"');
  assert.equal(sqliteFtsQuery('a"b'), '"a""b"');
});

test('ledger config: a postgres URL without a password, or nothing', () => {
  assert.deepEqual(ledgerConfigSchema.parse(undefined), {});
  assert.equal(ledgerConfigSchema.parse({ url: 'postgres://ns@db:5432/nightshift' }).url, 'postgres://ns@db:5432/nightshift');
  assert.equal(ledgerConfigSchema.safeParse({ url: 'postgres://ns:hunter22@db/nightshift' }).success, false);
  assert.equal(ledgerConfigSchema.safeParse({ url: 'mysql://db' }).success, false);
});
