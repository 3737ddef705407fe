/**
 * Durability: the worker process is killed (SIGKILL) while the agent runs; a new worker process
 * picks the run up. The run finishes with exactly one PR and no container left behind.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { run } from '../../activities/exec.js';
import { PURPOSE_LABEL, RUN_LABEL } from '../../activities/sandbox.js';
import { runResult, runStatus, startRun } from '../../worker/runs.js';
import { startDevServer } from '../../worker/temporal.js';
import { FakeGitHub } from '../../devstack/github.js';
import { FakeLinear } from '../../devstack/linear.js';
import { scriptFromSteps, ScriptedModelServer } from '../../devstack/scriptedModel.js';
import { CALCULATOR_TESTS } from '../../devstack/scripts.js';
import { GITHUB_REPO, GITHUB_TOKEN, LINEAR_API_KEY, makeExampleRemote, STACK_PRICES } from '../../devstack/stack.js';
import { freePort } from '../../devstack/net.js';
import { hostsOf, scheduledActivities } from '../helpers/hostHistory.js';
import { repoRoot } from '../helpers/paths.js';

async function waitFor(what: string, pred: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let temporal: TestWorkflowEnvironment;
let port: number;
before(async () => {
  port = await freePort();
  temporal = await startDevServer({ port });
});
after(async () => {
  await temporal?.teardown();
});

describe('durability', { timeout: 600_000 }, () => {
  test('killing the worker mid-attempt: a new worker finishes the run with one PR and no container left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nightshift-durability-'));
    const bare = await makeExampleRemote(dir);
    // The agent runs a slow command in the middle of its work: the kill lands while it runs.
    const model = new ScriptedModelServer({
      script: scriptFromSteps(
        [
          { bash: CALCULATOR_TESTS },
          { read: { path: '/workspace/calc.py' } },
          { edit: { path: '/workspace/calc.py', old: '    """Return the sum of a and b."""\n    return a - b', new: '    """Return the sum of a and b."""\n    return a + b' } },
          { bash: 'sleep 6 && echo slow-step-done' },
          { bash: CALCULATOR_TESTS },
        ],
        'Fixed add().',
      ),
    });
    await model.start();
    const github = new FakeGitHub({ [GITHUB_REPO]: bare }, { token: GITHUB_TOKEN });
    await github.start();
    const linear = new FakeLinear({ apiKey: LINEAR_API_KEY });
    await linear.start();
    const taskQueue = `durability-${randomUUID()}`;
    const configFile = join(dir, 'nightshift.config.yaml');
    await writeFile(
      configFile,
      JSON.stringify({
        stateDir: join(dir, 'state'),
        temporal: { address: `127.0.0.1:${port}`, taskQueue },
        gateway: { upstreams: { anthropic: model.url, openai: model.url }, prices: STACK_PRICES },
        github: { apiUrl: github.url },
        linear: { apiUrl: linear.apiUrl },
        repos: {
          calculator: {
            url: bare,
            github: GITHUB_REPO,
            testCommand: CALCULATOR_TESTS,
            budget: { minutes: 10, tokens: 2_000_000, usd: 2 },
          },
        },
      }),
    );
    const env = { ...process.env, GITHUB_TOKEN, LINEAR_API_KEY, LOG_LEVEL: 'info' };
    const children: ChildProcess[] = [];
    const logs: string[] = [];
    const startWorker = (): ChildProcess => {
      const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'worker', 'cli.js'), '--config', configFile, 'worker'], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const n = children.length;
      logs[n] = '';
      child.stderr?.on('data', (d: Buffer) => (logs[n] += d.toString()));
      children.push(child);
      return child;
    };
    try {
      const first = startWorker();
      const workflowId = `cli-${randomUUID()}`;
      await startRun(temporal.client, taskQueue, workflowId, {
        source: { kind: 'cli' },
        requester: 'test',
        repo: 'calculator',
        title: 'Fix add()',
        task: 'add() subtracts. Fix it so that python3 -m unittest passes.',
      });
      // Kill the worker while the agent's slow command runs (the fourth model turn was answered).
      await waitFor('the agent to reach its slow step', () => model.requests.filter((r) => r.usage).length >= 4);
      // While the attempt runs, `status` shows its live spend (the activity signals progress).
      await waitFor('live spend in status', async () => (await runStatus(temporal.client, workflowId)).spend.requests >= 3, 15_000);
      const live = await runStatus(temporal.client, workflowId);
      assert.equal(live.phase, 'running_agent');
      assert.ok(live.spend.usd > 0 && live.lastEvents.length > 0, JSON.stringify(live));
      const docker = new Docker();
      const running = await docker.listContainers({ filters: { label: [`${RUN_LABEL}=${workflowId}`, `${PURPOSE_LABEL}=agent`] } });
      assert.equal(running.length, 1, 'the agent container runs when the worker dies');
      // (Beside it, the attempt's warm validation sandbox waits: activities/validate/warmTests.ts.)
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));

      const second = startWorker();
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        runResult(temporal.client, workflowId),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the run did not finish within 180 s after the restart')), 180_000))),
      ]).finally(() => clearTimeout(timer));
      assert.equal(outcome.kind, 'pr_opened', `outcome ${outcome.kind}: ${outcome.reason ?? ''}`);
      assert.equal(github.pulls(GITHUB_REPO).length, 1, 'exactly one PR');
      const status = await runStatus(temporal.client, workflowId);
      assert.equal(status.phase, 'done');
      const left = await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${workflowId}`] } });
      assert.deepEqual(left, [], 'no container left behind');
      // The restarted worker has the same host id (the host name): the run stayed on its host queue,
      // and the restarted worker ran the agent again there (no move to another host).
      const acts = await scheduledActivities(temporal.client, workflowId);
      assert.equal(hostsOf(acts, taskQueue).length, 1, acts.map((a) => a.taskQueue).join(', '));
      assert.ok(!acts.some((a) => a.timedOut === 'SCHEDULE_TO_START'), 'no host-gone timeout');
      const agentRuns = acts.filter((a) => a.type === 'runAgent');
      assert.equal(agentRuns.length, 1, 'one runAgent activity, retried on the same host queue');
      assert.ok(agentRuns[0]!.startedBy?.startsWith(`${second.pid}@`), `the restarted worker ran the last try: ${agentRuns[0]!.startedBy}`);
      const branch = github.pulls(GITHUB_REPO)[0]!.head;
      const { stdout } = await run('git', ['-C', bare, 'show', `${branch}:calc.py`]);
      assert.match(stdout, /return a \+ b/);
    } catch (err) {
      logs.forEach((l, i) => process.stderr.write(`--- worker ${i} log (tail) ---\n${l.slice(-4000)}\n`));
      process.stderr.write(`--- failure: ${err instanceof Error ? err.message : String(err)}\n`);
      throw err;
    } finally {
      // A worker stops on SIGTERM; one that has not stopped 15 s later is killed.
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
      await Promise.all(
        children.map((c) =>
          c.exitCode === null && c.signalCode === null
            ? new Promise((r) => {
                const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
                c.once('exit', () => r(clearTimeout(t)));
              })
            : undefined,
        ),
      );
      await model.stop();
      await github.stop();
      await linear.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
