/** The eval harness's pure parts: suite and variant loading, stats, the judge's answer, the report. */
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { evalSuiteScript, scriptedVerdict } from '../../devstack/evalScripts.js';
import { EvalError } from '../../evals/errors.js';
import { assertNoLinkOnPath } from '../../evals/hidden.js';
import { judgePrompt, parseVerdict } from '../../evals/judge.js';
import { buildReport, renderMarkdown } from '../../evals/report.js';
import type { EvalRunResult } from '../../evals/runner.js';
import { bootstrapMean, wilson } from '../../evals/stats.js';
import { loadSuite } from '../../evals/suite.js';
import { deepMerge, variantFrom } from '../../evals/variant.js';
import { repoRoot } from '../helpers/paths.js';

describe('eval suites', () => {
  test('the example suite: five tasks across two languages, each with a repo, hidden tests and judge notes', async () => {
    const suite = await loadSuite(join(repoRoot(), 'examples', 'evals'));
    assert.equal(suite.tasks.length, 5);
    assert.deepEqual([...new Set(suite.tasks.map((t) => t.language))].sort(), ['javascript', 'python']);
    for (const t of suite.tasks) {
      assert.ok(t.hidden.testsDir, t.name);
      assert.ok(t.judgeNotes.trim(), t.name);
      assert.equal(t.repo.kind, 'dir');
      assert.ok(t.title.length > 5 && !t.title.startsWith('#'), t.title);
    }
    assert.equal(new Set(suite.tasks.map((t) => t.title)).size, 5, 'titles are unique (the scripted model picks a task by its title)');
  });

  test('a malformed task.toml is refused, naming the file and the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evals-unit-'));
    try {
      await mkdir(join(dir, 't1', 'repo'), { recursive: true });
      await writeFile(join(dir, 't1', 'instruction.md'), '# Do it\nthing');
      await writeFile(join(dir, 't1', 'task.toml'), '[metadata]\nlanguage = "python"\n[repo]\npath = "repo"\n[verifier]\ncommand = "true"\n');
      await assert.rejects(loadSuite(dir), (e: unknown) => e instanceof EvalError && e.code === 'SUITE_INVALID' && /repo\.test_command/.test(e.message));
      await writeFile(join(dir, 't1', 'task.toml'), '[metadata\n');
      await assert.rejects(loadSuite(dir), (e: unknown) => e instanceof EvalError && e.code === 'SUITE_INVALID' && /not valid TOML \(line 1/.test(e.message));
      await writeFile(join(dir, 't1', 'task.toml'), '[metadata]\nlanguage = "python"\n[repo]\nbundle = "x.bundle"\ntest_command = "t"\n[verifier]\ncommand = "true"\nhidden_dir = "../out"\n');
      await assert.rejects(loadSuite(dir), (e: unknown) => e instanceof EvalError && /bundle` needs `commit/.test(e.message) && /verifier\.hidden_dir/.test(e.message));
      await assert.rejects(loadSuite(dir, ['nope']), (e: unknown) => e instanceof EvalError && /no task named nope/.test(e.message));
      // A snapshot that is a link out of the task folder (to the operator's files) is refused.
      await rm(join(dir, 't1', 'repo'), { recursive: true });
      await symlink(tmpdir(), join(dir, 't1', 'repo'));
      await writeFile(join(dir, 't1', 'task.toml'), '[metadata]\nlanguage = "python"\n[repo]\npath = "repo"\ntest_command = "t"\n[verifier]\ncommand = "true"\n');
      await assert.rejects(loadSuite(dir), (e: unknown) => e instanceof EvalError && e.code === 'SUITE_INVALID' && /leads out of the task folder/.test(e.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('variants', () => {
  test('eval keys apart, every other key a configuration overlay', () => {
    const v = variantFrom({ name: 'x', claudeMd: 'hi', budget: { usd: 1 }, routing: { rules: [] }, stuck: { stallSeconds: 5 } }, 'file');
    assert.equal(v.name, 'x');
    assert.equal(v.claudeMd, 'hi');
    assert.deepEqual(v.budget, { usd: 1 });
    assert.deepEqual(v.config, { routing: { rules: [] }, stuck: { stallSeconds: 5 } });
    assert.equal(variantFrom(null, 'baseline').name, 'baseline');
    assert.throws(() => variantFrom({ budget: { dollars: 1 } }, 'f'), (e: unknown) => e instanceof EvalError && e.code === 'VARIANT_INVALID' && /budget/.test(e.message));
    assert.throws(() => variantFrom({ agent: 'gpt' }, 'f'), (e: unknown) => e instanceof EvalError && /agent/.test(e.message));
  });

  test('a shared variant cannot reach the operator\'s settings: the gateway (where the model key goes), environments, platforms, or a repository\'s URL', () => {
    for (const bad of [
      { gateway: { upstreams: { anthropic: 'https://evil.example' } } },
      { environments: { caBundle: '/root/.ssh/id_rsa' } },
      { sandbox: { network: 'host' } },
      { github: { apiUrl: 'https://evil.example' } },
      { repo: { url: 'https://evil.example/x.git' } },
      { repo: { environment: { dockerfile: 'Dockerfile' } } },
    ]) {
      assert.throws(() => variantFrom(bad, 'f'), (e: unknown) => e instanceof EvalError && e.code === 'VARIANT_INVALID', JSON.stringify(bad));
    }
    assert.deepEqual(variantFrom({ repo: { maxAttempts: 2 }, models: { tiers: {} } }, 'f').repo, { maxAttempts: 2 });
  });

  test('deepMerge merges objects key by key and replaces arrays and scalars', () => {
    const base = { a: { b: 1, c: [1, 2] }, d: 'x' };
    deepMerge(base, { a: { c: [3] }, d: 'y', e: { f: 1 } });
    assert.deepEqual(base, { a: { b: 1, c: [3] }, d: 'y', e: { f: 1 } });
  });
});

describe('stats', () => {
  test('Wilson interval: known values', () => {
    const w = wilson(0, 1);
    assert.equal(w.value, 0);
    assert.ok(Math.abs(w.high - 0.7935) < 1e-3, String(w.high));
    const h = wilson(5, 10);
    assert.ok(Math.abs(h.low - 0.2366) < 1e-3 && Math.abs(h.high - 0.7634) < 1e-3, JSON.stringify(h));
    assert.deepEqual(wilson(0, 0), { value: 0, low: 0, high: 1, n: 0 });
  });

  test('bootstrap mean: the mean, an interval inside the range, the same every time', () => {
    const xs = [1, 2, 3, 4, 10];
    const e = bootstrapMean(xs);
    assert.equal(e.value, 4);
    assert.ok(e.low >= 1 && e.low < 4 && e.high > 4 && e.high <= 10, JSON.stringify(e));
    assert.deepEqual(bootstrapMean(xs), e);
    assert.deepEqual(bootstrapMean([3]), { value: 3, low: 3, high: 3, n: 1 });
  });
});

describe('the judge', () => {
  test("its answer is validated: a score 0-10 and reasons", () => {
    assert.deepEqual(parseVerdict('Here: {"score": 7, "reasons": ["ok"]}'), { score: 7, reasons: ['ok'] });
    assert.throws(() => parseVerdict('{"score": 11, "reasons": ["x"]}'), (e: unknown) => e instanceof EvalError && e.code === 'JUDGE_FAILED' && /score/.test(e.message));
    assert.throws(() => parseVerdict('no json'), (e: unknown) => e instanceof EvalError && e.code === 'JUDGE_FAILED');
    assert.throws(() => parseVerdict('{"score": 5}'), (e: unknown) => e instanceof EvalError && /reasons/.test(e.message));
  });

  test('the scripted judge scores from the test results in the prompt', () => {
    const prompt = (v: boolean, h: boolean, diff = '+x') =>
      judgePrompt({ title: 't', instruction: 'i', notes: 'n', diff, visible: { ran: true, passed: v, summary: '' }, hidden: { ran: true, passed: h, summary: '' } });
    assert.equal(scriptedVerdict(prompt(true, true)).score, 9);
    assert.equal(scriptedVerdict(prompt(true, false)).score, 3);
    assert.equal(scriptedVerdict(prompt(false, false)).score, 1);
    assert.equal(scriptedVerdict(prompt(true, true, '')).score, 0);
  });

  test('the scripted agent follows the marker of the request, per task', () => {
    const script = evalSuiteScript([{ title: 'Fix X', agents: { good: { steps: [{ bash: 'echo good' }], final: 'done' } } }]);
    const ctx = (text: string) => ({ turn: 0, protocol: 'anthropic' as const, sideRequest: false, request: { messages: [{ role: 'user', content: text }] } });
    assert.deepEqual(script(ctx('Task: Fix X\neval-script: good')), { bash: 'echo good' });
    assert.match(String((script(ctx('Task: Fix X\neval-script: bad')) as { text: string }).text), /No scripted behaviour/);
    assert.deepEqual(script({ ...ctx('Task: Fix X eval-script: good'), turn: 1 }), { text: 'done' });
  });
});

describe('report', () => {
  const run = (variant: string, task: string, visible: boolean, hidden: boolean, score: number, usd = 0.01): EvalRunResult => ({
    variant, task, repeat: 1, workflowId: `w-${variant}-${task}`, outcome: 'pr_opened', visiblePassed: visible, hiddenPassed: hidden, hiddenRan: true, hiddenFailing: [],
    judge: { score, reasons: ['r'] }, agentUsd: usd, tokens: 100, judgeUsd: 0.001, durationMs: 1000, attempts: 1, gates: [],
  });

  test('ranks by hidden pass rate, then judge mean; per-task rows and Markdown', () => {
    const runs = [run('A', 't1', true, false, 3), run('A', 't2', true, true, 8), run('B', 't1', true, true, 9), run('B', 't2', true, true, 9), run('C', 't1', true, true, 6), run('C', 't2', true, true, 6)];
    const r = buildReport(runs, { suite: 's', repeat: 1, judgeModel: 'm', now: new Date(0) });
    assert.deepEqual(r.variants.map((v) => v.variant), ['B', 'C', 'A']);
    assert.equal(r.variants[2]!.hiddenPass.value, 0.5);
    assert.ok(Math.abs(r.variants[0]!.totalUsd - 0.022) < 1e-9);
    assert.equal(r.tasks.length, 6);
    const md = renderMarkdown(r);
    assert.match(md, /\| 1 \| B \| 2 \| 100% \[34–100\] \| 100% \[34–100\] \| 9\.0 \[9\.0–9\.0\]/);
    assert.match(md, /\| t1 \| A \| 1\/1 \| 0\/1 \| 3\.0 \|/);
  });
});

describe('hidden tests', () => {
  test('a symbolic link the agent committed on the way to hidden_dir is refused (the host would delete and write through it)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'evals-hidden-'));
    try {
      await mkdir(join(dir, 'tree'));
      await mkdir(join(dir, 'outside'));
      await symlink(join(dir, 'outside'), join(dir, 'tree', 'tests'));
      await assert.rejects(assertNoLinkOnPath(join(dir, 'tree'), 'tests/hidden'), (e: unknown) => e instanceof EvalError && e.code === 'EVAL_INFRA' && /symbolic link at tests/.test(e.message));
      await assertNoLinkOnPath(join(dir, 'tree'), 'hidden_tests');
      await mkdir(join(dir, 'tree', 'spec'));
      await assertNoLinkOnPath(join(dir, 'tree'), 'spec/hidden');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
