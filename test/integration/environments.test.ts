/**
 * Environments on the real Docker engine, with real package registries (npm, PyPI, the Go module
 * proxy, reached through this host's TLS interception): setup runs once with egress and is
 * committed; a second preparation with the same lock files reuses it without running setup; a
 * changed lock file makes a new one; the seed (node_modules) reaches the work tree and the test
 * exports; a devcontainer.json (Dockerfile + postCreateCommand) is honoured; a failing setup names
 * its command; setup containers cannot reach host ports.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { NightshiftError } from '../../activities/errors.js';
import { run as execRun } from '../../activities/exec.js';
import { exportTree } from '../../activities/git.js';
import { prepareEnvironment, seedWorkspace, sandboxTestCommand, type EnvironmentDeps } from '../../activities/environment/prepare.js';
import { listEnvironments } from '../../activities/environment/cache.js';
import { SandboxManager } from '../../activities/sandbox.js';
import { parseConfig, type EnvironmentConfig } from '../../worker/config.js';
import { createRootLogger } from '../../worker/logger.js';
import { commitFiles, fixtureRemote, ownBySandbox, sandboxClone, type FixtureRepo } from '../helpers/fixtureRepo.js';
import { removeEnvironmentImages } from '../helpers/ecosystemRun.js';

const logger = createRootLogger('warn');
const docker = new Docker();
const base = parseConfig({ gateway: { prices: {} }, repos: { r: { url: 'x', github: 'a/b', testCommand: 't', budget: { minutes: 1, tokens: 1, usd: 1 } } } });
const sandbox = new SandboxManager(docker, { ...base.sandbox, setupNetwork: base.environments.network }, logger);
const AGENT_IMAGE = 'nightshift/claude-code:latest';
let dir: string;
let deps: EnvironmentDeps;
const madeTags = new Set<string>();
/** Unique repository names: each test builds its own environment, whatever this engine has cached. */
const run = randomBytes(3).toString('hex');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nightshift-env-'));
  deps = { docker, sandbox, settings: base.environments, stateDir: join(dir, 'state'), logger };
});
after(async () => {
  for (const tag of madeTags) await docker.getImage(tag).remove({ force: true }).catch(() => undefined);
  // Agent layers and repository Dockerfile images of this file's repositories too.
  await removeEnvironmentImages(docker, usedRepos);
  await rm(dir, { recursive: true, force: true });
});

const envConfig = (over: Partial<EnvironmentConfig> = {}): EnvironmentConfig => ({
  setup: [],
  env: {},
  setupTimeoutMinutes: 10,
  devcontainer: true,
  agentEgress: [],
  ...over,
});



/** Runs `cmd` (sh -c) in `image` on `workspace`, as the sandbox user, with no network. */
async function runIn(image: string, workspace: string, cmd: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const c = await sandbox.start({ workflowId: `envtest-${run}`, purpose: 'tests', image, cmd, env: ['CI=true'], workspace, network: 'none', onLine: (_s, l) => lines.push(l) });
  try {
    return { code: await c.exited, output: lines.join('\n') };
  } finally {
    await c.remove();
  }
}

/** Setup containers created since `since` (seconds), from the engine's event log. */
async function setupContainersSince(since: number): Promise<number> {
  const stream = (await docker.getEvents({ since, until: Math.ceil(Date.now() / 1000), filters: { type: ['container'], event: ['create'], label: ['nightshift.purpose=setup'] } })) as unknown as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text.split('\n').filter((l) => l.trim()).length;
}

const usedRepos = new Set<string>();
async function prepare(name: FixtureRepo | string, remote: string, cfg: EnvironmentConfig) {
  const { paths, baseSha } = await sandboxClone(dir, remote, base.sandbox.user);
  usedRepos.add(`${name}-${run}`);
  const env = await prepareEnvironment(deps, { workflowId: `envtest-${run}`, repo: `${name}-${run}`, config: cfg, agent: 'claude-code', agentImage: AGENT_IMAGE, repoPaths: paths, baseSha });
  if (env.image.startsWith('nightshift/env:')) madeTags.add(env.image);
  return { env, paths, baseSha };
}

describe('environments', { timeout: 900_000 }, () => {
  test('node: setup (npm ci) runs once, its node_modules seed the work tree and test exports; unchanged lock files reuse it; a changed lock file rebuilds', async () => {
    const remote = await fixtureRemote(dir, 'node');
    const cfg = envConfig({ setup: ['npm ci'] });
    const t0 = Math.floor(Date.now() / 1000) - 1;

    const first = await prepare('node', remote, cfg);
    assert.equal(first.env.cached, false);
    assert.equal(first.env.source, 'config');
    assert.deepEqual(first.env.seed, ['node_modules']);
    assert.equal(await setupContainersSince(t0), 1, 'setup ran once');

    // The work tree gets node_modules; host git never stages it.
    await seedWorkspace(sandbox, { workflowId: `envtest-${run}`, image: first.env.image, seed: first.env.seed, workTree: first.paths.workTree, repo: first.paths });
    assert.ok((await readdir(join(first.paths.workTree, 'node_modules'))).includes('is-number'));
    const inTree = await runIn(first.env.image, first.paths.workTree, ['sh', '-c', 'npm test']);
    assert.doesNotMatch(inTree.output, /Cannot find module 'is-number'/, inTree.output);
    assert.match(inTree.output, /(?:#|ℹ) pass 1\b/, 'the dependency loads: the non-numeric case passes, the two doubled values fail (the bug)');
    assert.match(inTree.output, /(?:#|ℹ) fail 2\b/);

    // A test export (no node_modules) is seeded by the test command itself.
    const exportDir = join(dir, 'export-node');
    await exportTree(first.paths, first.baseSha, exportDir);
    await ownBySandbox(exportDir, base.sandbox.user);
    const exported = await runIn(first.env.image, exportDir, sandboxTestCommand('npm test', first.env.seed));
    assert.match(exported.output, /(?:#|ℹ) pass 1\b/, exported.output);

    // Same lock files, another clone, a source change: cached, no setup container.
    await commitFiles(join(dir, 'node-seed'), { 'index.js': "'use strict';\nmodule.exports = { double: (x) => x * 2 };\n" }, 'source only', remote);
    const t1 = Math.floor(Date.now() / 1000);
    const second = await prepare('node', remote, cfg);
    assert.equal(second.env.cached, true);
    assert.equal(second.env.image, first.env.image);
    assert.equal(second.env.key, first.env.key);
    assert.equal(await setupContainersSince(t1), 0, 'no setup ran for the cached environment');
    assert.ok(second.env.prepareMs < first.env.prepareMs, `cached ${second.env.prepareMs} ms < first ${first.env.prepareMs} ms`);

    // A changed lock file: a new environment.
    const lock = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'node-seed', 'package-lock.json'), 'utf8')) as { version: string; packages: Record<string, { version?: string }> };
    lock.version = '1.0.1';
    lock.packages['']!.version = '1.0.1';
    const pkg = JSON.parse(await (await import('node:fs/promises')).readFile(join(dir, 'node-seed', 'package.json'), 'utf8')) as { version: string };
    pkg.version = '1.0.1';
    await commitFiles(join(dir, 'node-seed'), { 'package-lock.json': JSON.stringify(lock, null, 2), 'package.json': JSON.stringify(pkg, null, 2) }, 'bump', remote);
    const third = await prepare('node', remote, cfg);
    assert.equal(third.env.cached, false);
    assert.notEqual(third.env.key, first.env.key);

    const listed = await listEnvironments(docker, deps.stateDir);
    const mine = listed.filter((e) => e.repo === `node-${run}`);
    assert.equal(mine.length, 2, 'two environments of this repository are cached');
    assert.ok(mine.every((e) => e.setup[0] === 'npm ci' && e.seed[0] === 'node_modules' && e.ownBytes > 0));
  });

  test('python: pip install -r requirements.txt puts pytest in the image; the tests run with no network', async () => {
    const remote = await fixtureRemote(dir, 'python');
    const { env, paths } = await prepare('python', remote, envConfig({ setup: ['pip install -r requirements.txt'] }));
    assert.equal(env.cached, false);
    const r = await runIn(env.image, paths.workTree, sandboxTestCommand('python -m pytest -q', env.seed));
    assert.doesNotMatch(r.output, /No module named pytest/, r.output);
    assert.match(r.output, /2 failed, 2 passed/, r.output);
  });

  test('go: go mod download fills the module cache; go test builds offline', async () => {
    const remote = await fixtureRemote(dir, 'go');
    const { env, paths } = await prepare('go', remote, envConfig({ setup: ['go mod download'] }));
    const r = await runIn(env.image, paths.workTree, sandboxTestCommand('go test ./...', env.seed));
    assert.match(r.output, /Greeting\(Ada\) = "Hello, Ada", want "Hello, Ada!"/, r.output);
    assert.doesNotMatch(r.output, /dial tcp|missing go\.sum|no required module/, r.output);
  });

  test('devcontainer.json: its Dockerfile is built, the agent layered on it, postCreateCommand and containerEnv applied', async () => {
    const remote = await fixtureRemote(dir, 'node', {
      '.devcontainer/devcontainer.json': '// comments and trailing commas are fine\n{\n  "build": { "dockerfile": "Dockerfile" },\n  "postCreateCommand": "npm ci",\n  "containerEnv": { "DEVCONTAINER_MARK": "from-devcontainer" },\n}\n',
      '.devcontainer/Dockerfile': 'FROM nightshift/universal:latest\nUSER root\nRUN echo built-from-the-repository > /etc/nightshift-devcontainer-mark\n',
    });
    const { env, paths } = await prepare('devc', remote, envConfig());
    assert.equal(env.source, 'devcontainer');
    assert.deepEqual(env.setup, ['npm ci']);
    await seedWorkspace(sandbox, { workflowId: `envtest-${run}`, image: env.image, seed: env.seed, workTree: paths.workTree, repo: paths });
    const r = await runIn(env.image, paths.workTree, ['sh', '-c', 'cat /etc/nightshift-devcontainer-mark; echo "mark=$DEVCONTAINER_MARK"; id -u; claude --version; npm test']);
    assert.match(r.output, /built-from-the-repository/);
    assert.match(r.output, /mark=from-devcontainer/);
    assert.match(r.output, /^1000$/m);
    assert.match(r.output, /Claude Code/);
    assert.match(r.output, /(?:#|ℹ) pass 1\b/);
  });

  test('a repository Dockerfile cannot ADD a URL, nor use a symlink as its build context (the host would pack what it points at)', async () => {
    const viaAdd = await fixtureRemote(join(dir, 'add'), 'node', {
      '.devcontainer/devcontainer.json': '{ "build": { "dockerfile": "Dockerfile" } }\n',
      '.devcontainer/Dockerfile': 'FROM nightshift/universal:latest\nADD http://127.0.0.1:8233/api/v1/namespaces /loot\n',
    });
    await assert.rejects(prepare('addurl', viaAdd, envConfig()), (err: unknown) => err instanceof NightshiftError && err.code === 'ENV_INVALID' && /ADD of a URL/.test(err.message));

    const linked = join(dir, 'linked');
    const remote = await fixtureRemote(linked, 'node', { 'ctxdir/Dockerfile': 'FROM nightshift/universal:latest\n' });
    // A tracked symlink `ctx` → a host directory, named as the build context.
    await execRun('ln', ['-s', '/etc', join(linked, 'node-seed', 'ctx')]);
    await commitFiles(join(linked, 'node-seed'), { '.devcontainer.json': '{ "build": { "dockerfile": "ctxdir/Dockerfile", "context": "ctx" } }\n' }, 'symlinked context', remote);
    await assert.rejects(prepare('symctx', remote, envConfig()), (err: unknown) => err instanceof NightshiftError && err.code === 'ENV_INVALID' && /symbolic link/.test(err.message));
  });

  test('a failing setup command is named, with its output; setup cannot reach host ports', async () => {
    let server: Server | undefined;
    try {
      server = createServer((_q, res) => res.end('host secret'));
      await new Promise<void>((r) => server!.listen(0, '0.0.0.0', r));
      const port = (server.address() as { port: number }).port;
      const remote = await fixtureRemote(join(dir, 'probe'), 'python');
      const probe =
        `python3 -c "import urllib.request, sys\nfor u in ['http://172.30.0.1:${port}', 'http://169.254.169.254/latest/meta-data/']:\n` +
        `  try:\n    urllib.request.urlopen(u, timeout=3); print('REACHED', u)\n  except Exception as e:\n    print('blocked', u, type(e).__name__)\nsys.exit(1)"`;
      await assert.rejects(
        prepare('hostprobe', remote, envConfig({ setup: ['pip --version', probe] })),
        (err: unknown) => {
          assert.ok(err instanceof NightshiftError);
          assert.equal(err.code, 'ENV_SETUP_FAILED');
          const d = err.options.details as { command?: string; outputTail?: string; step?: number };
          assert.equal(d.step, 2);
          assert.equal(d.command, probe);
          assert.match(err.message, /failed \(exit code 1\)/);
          assert.doesNotMatch(d.outputTail ?? '', /REACHED/);
          assert.match(d.outputTail ?? '', /blocked http:\/\/172\.30\.0\.1/);
          assert.match(d.outputTail ?? '', /blocked http:\/\/169\.254\.169\.254/);
          return true;
        },
      );
    } finally {
      server?.close();
    }
    // Cloud metadata is dropped for the setup network whether or not this host has any.
    const net = (await docker.getNetwork(base.environments.network).inspect()) as { Id: string; Options?: Record<string, string> };
    const bridge = net.Options?.['com.docker.network.bridge.name'] ?? `br-${net.Id.slice(0, 12)}`;
    await execRun('iptables', ['-w', '-C', 'DOCKER-USER', '-i', bridge, '-d', '169.254.0.0/16', '-j', 'DROP']);
  });
});
