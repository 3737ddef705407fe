/**
 * Workspace affinity with two real worker processes on this machine (issue 11, item 1): two host
 * ids, two host queues, two gateways, two state dirs, one Temporal dev server and one shared task
 * queue; real Docker and the real Claude Code CLI against the scripted model.
 *
 * Runs are shared between the hosts, each run's host-bound activities all on one host. Then the
 * host holding a run whose partial work was pushed (escalation → WIP branch → guidance) is
 * SIGKILLed while the run's next attempt runs there: after `worker.hostGoneTimeoutMs` the run
 * moves to the other host, re-prepares from the WIP branch, and opens one PR that holds the pushed
 * work; its Linear session gets one `host_moved` thought and one final response; no container is left.
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
import { replyToRun, runResult, runStatus, startRun } from '../../worker/runs.js';
import { startDevServer } from '../../worker/temporal.js';
import { FakeGitHub } from '../../devstack/github.js';
import { FakeLinear } from '../../devstack/linear.js';
import { ScriptedModelServer, type Script, type ScriptStep } from '../../devstack/scriptedModel.js';
import { CALCULATOR_TESTS, HARMLESS_EDIT } from '../../devstack/scripts.js';
import { GITHUB_REPO, GITHUB_TOKEN, LINEAR_API_KEY, makeExampleRemote, STACK_PRICES } from '../../devstack/stack.js';
import { freePort } from '../../devstack/net.js';
import type { TaskRequest } from '../../workflows/types.js';
import { hostsOf, scheduledActivities } from '../helpers/hostHistory.js';
import { repoRoot } from '../helpers/paths.js';

async function waitFor(what: string, pred: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const FIX_ADD: ScriptStep[] = [
  { read: { path: '/workspace/calc.py' } },
  { edit: { path: '/workspace/calc.py', old: '    """Return the sum of a and b."""\n    return a - b', new: '    """Return the sum of a and b."""\n    return a + b' } },
  { bash: CALCULATOR_TESTS },
];
const SLOW = 'sleep 100 && echo slow-step-done';
const GONE_MS = 5_000;

/**
 * The model: plain runs fix add(); the moved run first pushes a harmless edit (tests still fail,
 * escalation), then, guided, runs a slow command the first time (the kill lands there) and fixes
 * add() the next time (on the other host, on top of the re-prepared WIP work).
 */
function twoHostScript(): Script {
  let slowGiven = false;
  return (ctx) => {
    if (ctx.sideRequest) return { text: 'OK', usage: { input: 50, output: 2 } };
    const conv = JSON.stringify(ctx.request);
    if (!conv.includes('MOVED-RUN')) return FIX_ADD[ctx.turn] ?? { text: 'Fixed add().' };
    if (!conv.includes('Guidance from a human')) return HARMLESS_EDIT[ctx.turn] ?? { text: 'Left a note; add() is not fixed yet.' };
    if (conv.includes(SLOW)) return { text: 'Still waiting.' };
    if (ctx.turn === 0 && !slowGiven) {
      slowGiven = true;
      return { bash: SLOW };
    }
    return FIX_ADD[ctx.turn] ?? { text: 'Fixed add() after the note.' };
  };
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

describe('two worker hosts', { timeout: 560_000 }, () => {
  test('runs are shared between two hosts; a killed host\'s run moves to the other from its WIP branch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nightshift-two-workers-'));
    const bare = await makeExampleRemote(dir);
    const model = new ScriptedModelServer({ script: twoHostScript() });
    await model.start();
    const github = new FakeGitHub({ [GITHUB_REPO]: bare }, { token: GITHUB_TOKEN });
    await github.start();
    const linear = new FakeLinear({ apiKey: LINEAR_API_KEY });
    await linear.start();
    const taskQueue = `two-workers-${randomUUID()}`;
    const hosts = ['host-a', 'host-b'] as const;
    const configFile = (host: string) => join(dir, `${host}.config.yaml`);
    for (const host of hosts) {
      await writeFile(
        configFile(host),
        JSON.stringify({
          stateDir: join(dir, `state-${host}`),
          worker: { hostId: host, hostGoneTimeoutMs: GONE_MS },
          temporal: { address: `127.0.0.1:${port}`, taskQueue },
          gateway: { upstreams: { anthropic: model.url, openai: model.url }, prices: STACK_PRICES },
          github: { apiUrl: github.url },
          linear: { apiUrl: linear.apiUrl },
          repos: {
            calculator: { url: bare, github: GITHUB_REPO, testCommand: CALCULATOR_TESTS, maxAttempts: 1, budget: { minutes: 10, tokens: 2_000_000, usd: 2 } },
          },
        }),
      );
    }
    const env = { ...process.env, GITHUB_TOKEN, LINEAR_API_KEY, LOG_LEVEL: 'info' };
    const workers = new Map<string, ChildProcess>();
    const logs = new Map<string, string>();
    const startWorker = async (host: string): Promise<ChildProcess> => {
      const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'worker', 'cli.js'), '--config', configFile(host), 'worker'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      logs.set(host, '');
      child.stderr?.on('data', (d: Buffer) => logs.set(host, logs.get(host)! + d.toString()));
      workers.set(host, child);
      // Ready once it polls its host queue (the log line of worker/worker.ts).
      await waitFor(`worker ${host} to start`, () => logs.get(host)!.includes(`"hostQueue":"${taskQueue}@${host}"`) || child.exitCode !== null, 120_000);
      assert.equal(child.exitCode, null, `worker ${host} exited: ${logs.get(host)!.slice(-2000)}`);
      return child;
    };
    const docker = new Docker();
    const runIds: string[] = [];
    const plain = (n: number): TaskRequest => ({
      source: { kind: 'cli' },
      requester: 'test',
      repo: 'calculator',
      title: `Fix add() #${n}`,
      task: `add() subtracts. Fix it so that python3 -m unittest passes. (run ${n})`,
      overrides: { now: true },
    });
    try {
      for (const host of hosts) await startWorker(host);

      // The run that will move: a Linear agent session (its origin counts the messages).
      const user = randomUUID();
      const issue = { id: randomUUID(), identifier: 'CALC-11' };
      const sessionId = randomUUID();
      linear.addUser({ id: user, name: 'Ada' });
      linear.addIssue({ ...issue, title: 'Fix add()' });
      const moved = `linear-session-${sessionId}`;
      runIds.push(moved);
      await startRun(temporal.client, taskQueue, moved, {
        source: { kind: 'linear', issueId: issue.id, issueIdentifier: issue.identifier, agentSessionId: sessionId, requesterId: user },
        requester: 'Ada',
        repo: 'calculator',
        title: 'Fix add()',
        task: 'add() subtracts. Fix it so that python3 -m unittest passes. MOVED-RUN',
        overrides: { now: true },
      });
      // Plain runs until both hosts hold one (claims go to whichever worker polls first).
      const hostOf = async (id: string): Promise<string | undefined> => hostsOf(await scheduledActivities(temporal.client, id), taskQueue)[0];
      const plainIds: string[] = [];
      for (let n = 1; n <= 6; n++) {
        if (n > 2) {
          const held = new Set(await Promise.all([moved, ...plainIds].map(hostOf)));
          if (hosts.every((h) => held.has(h))) break;
        }
        const id = `cli-${randomUUID()}`;
        plainIds.push(id);
        runIds.push(id);
        await startRun(temporal.client, taskQueue, id, plain(n));
        await waitFor(`run ${n} to claim a host`, async () => (await hostOf(id)) !== undefined, 120_000);
      }
      for (const id of plainIds) {
        const out = await runResult(temporal.client, id);
        assert.equal(out.kind, 'pr_opened', `${id}: ${out.kind} ${out.reason ?? ''}`);
      }
      // Each plain run's host-bound activities all ran on one host, by that host's worker process.
      const plainHosts = new Set<string>();
      for (const id of plainIds) {
        const acts = await scheduledActivities(temporal.client, id);
        const used = hostsOf(acts, taskQueue);
        assert.equal(used.length, 1, `${id} used hosts ${used.join(', ')}`);
        plainHosts.add(used[0]!);
        const pid = workers.get(used[0]!)!.pid;
        for (const a of acts.filter((x) => x.taskQueue.startsWith(`${taskQueue}@`))) assert.ok(a.startedBy?.startsWith(`${pid}@`), `${a.type} of ${id} ran on ${a.startedBy}, not the worker of ${used[0]}`);
        for (const t of ['prepareWorkspace', 'runAgent', 'runTests', 'deliver', 'cleanup']) assert.ok(acts.some((a) => a.type === t && a.taskQueue === `${taskQueue}@${used[0]}`), `${t} of ${id} on its host queue`);
      }

      // The moved run escalates on its host with its partial work pushed to the WIP branch.
      await waitFor('the escalation', async () => (await runStatus(temporal.client, moved)).phase === 'awaiting_human', 240_000);
      const first = (await hostOf(moved))!;
      const other = hosts.find((h) => h !== first)!;
      assert.ok(new Set([...plainHosts, first]).size === 2, `both hosts held runs: ${[...plainHosts, first].join(', ')}`);
      const escalated = await runStatus(temporal.client, moved);
      const wipBranch = escalated.wipBranch!;
      assert.ok(wipBranch, 'the partial work was pushed');
      const wipSha = (await run('git', ['-C', bare, 'rev-parse', `refs/heads/${wipBranch}`])).stdout.trim();

      // Guidance: the next attempt starts on the same host; the host dies during its slow command.
      await replyToRun(temporal.client, moved, { author: 'Ada', text: 'Fix the sign in add().', via: 'linear-session' });
      await waitFor('the slow step of the guided attempt', () => model.requests.some((r) => r.step && 'bash' in r.step && r.step.bash === SLOW), 240_000);
      // (Its validation's sandbox waits beside it: activities/validate/warmTests.ts.)
      await waitFor('the agent container', async () => (await docker.listContainers({ filters: { label: [`${RUN_LABEL}=${moved}`, `${PURPOSE_LABEL}=agent`] } })).length === 1, 30_000);
      // The run knows what the cut-off attempt has spent so far (the gateway's progress signal).
      await waitFor('live spend of the guided attempt', async () => (await runStatus(temporal.client, moved)).spend.requests > escalated.spend.requests, 30_000);
      const victim = workers.get(first)!;
      victim.kill('SIGKILL');
      await new Promise((r) => (victim.exitCode !== null || victim.signalCode !== null ? r(undefined) : victim.once('exit', r)));

      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        runResult(temporal.client, moved),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the moved run did not finish within 240 s of the kill')), 240_000))),
      ]).finally(() => clearTimeout(timer));
      assert.equal(outcome.kind, 'pr_opened', `${outcome.kind}: ${outcome.reason ?? ''}`);
      // The attempt cut off with the host is recorded (with what it had spent), not silently reused.
      assert.deepEqual(outcome.attempts.map((a) => [a.attempt, a.end]), [[1, 'agent_exited'], [2, 'host_lost'], [3, 'agent_exited']]);
      assert.ok(outcome.attempts[1]!.spend.requests > 0, 'the lost attempt keeps its metered spend');

      // Its host-bound activities: on the first host, then (after a host-gone timeout) all on the other.
      const acts = (await scheduledActivities(temporal.client, moved)).filter((a) => a.taskQueue.startsWith(`${taskQueue}@`));
      const onOther = acts.findIndex((a) => a.taskQueue === `${taskQueue}@${other}`);
      assert.ok(onOther > 0, acts.map((a) => `${a.type}@${a.taskQueue}`).join(', '));
      assert.ok(acts.slice(0, onOther).every((a) => a.taskQueue === `${taskQueue}@${first}`));
      assert.ok(acts.slice(onOther).every((a) => a.taskQueue === `${taskQueue}@${other}` && a.startedBy?.startsWith(`${workers.get(other)!.pid}@`)));
      assert.equal(acts[onOther - 1]!.type, 'runAgent');
      assert.equal(acts[onOther - 1]!.timedOut, 'SCHEDULE_TO_START', 'the host was found gone by its queue');
      // There it prepares the workspace, its next agent booting beside it (activities/warmAgent.ts).
      assert.deepEqual(acts.slice(onOther, onOther + 2).map((a) => a.type).sort(), ['prepareWorkspace', 'warmAgent']);

      // One PR, holding the work pushed before the kill and the fix made after the move.
      const prs = github.pulls(GITHUB_REPO).filter((p) => p.head.includes('fix-add') && outcome.prUrl?.endsWith(`/${p.number}`));
      assert.equal(prs.length, 1, 'exactly one PR for the moved run');
      const calc = (await run('git', ['-C', bare, 'show', `${prs[0]!.head}:calc.py`])).stdout;
      assert.match(calc, /# TODO: check the sign in add\(\)/, 'the pushed partial work is in the PR');
      assert.match(calc, /return a \+ b/);
      const wipCalc = (await run('git', ['-C', bare, 'show', `${wipSha}:calc.py`])).stdout;
      assert.match(wipCalc, /# TODO: check the sign in add\(\)/);

      // The origin: one host_moved thought naming both hosts and the WIP commit, one final response.
      const line = `The worker host ${first} was gone for > 5 s; re-prepared on host ${other} from ${wipBranch} at ${wipSha.slice(0, 12)}. Attempt 2 was cut off with it.`;
      const session = linear.activities.filter((a) => a.agentSessionId === sessionId);
      const movedNotes = session.filter((a) => String(a.content.body ?? '').startsWith('The worker host '));
      assert.equal(movedNotes.length, 1, JSON.stringify(movedNotes));
      assert.equal(movedNotes[0]!.content.type, 'thought');
      assert.equal(movedNotes[0]!.content.body, line);
      const responses = session.filter((a) => a.content.type === 'response');
      assert.equal(responses.length, 1, JSON.stringify(responses.map((r) => r.content)));
      assert.ok(String(responses[0]!.content.body).includes(outcome.prUrl!) && String(responses[0]!.content.body).includes(line), String(responses[0]!.content.body));
      linear.assertNoInvalidRequests();

      // No container left by any run, the dead host's included.
      for (const id of runIds) assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${id}`] } }), [], `containers of ${id}`);
    } catch (err) {
      for (const [host, l] of logs) process.stderr.write(`--- worker ${host} log (tail) ---\n${l.slice(-6000)}\n`);
      throw err;
    } finally {
      // Workers stop on SIGTERM; one that has not stopped 15 s later is killed.
      const live = [...workers.values()].filter((c) => c.exitCode === null && c.signalCode === null);
      await Promise.all(
        live.map(
          (c) =>
            new Promise((r) => {
              const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
              c.once('exit', () => r(clearTimeout(t)));
              c.kill('SIGTERM');
            }),
        ),
      );
      // What a killed worker left running: the containers of this test's runs only.
      for (const id of runIds) {
        for (const c of await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${id}`] } }).catch(() => [])) {
          await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
        }
      }
      await model.stop();
      await github.stop();
      await linear.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
