/**
 * The run ledger at 100k trace events (LEDGER_EVENTS), on SQLite (a temp file, WAL) and on
 * PostgreSQL (PGlite in-process): append throughput in batches of 200 (what the trace recorder
 * sends), full-text search latency for a rare and a common term, and `getRun` of a 1,000-event run.
 * Targets: append ≥ 10,000 events/s; search ≤ 50 ms median (SQLite).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLedger } from '../ledger/open.js';
import type { Ledger, TraceEventRow } from '../ledger/types.js';
import { openPgliteLedger } from '../test/helpers/pgliteLedger.js';
import { envInt, median, nowMs, printTable, printVerdict, Rng, type Row } from './lib.js';

const EVENTS = envInt('LEDGER_EVENTS', 100_000, 1000);
const PER_RUN = 1000;
const BATCH = 200;
const WORDS = ['npm', 'test', 'cannot', 'find', 'module', 'import', 'error', 'passed', 'failed', 'src', 'index', 'build', 'ok', 'write', 'file'];

function event(rng: Rng, run: number, seq: number): TraceEventRow {
  const words = Array.from({ length: 30 }, () => WORDS[Math.floor(rng.next() * WORDS.length)]!);
  // One event in 10,000 carries the rare error code.
  if (seq === 500 && run % 10 === 0) words.push('ENOENT');
  return { workflowId: `bench-${run}`, attempt: 1, seq, ts: 1_750_000_000_000 + run * 60_000 + seq, kind: seq % 3 === 0 ? 'command' : 'message', tool: 'Bash', text: words.join(' ') };
}

async function measure(name: string, ledger: Ledger): Promise<{ rows: Row[]; appendPerS: number; searchMs: number }> {
  const rng = new Rng(42);
  const runs = Math.ceil(EVENTS / PER_RUN);
  const batchMs: number[] = [];
  const t0 = nowMs();
  for (let r = 0; r < runs; r++) {
    await ledger.upsertRun({ workflowId: `bench-${r}`, repo: 'web', title: `run ${r}`, requester: 'bench', status: 'done' });
    for (let s = 0; s < PER_RUN; s += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, PER_RUN - s) }, (_, i) => event(rng, r, s + i));
      const t = nowMs();
      await ledger.appendEvents(batch);
      batchMs.push(nowMs() - t);
    }
  }
  const appendPerS = (runs * PER_RUN) / ((nowMs() - t0) / 1000);
  const timed = async (fn: () => Promise<unknown>, n = 20): Promise<number[]> => {
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = nowMs();
      await fn();
      xs.push(nowMs() - t);
    }
    return xs;
  };
  const rare = await timed(() => ledger.search('ENOENT', 20));
  const common = await timed(() => ledger.search('cannot find module', 20));
  const show = await timed(() => ledger.getRun('bench-7'), 10);
  const searchMs = median(rare);
  return {
    appendPerS,
    searchMs,
    rows: [
      { what: `${name}: append a batch of ${BATCH}`, samples: batchMs, unit: 'ms', target: '-' },
      { what: `${name}: search a rare term (${runs / 10} hits)`, samples: rare, unit: 'ms', target: '≤ 50 ms median', met: searchMs <= 50 },
      { what: `${name}: search a common phrase (top 20)`, samples: common, unit: 'ms', target: '-' },
      { what: `${name}: getRun (${PER_RUN} events)`, samples: show, unit: 'ms', target: '-' },
    ],
  };
}

const dir = mkdtempSync(join(tmpdir(), 'ns-ledger-bench-'));
try {
  const sqlite = await openLedger({ stateDir: dir });
  const a = await measure('SQLite', sqlite);
  await sqlite.close();
  const pg = await openPgliteLedger();
  const b = await measure('PGlite', pg);
  await pg.close();
  printTable(`ledger: ${EVENTS} trace events`, [...a.rows, ...b.rows]);
  console.log(`append throughput: SQLite ${Math.round(a.appendPerS)} events/s, PGlite ${Math.round(b.appendPerS)} events/s (target ≥ 10000 on SQLite)`);
  printVerdict(a.appendPerS >= 10_000 && a.searchMs <= 50, `SQLite append ${Math.round(a.appendPerS)}/s, search ${a.searchMs.toFixed(1)} ms median`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
