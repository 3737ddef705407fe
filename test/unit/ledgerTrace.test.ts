/**
 * Agent events as trace rows, and the streaming trace recorder: kinds, redaction, clipping,
 * a retried try's numbering, and a ledger failure kept for the next flush (never thrown).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SEQ_PER_TRY, TRACE_TEXT_CHARS, TraceRecorder, traceRowsOf } from '../../activities/ledger.js';
import { openLedger } from '../../ledger/open.js';
import type { Ledger, TraceEventRow } from '../../ledger/types.js';
import type { AgentEvent } from '../../workflows/types.js';
import type { Logger } from '../../worker/logger.js';
import { registerSecret } from '../../worker/redact.js';

const secret = `ghp_${randomUUID().replace(/-/g, '')}`;

test('agent events become command / edit / tool_call / message / error rows; init and usage are dropped; secrets redacted; long output clipped', () => {
  const unregister = registerSecret(secret);
  try {
    const events: AgentEvent[] = [
      { kind: 'init', at: 1, model: 'm' },
      { kind: 'tool_call', at: 2, id: 'a', name: 'exec_command', input: { cmd: ['bash', '-lc', 'npm test'] }, result: `token ${secret}\n${'x'.repeat(10_000)}`, isError: false, exitCode: 1 },
      { kind: 'tool_call', at: 3, id: 'b', name: 'apply_patch', input: { patch: '*** a.ts' }, result: 'ok', isError: false },
      { kind: 'tool_call', at: 4, id: 'c', name: 'Read', input: { file_path: '/workspace/a.ts' }, result: 'const a = 1', isError: false },
      { kind: 'usage', at: 5, inputTokens: 1, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0 },
      { kind: 'file_change', at: 6, paths: ['a.ts', 'b.ts'] },
      { kind: 'final', at: 7, text: 'turn failed', isError: true, subtype: 'turn.failed', permissionDenials: 0 },
    ];
    const rows = traceRowsOf('w', 2, events, 10);
    assert.deepEqual(rows.map((r) => [r.seq, r.kind, r.tool ?? '']), [[10, 'command', 'exec_command'], [11, 'edit', 'apply_patch'], [12, 'tool_call', 'Read'], [13, 'edit', ''], [14, 'error', '']]);
    const cmd = rows[0]!;
    assert.equal(cmd.isError, true, 'a non-zero exit is a failed call');
    assert.equal(cmd.exitCode, 1);
    assert.match(cmd.text, /^\$ npm test\ntoken \[redacted\]/);
    assert.ok(!cmd.text.includes(secret));
    assert.ok(cmd.text.length <= TRACE_TEXT_CHARS, `clipped: ${cmd.text.length}`);
    assert.equal(rows[4]?.text, 'turn.failed: turn failed');
  } finally {
    unregister();
  }
});

test('TraceRecorder: flushes at maxBatch and on close, numbers a retried try apart, keeps a failed batch for the next flush', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-trace-'));
  const ledger = await openLedger({ stateDir: dir });
  try {
    const msg = (i: number): AgentEvent => ({ kind: 'message', at: i, text: `step ${i}` });
    await ledger.upsertRun({ workflowId: 'w', repo: 'web' });
    const rec = new TraceRecorder(ledger, { workflowId: 'w', attempt: 1 }, { flushMs: 60_000, maxBatch: 3 });
    for (let i = 0; i < 4; i++) rec.add(msg(i));
    await rec.flush();
    await rec.close();
    const retry = new TraceRecorder(ledger, { workflowId: 'w', attempt: 1, activityTry: 2 }, { flushMs: 60_000 });
    retry.add(msg(9));
    await retry.close();
    const seqs = (await ledger.getRun('w'))?.events.map((e) => e.seq);
    assert.deepEqual(seqs, [0, 1, 2, 3, SEQ_PER_TRY]);

    // A ledger that fails once: nothing thrown, the batch written at the next flush.
    let fail = true;
    const flaky: Ledger = Object.create(ledger) as Ledger;
    flaky.appendEvents = async (events: TraceEventRow[]) => {
      if (fail) {
        fail = false;
        throw new Error('disk full');
      }
      return ledger.appendEvents(events);
    };
    const warnings: unknown[] = [];
    const logger = { warn: (o: unknown) => warnings.push(o) } as unknown as Logger;
    await ledger.upsertRun({ workflowId: 'w2', repo: 'web' });
    const r2 = new TraceRecorder(flaky, { workflowId: 'w2', attempt: 1 }, { flushMs: 60_000, logger });
    r2.add(msg(1));
    await r2.flush();
    assert.equal(warnings.length, 1);
    assert.equal((await ledger.getRun('w2'))?.events.length ?? 0, 0);
    r2.add(msg(2));
    await r2.close();
    assert.deepEqual((await ledger.getRun('w2'))?.events.map((e) => e.text), ['step 1', 'step 2']);
  } finally {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
