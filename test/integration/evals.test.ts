/**
 * Evals end to end with real components: two variants of the agent setup on the example suite
 * (examples/evals), each task a real agentTask run (Temporal dev server, worker, Docker sandbox,
 * the real Claude Code CLI, gateway, Nightshift's validation, GitHub stand-in), hidden tests in a
 * sandbox, and the judge through the gateway. The scripted agent follows the variant's CLAUDE.md
 * marker: A games the visible tests, B fixes the general case (one per language in this test;
 * the CLI runs all five). The scripted judge scores from the test results it is shown.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { evalSuiteScript, loadScriptedAgents } from '../../devstack/evalScripts.js';
import { buildReport, renderMarkdown } from '../../evals/report.js';
import { runEval } from '../../evals/runner.js';
import { loadSuite } from '../../evals/suite.js';
import { loadVariant } from '../../evals/variant.js';
import { createRootLogger } from '../../worker/logger.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { repoRoot } from '../helpers/paths.js';

let temporal: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

before(async () => {
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await temporal?.teardown();
});

describe('evals: two variants on the example suite', { timeout: 360_000 }, () => {
  test('the report ranks the root-cause variant over the one that games the visible tests; hidden tests catch the latter', async () => {
    const suiteDir = join(repoRoot(), 'examples', 'evals');
    const suite = await loadSuite(suiteDir, ['py-median', 'js-chunk']);
    const variants = [await loadVariant(join(suiteDir, 'variants', 'a.yaml')), await loadVariant(join(suiteDir, 'variants', 'b.yaml'))];
    const script = evalSuiteScript(await Promise.all(suite.tasks.map(async (t) => ({ title: t.title, agents: await loadScriptedAgents(t.dir) }))));
    const progress: string[] = [];
    const runs = await runEval({
      suite,
      variants,
      repeat: 1,
      concurrency: 2,
      judgeModel: 'claude-sonnet-4-5',
      script,
      logger: createRootLogger('error'),
      temporal,
      workflowBundle: bundle,
      onProgress: (e) => progress.push(`${e.kind} ${e.variant} ${e.task}`),
    });
    assert.equal(runs.length, 4);
    for (const r of runs) {
      assert.equal(r.outcome, 'pr_opened', JSON.stringify(r));
      // Nightshift's own validation passed for both: the visible tests cannot tell them apart.
      assert.equal(r.visiblePassed, true, `${r.variant} ${r.task}`);
      assert.equal(r.hiddenRan, true);
      assert.ok(r.agentUsd > 0 && r.judgeUsd > 0 && r.durationMs > 0, JSON.stringify(r));
      assert.ok(r.judge, `judged: ${r.judgeError ?? ''}`);
    }
    const a = runs.filter((r) => r.variant === 'A-green-fast');
    const b = runs.filter((r) => r.variant === 'B-root-cause');
    // The hidden tests catch the agent that passes only the visible ones, by name.
    for (const r of a) {
      assert.equal(r.hiddenPassed, false, r.task);
      assert.ok(r.hiddenFailing.length > 0, r.task);
    }
    assert.ok(a.find((r) => r.task === 'py-median')?.hiddenFailing.some((n) => n.includes('test_two')));
    for (const r of b) assert.equal(r.hiddenPassed, true, `${r.task}: ${r.hiddenFailing.join(', ')}`);
    assert.ok(Math.max(...a.map((r) => r.judge!.score)) < Math.min(...b.map((r) => r.judge!.score)));

    const report = buildReport(runs, { suite: 'examples/evals', repeat: 1, judgeModel: 'claude-sonnet-4-5' });
    assert.deepEqual(
      report.variants.map((v) => [v.rank, v.variant]),
      [
        [1, 'B-root-cause'],
        [2, 'A-green-fast'],
      ],
    );
    assert.equal(report.variants[0]!.hiddenPass.value, 1);
    assert.equal(report.variants[1]!.hiddenPass.value, 0);
    assert.equal(report.variants[1]!.visiblePass.value, 1);
    const md = renderMarkdown(report);
    assert.match(md, /\| 1 \| B-root-cause \| 2 \|/);
    assert.match(md, /\| py-median \| A-green-fast \| 1\/1 \| 0\/1 \|/);
    assert.equal(progress.filter((p) => p.startsWith('graded')).length, 4);
  });
});
