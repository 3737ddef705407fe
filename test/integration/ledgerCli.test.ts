/**
 * The run ledger end to end: a workflow on the real Temporal dev server writes a run through the
 * ledger activities (its agent events through `recordTraceFromAttempt`); `nightshift runs
 * list|show|search` read it from another process while the worker holds the ledger open (WAL);
 * the workflow execution is deleted and the trace survives it. A secret in an agent's output
 * never reaches the ledger.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createLedgerActivities, recordTraceFromAttempt } from '../../activities/ledger.js';
import { openLedger } from '../../ledger/open.js';
import type { Ledger, RunDetail, SearchHit } from '../../ledger/types.js';
import type { AgentEvent } from '../../workflows/types.js';
import { registerSecret } from '../../worker/redact.js';
import { startDevServer } from '../../worker/temporal.js';
import type { LedgerTestActivities } from '../helpers/ledgerWorkflow.js';
import { repoRoot } from '../helpers/paths.js';

const exec = promisify(execFile);
const CLI = join(repoRoot(), 'dist', 'worker', 'cli.js');
const WORKFLOW = fileURLToPath(new URL('../helpers/ledgerWorkflow.js', import.meta.url));
const SECRET = `sk-ant-test-${randomUUID()}`;

let env: TestWorkflowEnvironment | undefined;
let ledger: Ledger | undefined;
let dir: string;
let configFile: string;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [CLI, '--config', configFile, ...args], { timeout: 60_000, maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** What the agent did in the attempt, as the stream parsers normalize it. */
function agentEvents(t: number): AgentEvent[] {
  return [
    { kind: 'init', at: t, model: 'claude-sonnet-4-5' },
    { kind: 'message', at: t + 1, text: 'Let me look at the failing test first.' },
    { kind: 'tool_call', at: t + 2, id: 'c1', name: 'Bash', input: { command: 'cat calc_old.py' }, result: 'cat: calc_old.py: No such file or directory (ENOENT)', isError: true, exitCode: 1 },
    { kind: 'tool_call', at: t + 3, id: 'c2', name: 'Bash', input: { command: `env | grep KEY` }, result: `ANTHROPIC_API_KEY=${SECRET}`, isError: false, exitCode: 0 },
    { kind: 'tool_call', at: t + 4, id: 'c3', name: 'Edit', input: { file_path: '/workspace/calc.py', old_string: 'a - b', new_string: 'a + b' }, result: 'ok', isError: false },
    { kind: 'usage', at: t + 5, inputTokens: 6000, outputTokens: 400, cacheReadTokens: 0, cacheWriteTokens: 0 },
    { kind: 'tool_call', at: t + 6, id: 'c4', name: 'Bash', input: { command: 'python3 -m unittest -v' }, result: 'AssertionError: 1 != 3\nFAILED (failures=1)', isError: false, exitCode: 1 },
    { kind: 'final', at: t + 7, text: 'Fixed add().', isError: false, subtype: 'success', permissionDenials: 0 },
  ];
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nightshift-ledgercli-'));
  configFile = join(dir, 'nightshift.config.yaml');
  await writeFile(
    configFile,
    `stateDir: ${join(dir, 'state')}\ngateway: { prices: { claude-sonnet-4-5: { input: 3, output: 15 } } }\nrepos:\n  calculator:\n    url: /tmp/none\n    github: acme/calculator\n    testCommand: python3 -m unittest\n    budget: { minutes: 10, tokens: 100000, usd: 1 }\n`,
  );
  registerSecret(SECRET);
  env = await startDevServer({});
  ledger = await openLedger({ stateDir: join(dir, 'state') });
});
after(async () => {
  await ledger?.close().catch(() => undefined);
  await env?.teardown().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('nightshift runs against a ledger written by the activities', { timeout: 180_000 }, () => {
  const workflowId = `cli-${randomUUID()}`;

  test('a workflow writes its run; list, show and search read it from another process', async () => {
    const l = ledger!;
    const activities: LedgerTestActivities = {
      ...createLedgerActivities(l),
      fakeAttempt: ({ workflowId: id, attempt }) => recordTraceFromAttempt(l, { workflowId: id, attempt, events: agentEvents(Date.now()) }),
    };
    const taskQueue = `ledger-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env!.nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: WORKFLOW }),
      activities,
    });
    await worker.runUntil(
      env!.client.workflow.execute('ledgerTrace', { taskQueue, workflowId, args: [{ repo: 'calculator', title: 'add() returns the wrong result', requester: 'ada' }] }),
    );

    const list = await cli('runs', 'list', '--repo', 'calculator', '--since', '1h');
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`${workflowId}\\s+done\\s+pr_opened\\s+calculator\\s+core`));
    assert.match(list.stdout, /1 run\(s\), \$0\.0240/);
    assert.match((await cli('runs', 'list', '--status', 'running')).stdout, /^no runs$/m);
    const bad = await cli('runs', 'list', '--since', 'yesterday');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /expected a duration/);

    const show = await cli('runs', 'show', workflowId);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /PR:\s+https:\/\/github\.com\/acme\/calculator\/pull\/1/);
    assert.match(show.stdout, /attempt 1: agent_exited, \$0\.0240, 6400 tokens/);
    assert.match(show.stdout, /tests:\s+PASS exit 0 \(2 passed, 0 failed\)/);
    assert.match(show.stdout, /command Bash exit 1: \$ cat calc_old\.py cat: calc_old\.py: No such file or directory \(ENOENT\)/);
    assert.match(show.stdout, /edit Edit: Edit /);
    assert.match(show.stdout, /trace \(6 events\)/, 'init and usage are not trace events');

    const detail = JSON.parse((await cli('runs', 'show', workflowId, '--json')).stdout) as RunDetail;
    assert.equal(detail.events.length, 7);
    assert.ok(!JSON.stringify(detail).includes(SECRET), 'the secret never reaches the ledger');
    assert.match(JSON.stringify(detail), /\[redacted\]/);

    const search = await cli('runs', 'search', 'ENOENT');
    assert.equal(search.code, 0, search.stderr);
    assert.match(search.stdout, new RegExp(`${workflowId}\\s+1\\.1\\s+command Bash`));
    assert.match(search.stdout, /\[ENOENT\]/);
    const hits = JSON.parse((await cli('runs', 'search', 'AssertionError', '--json')).stdout) as SearchHit[];
    assert.deepEqual(hits.map((h) => [h.workflowId, h.attempt, h.kind]), [[workflowId, 1, 'command']]);
    assert.equal(JSON.parse((await cli('runs', 'search', SECRET, '--json')).stdout).length, 0);
    const none = await cli('runs', 'show', 'cli-nope');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no run cli-nope in the ledger/);
  });

  test("a run's trace survives the workflow's deletion", async () => {
    const client = env!.client;
    await client.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId } });
    // Deletion is asynchronous on the server: wait until the execution is gone.
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        await client.workflow.getHandle(workflowId).describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) break;
        throw err;
      }
      assert.ok(Date.now() < deadline, 'the execution was not deleted within 120 s (the dev server deletes asynchronously; slow under load)');
      await new Promise((r) => setTimeout(r, 200));
    }
    const show = await cli('runs', 'show', workflowId);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /ENOENT/);
    const search = await cli('runs', 'search', '"No such file"');
    assert.match(search.stdout, new RegExp(workflowId));
  });
});
