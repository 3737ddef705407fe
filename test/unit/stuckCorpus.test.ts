/**
 * The stuck-detection regression corpus: real Claude Code and Codex transcripts (recorded by
 * test/helpers/recordStuckCorpus.ts), replayed through the real parsers, the work-tree answers
 * recorded with them, and the detector, must be classified as labelled.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadCorpus, replay, type CorpusCase } from '../helpers/stuckCorpus.js';

const corpus = loadCorpus();
const byName = (name: string): CorpusCase => {
  const c = corpus.find((x) => x.name === name);
  assert.ok(c, `corpus case ${name}`);
  return c;
};

describe('stuck corpus: every transcript is classified as labelled', () => {
  test('the corpus holds healthy and stuck transcripts of both CLIs', () => {
    for (const agent of ['claude', 'codex'] as const) {
      for (const label of ['healthy', 'stuck'] as const) assert.ok(corpus.some((c) => c.meta.agent === agent && c.meta.label === label), `${agent} ${label}`);
    }
    for (const c of corpus) assert.equal(c.transcript.trimEnd().split('\n').length, c.meta.lineAtMs.length, `${c.name}: one read time per line`);
  });

  for (const c of corpus) {
    test(`${c.name} (${c.meta.label}${c.meta.rule ? `: ${c.meta.rule}` : ''}) — ${c.meta.description}`, async () => {
      const r = await replay(c);
      assert.equal(r.changesAsked, c.meta.changes.length, 'the work tree was checked after the same calls as when recorded');
      if (c.meta.label === 'healthy') assert.equal(r.verdict, undefined, `healthy, yet: ${r.verdict?.rule} — ${r.verdict?.message}`);
      else {
        assert.equal(r.verdict?.rule, c.meta.rule, `expected ${c.meta.rule}, got ${r.verdict?.rule ?? 'no verdict'}`);
        assert.ok(r.verdict && r.verdict.evidence.length > 0);
      }
    });
  }
});

describe('stuck corpus: what each healthy case guards against', () => {
  test('the sed fixes are what keeps the re-run test healthy: without the work-tree answers it is repeated_failing_call', async () => {
    for (const agent of ['claude', 'codex']) {
      const c = byName(`healthy.sed-fix-retest.${agent}`);
      assert.ok(c.meta.changes.some((x) => x.includes('calc.py')), 'the watcher saw sed change calc.py');
      const r = await replay({ ...c, meta: { ...c.meta, changes: c.meta.changes.map(() => []) } });
      assert.equal(r.verdict?.rule, 'repeated_failing_call', agent);
    }
    const f = byName('healthy.formatter-codemod.claude');
    assert.deepEqual(f.meta.changes.flat(), ['tools/fmt.go', 'calc.py', 'calc.py'], 'gofmt, perl -pi and sed changes were seen');
    assert.equal((await replay({ ...f, meta: { ...f.meta, changes: [] } })).verdict?.rule, 'repeated_failing_call');
  });

  test('the long test run is alive only while within toolCallSeconds', async () => {
    for (const agent of ['claude', 'codex']) {
      const c = byName(`healthy.long-test-run.${agent}`);
      const r = await replay({ ...c, meta: { ...c.meta, thresholds: { ...c.meta.thresholds, toolCallSeconds: 4 } } });
      assert.equal(r.verdict?.rule, 'silence', agent);
      assert.match(r.verdict.message, /^a tool call has been running for 4 s \(limit 4 s for one call\)$/);
    }
  });

  test('six reads then a fix: the fix is the eighth call after the failing run; reads counting would have fired', async () => {
    for (const agent of ['claude', 'codex']) {
      const c = byName(`healthy.six-reads-then-fix.${agent}`);
      const r = await replay({ ...c, meta: { ...c.meta, thresholds: { ...c.meta.thresholds, readOnlyCalls: 6 } } });
      assert.equal(r.verdict?.rule, 'no_progress', `${agent}: the six read-only calls are counted against readOnlyCalls`);
    }
  });
});
