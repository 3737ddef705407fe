/**
 * Worker upgrades: every recorded history of an earlier version of the `agentTask` workflow
 * replays on this version's code without a determinism error. A run waiting for days (an
 * escalation, an approval) is continued by the upgraded worker exactly like this: it replays the
 * history the old version wrote, then goes on. Changes to the workflow's commands are guarded
 * with `patched(...)` (workflows/agentTask.ts), and this test is what catches a change that is not.
 *
 * The histories (test/fixtures/histories/) were recorded with test/helpers/recordHistories.ts:
 * `v0-*` at commit 71c522b (before the patches `pass-before-budget-stop`, `atomic-delivery`,
 * `reply-only-when-asked`, `environment-phase`), `v1-*` at the version that introduced them,
 * `v2-*` at the version with the queue (admission, slot, spend reservation), the run ledger and
 * search attributes, replies during work, clarifying questions, the messages task queue and the
 * Linear session mirror, `v3-*` at ca61330 (host affinity, the reservation dropped with the slot),
 * before the cleanup went beside the teardown (`parallel-teardown`), `v4-*` with it, `v5-*` at
 * 0b6c17c (before the first attempt's agent was warmed beside the tests before, `agent-warm-start`),
 * `v6-*` at f48baa4 (with it; before `lean-admission` and `early-cleanup`), `v7-*` at b79d315
 * (with them; before `warm-validation`), `v8-*` at 1d75ece (with it; before `agent-warm-early`).
 * Before changing the workflow, record `v<N+1>` with the script.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import protos from '@temporalio/proto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { fixturePath, repoRoot } from '../helpers/paths.js';

/** The Temporal API's generated protobuf classes (a CommonJS module). */
const { temporal } = protos;

const noop = (): undefined => undefined;
/** The bundler's log, silenced. */
const quiet = { info: noop, warn: noop, error: noop, debug: noop, trace: noop, log: noop } as never;

describe('replay of earlier versions\' histories', { timeout: 120_000 }, () => {
  test('every recorded history replays on the current workflow code', async () => {
    const dir = fixturePath('histories');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.binpb')).sort();
    assert.ok(['v0-', 'v1-', 'v2-', 'v3-', 'v4-', 'v5-', 'v6-', 'v7-', 'v8-'].every((v) => files.some((f) => f.startsWith(v))), `histories of nine versions: ${files.join(', ')}`);
    const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet });
    for (const f of files) {
      const history = temporal.api.history.v1.History.decode(await readFile(`${dir}/${f}`));
      await assert.doesNotReject(Worker.runReplayHistory({ workflowBundle: bundle }, history, f), `${f} must replay`);
    }
  });

  test('the two versions took different paths (the patches are exercised, not only recorded)', async () => {
    const kinds = async (f: string) => temporal.api.history.v1.History.decode(await readFile(fixturePath('histories', f))).events.map((e) => e.eventType);
    assert.notDeepEqual(await kinds('v0-cancel-during-delivery.binpb'), await kinds('v1-cancel-during-delivery.binpb'));
    assert.notDeepEqual(await kinds('v0-passing-attempt-stopped-by-time.binpb'), await kinds('v1-passing-attempt-stopped-by-time.binpb'));
  });

  test('an incompatible change is caught: a workflow whose commands differ does not replay a recorded history', async () => {
    const history = temporal.api.history.v1.History.decode(await readFile(fixturePath('histories', 'v0-pr-at-once.binpb')));
    const bundle = await bundleWorkflowCode({ workflowsPath: join(repoRoot(), 'dist', 'test', 'helpers', 'unpatchedWorkflow.js'), logger: quiet });
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: bundle }, history, 'unpatched'), /[Nn]ondeterminism/);
  });
});
