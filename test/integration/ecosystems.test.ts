/**
 * Environments end to end, through the whole local stack (real Temporal dev server, real worker,
 * real Docker sandboxes, the REAL Claude Code CLI driven by a scripted model, real package
 * registries for setup): a Node.js repository (is-number from npm), a Python one (pytest from
 * PyPI) and a Go module (github.com/google/uuid from the Go proxy), each configured with the
 * defaults plus its test command and ONE setup line, run to a PR; a second run of the Node.js
 * repository reuses its environment (no setup container); a repository that cannot run its tests
 * (no setup; a missing tool) ends `environment_failed` before any model request; a repository with
 * a `.devcontainer/devcontainer.json` (Dockerfile + postCreateCommand) and no setup in our config
 * runs to a PR.
 *
 * Each test uses repository names unique to this file's run, so the first run of each builds its
 * environment whatever the engine has cached; the images it made are removed at the end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { RUN_LABEL } from '../../activities/sandbox.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import type { PreparedEnvironment } from '../../workflows/activityTypes.js';
import type { RunOutcome } from '../../workflows/types.js';
import { ECOSYSTEM_FIXES, fixEcosystemScript, type Ecosystem } from '../../devstack/ecosystemScripts.js';
import { LocalStack, type LocalStackOptions } from '../../devstack/stack.js';
import { fixtureRemote, type FixtureRepo } from '../helpers/fixtureRepo.js';
import { activityResult, branchFiles, containersCreated, fileAt, outcomeWithin, removeEnvironmentImages, startCliRun } from '../helpers/ecosystemRun.js';

const docker = new Docker();
/** Suffix of this file's repository names (fresh environments, images removed at the end). */
const tag = randomBytes(3).toString('hex');
/** Longest one run may take, ms (setup from the registries, the agent, two test runs). */
const RUN_MS = 300_000;
let temporal: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let dir: string;
const repoNames = new Set<string>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nightshift-eco-'));
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  await temporal?.teardown();
  await removeEnvironmentImages(docker, repoNames);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Unix seconds, one second back (event timestamps are whole seconds). */
const nowSec = (): number => Math.floor(Date.now() / 1000) - 1;

interface EcoStack {
  stack: LocalStack;
  name: string;
  github: string;
  remote: string;
}

/**
 * A stack whose one repository `<label>-<tag>` is the fixture `fixture` (plus `extra` files), on
 * the GitHub stand-in as `acme/<name>`, with the test command and environment given.
 */
async function ecoStack(label: string, fixture: FixtureRepo, opts: Pick<LocalStackOptions, 'script' | 'testCommand' | 'environment'>, extra: Record<string, string> = {}): Promise<EcoStack> {
  const name = `${label}-${tag}`;
  repoNames.add(name);
  const remote = await fixtureRemote(join(dir, name), fixture, extra);
  const github = `acme/${name}`;
  const stack = await LocalStack.start({ ...opts, temporal, workflowBundle: bundle, taskQueue: `eco-${name}`, repoName: name, github, repoUrl: remote });
  return { stack, name, github, remote };
}

/** Runs one task on the stack's repository and returns its id and outcome. */
async function runTask(s: EcoStack, what: string): Promise<{ workflowId: string; outcome: RunOutcome }> {
  const workflowId = await startCliRun(s.stack.client, s.stack.config.temporal.taskQueue, s.name, `Fix ${what}`, `${what} is wrong. Fix it so that the repository's tests pass.`);
  return { workflowId, outcome: await outcomeWithin(s.stack.client, workflowId, RUN_MS) };
}

/** What a PR of an ecosystem run must show: tests before failed by name, after pass, the fix pushed and nothing else. */
async function assertFixedPr(s: EcoStack, eco: Ecosystem, r: { workflowId: string; outcome: RunOutcome }, failingBefore: RegExp, prs = 1): Promise<void> {
  const { outcome } = r;
  const fix = ECOSYSTEM_FIXES[eco];
  assert.equal(outcome.kind, 'pr_opened', `outcome ${outcome.kind}: ${outcome.reason ?? ''}\n${outcome.testsBefore?.outputTail ?? ''}`);
  assert.equal(outcome.testsBefore?.passed, false);
  assert.ok(outcome.testsBefore?.failingTests.some((t) => failingBefore.test(t)), `failing before: ${JSON.stringify(outcome.testsBefore?.failingTests)}`);
  assert.equal(outcome.testsBefore?.preflight?.verdict, 'tests_failing');
  const last = outcome.attempts.at(-1)!;
  assert.equal(last.validation?.passed, true, last.validation?.outputTail);
  assert.deepEqual(last.validation?.failingTests, []);
  assert.deepEqual(last.filesChanged, [fix.file]);

  const pulls = s.stack.github.pulls(s.github);
  assert.equal(pulls.length, prs);
  const pr = pulls.at(-1)!;
  assert.match(outcome.prUrl ?? '', new RegExp(`/${s.github}/pull/${pr.number}$`));
  assert.ok((await fileAt(s.remote, pr.head, fix.file)).includes(fix.new), 'the pushed branch holds the fix');
  // The pushed tree is the base tree with the one file changed: no node_modules, no seed path.
  const env = await activityResult<PreparedEnvironment>(s.stack.client, r.workflowId, 'prepareEnvironment');
  const files = await branchFiles(s.remote, pr.head);
  assert.deepEqual(files, await branchFiles(s.remote, 'main'));
  for (const seed of env?.seed ?? []) assert.ok(!files.some((f) => f === seed || f.startsWith(`${seed}/`)), `seed path ${seed} was pushed`);
  assert.ok(!files.some((f) => f.startsWith('node_modules/')));
}

describe('ecosystems end to end: the real Claude Code CLI, a scripted model, real registries for setup', { timeout: 1_800_000 }, () => {
  const cases: Array<{ eco: Ecosystem; failingBefore: RegExp }> = [
    { eco: 'node', failingBefore: /double of a number/ },
    { eco: 'python', failingBefore: /test_add\b/ },
    { eco: 'go', failingBefore: /TestGreeting/ },
  ];
  for (const { eco, failingBefore } of cases) {
    test(`${eco}: default config + testCommand + one setup line (${ECOSYSTEM_FIXES[eco].setup}) runs to a PR${eco === 'node' ? '; a second run reuses the environment' : ''}`, { timeout: 2 * RUN_MS + 60_000 }, async () => {
      const fix = ECOSYSTEM_FIXES[eco];
      const s = await ecoStack(eco, eco, { script: fixEcosystemScript(eco), testCommand: fix.testCommand, environment: { setup: [fix.setup] } });
      try {
        const t0 = nowSec();
        const first = await runTask(s, `${fix.file}`);
        await assertFixedPr(s, eco, first, failingBefore);
        const env = await activityResult<PreparedEnvironment>(s.stack.client, first.workflowId, 'prepareEnvironment');
        assert.equal(env?.source, 'config');
        assert.deepEqual(env?.setup, [fix.setup]);
        assert.equal(env?.cached, false, 'the first run of a new repository builds its environment');
        assert.equal(await containersCreated(docker, t0, 'setup', first.workflowId), 1, 'setup ran once, in its own container');
        assert.ok(s.stack.model!.modelRequests().length >= 4, 'the agent ran');
        if (eco !== 'node') return;

        // Same repository, unchanged lock files: the environment is found by its key, no setup runs.
        const t1 = nowSec();
        const second = await runTask(s, `${fix.file} (again)`);
        await assertFixedPr(s, eco, second, failingBefore, 2);
        const env2 = await activityResult<PreparedEnvironment>(s.stack.client, second.workflowId, 'prepareEnvironment');
        assert.equal(env2?.cached, true);
        assert.equal(env2?.image, env?.image);
        assert.equal(env2?.key, env?.key);
        assert.equal(await containersCreated(docker, t1, 'setup', second.workflowId), 0, 'no setup container in the second run');
      } finally {
        await s.stack.stop();
      }
    });
  }

  test('preflight: node with no setup (Cannot find module) and a missing tool (cargo test, exit 127) end environment_failed with zero model requests', { timeout: 240_000 }, async () => {
    const cases = [
      { label: 'nosetup', testCommand: 'npm test', mentions: ['npm test', 'is-number', 'npm ci'], exitCode: 1 },
      { label: 'cargo', testCommand: 'cargo test', mentions: ['cargo test', '`cargo`'], exitCode: 127 },
    ];
    for (const c of cases) {
      const s = await ecoStack(c.label, 'node', { script: fixEcosystemScript('node'), testCommand: c.testCommand });
      try {
        const t0 = nowSec();
        const { workflowId, outcome } = await runTask(s, 'index.js');
        assert.equal(outcome.kind, 'environment_failed', `${c.label}: outcome ${outcome.kind}: ${outcome.reason ?? ''}`);
        assert.equal(outcome.testsBefore?.exitCode, c.exitCode, outcome.testsBefore?.outputTail);
        assert.equal(outcome.testsBefore?.preflight?.verdict, 'environment_broken');
        assert.deepEqual(outcome.attempts, []);
        assert.equal(s.stack.model!.requests.length, 0, `${c.label}: the model server heard nothing`);
        assert.equal(outcome.spend.requests, 0);
        // At most the warm agent (booted beside the tests before, activities/warmAgent.ts): it never got
        // its prompt (the model heard nothing) and went with the run.
        assert.ok((await containersCreated(docker, t0, 'agent', workflowId)) <= 1, 'no agent container but the warm one');
        assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${workflowId}`] } }), [], 'no container of the run is left');
        const report = s.stack.reports.find((r) => r.workflowId === workflowId && r.kind === 'environment_failed');
        assert.ok(report, `reports: ${JSON.stringify(s.stack.reports.map((r) => r.kind))}`);
        for (const m of c.mentions) assert.ok(report.markdown.includes(m), `${c.label}: the report names ${m}:\n${report.markdown}`);
        if (c.label === 'nosetup') assert.match(report.markdown, /Cannot find module 'is-number'/);
        assert.equal(s.stack.github.pulls(s.github).length, 0);
      } finally {
        await s.stack.stop();
      }
    }
  });

  test('devcontainer.json (build.dockerfile FROM the universal image + postCreateCommand: npm ci), no setup in our config: runs to a PR', { timeout: RUN_MS + 60_000 }, async () => {
    const extra = {
      '.devcontainer/devcontainer.json': '{\n  "build": { "dockerfile": "Dockerfile" },\n  "postCreateCommand": "npm ci"\n}\n',
      '.devcontainer/Dockerfile': 'FROM nightshift/universal:latest\n',
    };
    const s = await ecoStack('devc', 'node', { script: fixEcosystemScript('node'), testCommand: 'npm test' }, extra);
    try {
      const t0 = nowSec();
      const r = await runTask(s, 'index.js');
      await assertFixedPr(s, 'node', r, /double of a number/);
      const env = await activityResult<PreparedEnvironment>(s.stack.client, r.workflowId, 'prepareEnvironment');
      assert.equal(env?.source, 'devcontainer');
      assert.deepEqual(env?.setup, ['npm ci']);
      assert.deepEqual(env?.seed, ['node_modules']);
      assert.equal(await containersCreated(docker, t0, 'setup', r.workflowId), 1);
    } finally {
      await s.stack.stop();
    }
  });
});
