/**
 * Fault matrix, the worker process killed (SIGKILL) during each phase of a run, then a new worker
 * process started: scope (the clarifying assessment's model request held), prepare (status
 * phase `preparing`), tests before (the test container runs before any agent turn), agent (a
 * model request held), validation (the test container runs after the agent's last turn),
 * delivery (the PR creation held by the GitHub stand-in), notify (the final Linear comment held).
 * A held request is released once the worker is dead: it completes on the stand-in (a PR or a
 * comment is made that the dead worker never heard of), as when a process dies mid-call.
 *
 * Slow (about a minute a row): runs with NIGHTSHIFT_FAULTS_FULL=1 (`npm run test:faults`).
 */
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
import { FakeGitHub } from '../../devstack/github.js';
import { FakeLinear } from '../../devstack/linear.js';
import { CALCULATOR_ISSUE } from '../../devstack/linearIssue.js';
import { ScriptedModelServer } from '../../devstack/scriptedModel.js';
import { fixCalculatorScript, isAgentTurn, isAssessment, withAssessment } from '../../devstack/scripts.js';
import { GITHUB_REPO, GITHUB_TOKEN, LINEAR_API_KEY, makeExampleRemote, STACK_PRICES } from '../../devstack/stack.js';
import { freePort } from '../../devstack/net.js';
import { runStatus, startRun } from '../../worker/runs.js';
import { startDevServer } from '../../worker/temporal.js';
import { repoRoot } from '../helpers/paths.js';
import { assertRow, observeRun, renderTable, type FaultRow } from './matrix.js';
import { CALC_FIX, settleRun, waitFor } from './stackRun.js';

const full = process.env.NIGHTSHIFT_FAULTS_FULL === '1';
const dockerd = process.env.NIGHTSHIFT_FAULTS_DOCKERD === '1';
let temporal: TestWorkflowEnvironment;
let port: number;
let dbDir: string;
const rows: FaultRow[] = [];

before(async () => {
  if (!full) return;
  port = await freePort();
  // History on disk: the Temporal-restart row restarts this server (ours alone) on the same port and file.
  dbDir = await mkdtemp(join(tmpdir(), 'nightshift-faults-temporal-'));
  temporal = await startDevServer({ port, dbFile: join(dbDir, 'temporal.db') });
});

/** Stops the test's own dev server and starts it again on the same port and database file. */
async function restartTemporal(): Promise<void> {
  await temporal.teardown();
  temporal = await startDevServer({ port, dbFile: join(dbDir, 'temporal.db') });
}

/**
 * Restarts the machine's Docker engine ($NIGHTSHIFT_FAULTS_DOCKERD_RESTART, default
 * `scripts/restart-dockerd.sh`: dockerd is started by scripts/setup.sh, not systemd). Disruptive
 * for everyone on the machine: only with NIGHTSHIFT_FAULTS_DOCKERD=1.
 */
async function restartDockerd(): Promise<void> {
  const cmd = process.env.NIGHTSHIFT_FAULTS_DOCKERD_RESTART ?? `bash '${join(repoRoot(), 'scripts', 'restart-dockerd.sh')}'`;
  await run('sh', ['-c', cmd], { timeoutMs: 150_000 });
  await waitFor('the Docker engine to answer again', async () => (await new Docker().ping().then(() => true).catch(() => false)), 120_000);
}
after(async () => {
  if (rows.length > 0) process.stdout.write(`\n# Fault matrix: worker SIGKILL\n${renderTable(rows).replace(/^/gm, '# ')}\n`);
  await temporal?.teardown();
  if (dbDir) await rm(dbDir, { recursive: true, force: true });
});

/** The test command: slow enough (3 s) that a kill lands while its container runs. */
const TESTS = 'sleep 3 && python3 -m unittest -v';

/** What a row's kill point sees. */
interface Rig {
  model: ScriptedModelServer;
  github: FakeGitHub;
  linear: FakeLinear;
  workflowId: string;
  /** Labelled containers of the run now running. */
  /** Running containers of the run (of `purpose` only, when given). */
  containers(purpose?: 'agent' | 'tests'): Promise<number>;
  /** Agent turns answered (assessment and side requests aside). */
  agentTurns(): number;
}

/**
 * Kill points: `arm` runs before the run starts and returns a promise that resolves when the
 * worker is to be killed, and a `release` run after the kill (e.g. letting a held request go).
 */
interface KillPoint {
  phase: string;
  /** What strikes at the point: the worker is SIGKILLed (default), or the Temporal server / Docker engine restarts under it. */
  disrupt?: 'temporal' | 'dockerd';
  arm(rig: Rig): { killNow: Promise<void>; release?: () => void };
}

function holdOn(inject: (release: Promise<void>, onTaken: () => void) => void): { killNow: Promise<void>; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let taken!: () => void;
  const killNow = new Promise<void>((r) => (taken = r));
  inject(released, taken);
  return { killNow, release };
}

const points: KillPoint[] = [
  { phase: 'scope', arm: (r) => holdOn((release, taken) => r.model.faults.inject('POST /v1/messages', { kind: 'hold', release }, 1, taken)) },
  {
    phase: 'prepare',
    arm: (r) => ({ killNow: waitFor('phase preparing', async () => (await runStatus(clientOf(), r.workflowId).catch(() => undefined))?.phase === 'preparing', 120_000) }),
  },
  { phase: 'tests before', arm: (r) => ({ killNow: waitFor('the tests-before container', async () => r.agentTurns() === 0 && (await r.containers('tests')) > 0, 180_000) }) },
  { phase: 'agent', arm: (r) => agentHold(r) },
  {
    phase: 'validation',
    arm: (r) => ({
      killNow: waitFor('the validation container', async () => r.model.requests.some((q) => q.step && 'text' in q.step && q.step.text.startsWith('Fixed')) && (await r.containers()) > 0, 240_000),
    }),
  },
  { phase: 'delivery', arm: (r) => holdOn((release, taken) => r.github.faults.inject('POST pulls', { kind: 'hold', release }, 1, taken)) },
  { phase: 'notify', arm: (r) => holdOn((release, taken) => r.linear.faults.inject('commentCreate', { kind: 'hold', release }, 1, taken)) },
  // Mid-attempt: the agent's second model request is held while the server restarts.
  { phase: 'agent', disrupt: 'temporal', arm: (r) => agentHold(r) },
  ...(dockerd ? [{ phase: 'agent', disrupt: 'dockerd' as const, arm: (r: Rig) => agentHold(r) }] : []),
];

/** Holds the agent's second turn (its first was answered; side requests pass). */
function agentHold(r: Rig): { killNow: Promise<void>; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((ok) => (release = ok));
  const killNow = waitFor('the first agent turn', () => r.agentTurns() >= 1, 180_000).then(
    () => new Promise<void>((taken) => r.model.faults.inject(/^POST \/v1\/(messages|responses)$/, { kind: 'hold', release: released }, 1, taken, isAgentTurn)),
  );
  return { killNow, release };
}

function clientOf(): TestWorkflowEnvironment['client'] {
  return temporal.client;
}

describe('fault matrix: worker SIGKILL in each phase', { timeout: 3_300_000, skip: !full && 'slow: npm run test:faults' }, () => {
  for (const point of points) {
    const what = point.disrupt === 'temporal' ? 'Temporal server restart' : point.disrupt === 'dockerd' ? 'dockerd restart' : 'worker SIGKILL';
    test(`${what} during ${point.phase}: the run still ends with one message, one PR, no container, work and spend kept`, { timeout: 420_000 }, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'nightshift-faults-kill-'));
      const bare = await makeExampleRemote(dir);
      const model = new ScriptedModelServer({ script: withAssessment(fixCalculatorScript(), () => ({ decision: 'proceed', rationale: 'bounded and verifiable' })) });
      await model.start();
      const github = new FakeGitHub({ [GITHUB_REPO]: bare }, { token: GITHUB_TOKEN });
      await github.start();
      const linear = new FakeLinear({ apiKey: LINEAR_API_KEY });
      await linear.start();
      const taskQueue = `faults-kill-${randomUUID()}`;
      const configFile = join(dir, 'nightshift.config.yaml');
      const stateDir = join(dir, 'state');
      await writeFile(
        configFile,
        JSON.stringify({
          stateDir,
          temporal: { address: `127.0.0.1:${port}`, taskQueue },
          gateway: { upstreams: { anthropic: model.url, openai: model.url }, prices: STACK_PRICES },
          github: { apiUrl: github.url },
          linear: { apiUrl: linear.apiUrl },
          scope: { clarify: { model: 'claude-sonnet-4-5' } },
          repos: { calculator: { url: bare, github: GITHUB_REPO, testCommand: TESTS, budget: { minutes: 10, tokens: 2_000_000, usd: 2 } } },
        }),
      );
      const env = { ...process.env, GITHUB_TOKEN, LINEAR_API_KEY, LOG_LEVEL: 'info' };
      const children: ChildProcess[] = [];
      const logs: string[] = [];
      const startWorker = (): ChildProcess => {
        const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'worker', 'cli.js'), '--config', configFile, 'worker'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        const n = children.length;
        logs[n] = '';
        child.stderr?.on('data', (d: Buffer) => (logs[n] += d.toString()));
        children.push(child);
        return child;
      };
      const issueId = randomUUID();
      linear.addIssue({ id: issueId, identifier: 'CALC-7', title: CALCULATOR_ISSUE.title });
      const workflowId = `linear-${issueId}`;
      const docker = new Docker();
      const rig: Rig = {
        model,
        github,
        linear,
        workflowId,
        containers: async (purpose) => (await docker.listContainers({ filters: { label: [`${RUN_LABEL}=${workflowId}`, ...(purpose ? [`${PURPOSE_LABEL}=${purpose}`] : [])] } })).length,
        agentTurns: () => model.requests.filter((q) => q.usage && !isAssessment(q.body) && !(q.step && 'text' in q.step && q.step.text === 'OK')).length,
      };
      let release: (() => void) | undefined;
      try {
        const first = startWorker();
        const armed = point.arm(rig);
        release = armed.release;
        const startedAt = Date.now();
        await startRun(temporal.client, taskQueue, workflowId, {
          source: { kind: 'linear', issueId, issueIdentifier: 'CALC-7' },
          requester: 'faults',
          repo: 'calculator',
          title: CALCULATOR_ISSUE.title,
          task: CALCULATOR_ISSUE.description,
        });
        await armed.killNow;
        if (point.disrupt === 'temporal') await restartTemporal();
        else if (point.disrupt === 'dockerd') await restartDockerd();
        else {
          first.kill('SIGKILL');
          await new Promise((r) => first.once('exit', r));
          startWorker();
        }
        release?.();
        if (point.phase === 'scope' && !point.disrupt) {
          // The assessment heartbeats (20 s timeout): the new worker takes it over in well under its
          // 2-minute start-to-close timeout, which is what a killed worker's activity used to wait out.
          const killedAt = Date.now();
          await waitFor('the run to leave scoping on the new worker', async () => {
            const phase = (await runStatus(temporal.client, workflowId).catch(() => undefined))?.phase;
            return phase !== undefined && phase !== 'scoping' && phase !== 'queued';
          }, 75_000);
          process.stdout.write(`# scope: the new worker went on ${Math.round((Date.now() - killedAt) / 1000)} s after the kill\n`);
        }
        const outcome = await settleRun({ client: temporal.client }, workflowId, 300_000);
        const pulls = github.pulls(GITHUB_REPO);
        const row = await observeRun(what, point.phase, {
          workflowId,
          outcome,
          originMessages: linear.comments.filter((c) => c.issueId === issueId).map((c) => c.body),
          prComments: pulls.flatMap((p) => p.comments.map((c) => c.body)),
          prs: pulls.length,
          bareRepo: bare,
          stateDir,
          work: CALC_FIX,
          startedAt,
        });
        assertRow(row, { outcome: 'pr_opened', prs: 1 }, rows);
      } catch (err) {
        logs.forEach((l, i) => process.stderr.write(`--- worker ${i} log (tail) ---\n${l.slice(-3000)}\n`));
        throw err;
      } finally {
        release?.();
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
  }
});
