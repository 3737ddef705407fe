/**
 * Preparing a repository's environment for a run (or for `nightshift env build`):
 *
 *   resolve the spec (config > devcontainer.json > universal) at the base commit
 *   → base image: the agent image, or a declared image / Dockerfile with the agent layered on
 *   → key = hash(base image id, agent image id, setup, env, dependency files)
 *   → cached image with that key? reuse it : run setup (egress, no secrets) and commit
 *   → seed the workspace with what setup made in /workspace; exclude it from staging
 *
 * A second run with unchanged lock files finds the image by its key and runs no setup.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { PreparedEnvironment } from '../../workflows/activityTypes.js';
import type { AgentKind } from '../../workflows/types.js';
import type { EnvironmentConfig, EnvironmentsSettings } from '../../worker/config.js';
import type { Logger } from '../../worker/logger.js';
import { NightshiftError } from '../errors.js';
import { excludeSeedPaths, exportTree, fileAt, hostGit, type RepoPaths } from '../git.js';
import type { SandboxManager } from '../sandbox.js';
import { ENV_LABELS, pruneEnvironments, touchEnvironment } from './cache.js';
import { environmentKey, envImageTag, isDependencyFile } from './cacheKey.js';
import { hostTrust } from './hostTrust.js';
import { checkRepositoryDockerfile } from './dockerfileCheck.js';
import { buildAgentLayer, buildImage, ensureImage, inspectImage, type ImageInfo } from './images.js';
import { isSafeSeedPath, runSetup, SEED_DIR } from './setup.js';
import { resolveEnvironmentSpec, type EnvironmentSpec } from './spec.js';

/** The universal image the agent images are built on (its variables are not carried to other bases). */
export const UNIVERSAL_IMAGE = 'nightshift/universal:latest';

/** Dependencies of {@link prepareEnvironment}. */
export interface EnvironmentDeps {
  docker: Docker;
  sandbox: SandboxManager;
  settings: EnvironmentsSettings;
  stateDir: string;
  logger: Logger;
}

/** Input of {@link prepareEnvironment}. */
export interface PrepareEnvironmentInput {
  /** The run (or `env-<repo>` for the CLI); labels the setup container. */
  workflowId: string;
  repo: string;
  config: EnvironmentConfig;
  agent: AgentKind;
  /** The agent's image (repos.<name>.images or the default). */
  agentImage: string;
  /** The run's repository on the host (the base commit is read through its git directory). */
  repoPaths: RepoPaths;
  baseSha: string;
  /** Rebuild even when a cached image has the key (`nightshift env build --force`). */
  force?: boolean;
  /** Progress: each phase and each setup output line. */
  onProgress?: (line: string) => void;
}

/** The prepared environment plus what was decided on the way. */
export interface PreparedEnvironmentDetails extends PreparedEnvironment {
  warnings: string[];
  spec: EnvironmentSpec;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const envName = (e: string): string => e.slice(0, e.indexOf('='));

/** Builds of one environment image (tag) in this process share one promise (two runs of one repository at once). */
const building = new Map<string, Promise<{ image: string; seed: string[] }>>();

/**
 * The base image the environment starts from, with the agent in it.
 * @throws NightshiftError IMAGE_MISSING (agent image), ENV_BUILD_FAILED
 */
async function runBase(deps: EnvironmentDeps, input: PrepareEnvironmentInput, spec: EnvironmentSpec): Promise<{ name: string; info: ImageInfo; agentInfo: ImageInfo }> {
  const { docker } = deps;
  const agentInfo = await inspectImage(docker, input.agentImage);
  if (!agentInfo) {
    throw new NightshiftError('IMAGE_MISSING', `sandbox image ${input.agentImage} is missing (build the sandbox images: bash sandbox-images/build.sh)`, { retryable: false });
  }
  if (spec.base.kind === 'agent-image') return { name: input.agentImage, info: agentInfo, agentInfo };
  let baseName: string;
  let baseInfo: ImageInfo;
  if (spec.base.kind === 'image') {
    input.onProgress?.(`base image ${spec.base.image}`);
    baseName = spec.base.image;
    baseInfo = await ensureImage(docker, baseName);
  } else {
    const { dockerfile, context, args, target } = spec.base;
    const contextTree = (await hostGit(input.repoPaths, ['rev-parse', `${input.baseSha}:${context === '.' ? '' : context}`])).stdout.trim();
    const fp = sha(JSON.stringify({ dockerfile, context, contextTree, args, target }));
    baseName = `nightshift/envbase:${input.repo.toLowerCase()}-${fp.slice(0, 16)}`;
    const have = await inspectImage(docker, baseName);
    if (have) baseInfo = have;
    else {
      input.onProgress?.(`building ${dockerfile} (context ${context})`);
      // The repository's RUN steps get what setup gets: registries, no host port, no metadata.
      const network = await deps.sandbox.ensureSetupNetwork(deps.settings.subnet);
      await deps.sandbox.isolateSetupNetwork(deps.settings.allowNetworks);
      const dockerfileText = await fileAt(input.repoPaths, input.baseSha, dockerfile);
      if (dockerfileText === undefined) throw new NightshiftError('ENV_INVALID', `${dockerfile}: no such file at the base commit`, { retryable: false, details: { file: dockerfile } });
      checkRepositoryDockerfile(dockerfileText, dockerfile);
      const dir = await mkdtemp(join(tmpdir(), 'nightshift-env-context-'));
      try {
        await exportTree(input.repoPaths, input.baseSha, join(dir, 'tree'));
        const rel = (p: string): string => (context === '.' ? p : p.startsWith(`${context}/`) ? p.slice(context.length + 1) : p);
        const contextDir = await insideWithoutLinks(join(dir, 'tree'), context);
        await insideWithoutLinks(join(dir, 'tree'), dockerfile);
        await buildImage(docker, {
          context: contextDir,
          dockerfile: rel(dockerfile),
          tag: baseName,
          labels: { 'nightshift.env.repo': input.repo, 'nightshift.env.layer': 'dockerfile' },
          args,
          target,
          proxy: hostTrust(deps.settings).proxy,
          network,
          limits: { memoryMb: deps.sandbox.settings.memoryMb, cpus: deps.sandbox.settings.cpus, timeoutMs: spec.setupTimeoutMs },
          onLine: input.onProgress,
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      baseInfo = (await inspectImage(docker, baseName))!;
    }
  }
  const universalEnv = (await inspectImage(docker, UNIVERSAL_IMAGE))?.env ?? [];
  const fingerprint = sha(JSON.stringify({ base: baseInfo.id, agent: agentInfo.id, universal: universalEnv }));
  const tag = `nightshift/envbase:${input.repo.toLowerCase()}-${input.agent}-${fingerprint.slice(0, 16)}`;
  input.onProgress?.(`adding ${input.agent} to ${baseName}`);
  await buildAgentLayer(docker, {
    base: { name: baseName, info: baseInfo },
    agentImage: { name: input.agentImage, info: agentInfo },
    universalEnv,
    agent: input.agent,
    tag,
    fingerprint,
    labels: { 'nightshift.env.repo': input.repo, 'nightshift.env.layer': 'agent' },
    onLine: input.onProgress,
  });
  const info = await inspectImage(docker, tag);
  if (!info) throw new NightshiftError('ENV_BUILD_FAILED', `agent layer ${tag} is missing after its build`, { retryable: false });
  return { name: tag, info, agentInfo };
}

/**
 * `root/rel`, checked to stay inside `root` with no symbolic link on the way (a tracked symlink
 * named as a build context would otherwise make the worker pack a host directory).
 * @throws NightshiftError ENV_INVALID
 */
async function insideWithoutLinks(root: string, rel: string): Promise<string> {
  let at = root;
  for (const part of rel.split('/').filter((p) => p !== '' && p !== '.')) {
    if (part === '..') throw new NightshiftError('ENV_INVALID', `${rel}: leaves the repository`, { retryable: false, details: { path: rel } });
    at = join(at, part);
    const st = await lstat(at).catch(() => undefined);
    if (!st) throw new NightshiftError('ENV_INVALID', `${rel}: no such path at the base commit`, { retryable: false, details: { path: rel } });
    if (st.isSymbolicLink()) throw new NightshiftError('ENV_INVALID', `${rel}: ${part} is a symbolic link; a build context and its Dockerfile must be real paths in the repository`, { retryable: false, details: { path: rel } });
  }
  return at;
}

/** Dependency manifests and lock files of the base commit, with their blob ids; plus the spec's inputs. */
async function keyFiles(repo: RepoPaths, baseSha: string, inputs: string[]): Promise<Array<{ path: string; blob: string }>> {
  const listing = (await hostGit(repo, ['ls-tree', '-r', '-z', baseSha])).stdout.split('\0').filter(Boolean);
  const files = listing
    .map((e) => ({ meta: e.slice(0, e.indexOf('\t')), path: e.slice(e.indexOf('\t') + 1) }))
    .filter((e) => isDependencyFile(e.path))
    .map((e) => ({ path: e.path, blob: e.meta.split(' ')[2] ?? '' }));
  for (const input of inputs) {
    const id = await hostGit(repo, ['rev-parse', `${baseSha}:${input === '.' ? '' : input}`]).then((r) => r.stdout.trim(), () => 'absent');
    files.push({ path: input, blob: id });
  }
  return files;
}

/**
 * Prepares (or finds) the environment of a run and seeds its workspace.
 * @throws NightshiftError ENV_INVALID / ENV_BUILD_FAILED / ENV_SETUP_FAILED (not retryable: the
 *   declaration must change), IMAGE_MISSING, DOCKER_UNAVAILABLE, SANDBOX_* (retryable or not)
 */
export async function prepareEnvironment(deps: EnvironmentDeps, input: PrepareEnvironmentInput): Promise<PreparedEnvironmentDetails> {
  const started = Date.now();
  const repo = input.repoPaths;
  const spec = await resolveEnvironmentSpec(input.config, (path) => fileAt(repo, input.baseSha, path));
  input.onProgress?.(`environment from ${spec.source}${spec.setup.length ? `: ${spec.setup.length} setup command(s)` : ''}`);
  const base = await runBase(deps, input, spec);
  const declaredEnv = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  const files = await keyFiles(repo, input.baseSha, spec.inputs);
  const key = environmentKey({ baseImageId: base.info.id, agentImageId: base.agentInfo.id, agent: input.agent, repo: input.repo, spec, files });
  const done = (image: string, seed: string[], cached: boolean): PreparedEnvironmentDetails => ({
    image,
    key,
    source: spec.source,
    cached,
    setup: spec.setup,
    seed,
    prepareMs: Date.now() - started,
    warnings: spec.warnings,
    spec,
  });
  if (spec.setup.length === 0 && declaredEnv.length === 0) return done(base.name, [], true);

  const tag = envImageTag(input.repo, input.agent, key);
  const existing = input.force ? undefined : await inspectImage(deps.docker, tag);
  if (existing && existing.labels[ENV_LABELS.key] === key && existing.labels[ENV_LABELS.repo] === input.repo) {
    const seed = parseSeedLabel(existing.labels[ENV_LABELS.seed]);
    input.onProgress?.(`cached environment ${tag}`);
    await touchEnvironment(deps.stateDir, key);
    return done(tag, seed, true);
  }
  let pending = building.get(tag);
  if (!pending) {
    pending = buildEnvironment(deps, input, { spec, base, key, tag, declaredEnv }).finally(() => building.delete(tag));
    building.set(tag, pending);
  }
  const built = await pending;
  await touchEnvironment(deps.stateDir, key);
  pruneEnvironments(deps.docker, deps.stateDir, {
    maxTotalBytes: deps.settings.maxTotalGb * 1e9,
    maxAgeDays: deps.settings.maxAgeDays,
    keep: [key],
  }).then(
    (r) => r.removed.length > 0 && deps.logger.info({ removed: r.removed.map((x) => x.image) }, 'pruned environment images'),
    (err: unknown) => deps.logger.warn({ err }, 'could not prune environment images'),
  );
  return done(built.image, built.seed, false);
}

/** Seed paths from an image label, each validated ({@link isSafeSeedPath}). */
function parseSeedLabel(text: string | undefined): string[] {
  let v: unknown;
  try {
    v = JSON.parse(text ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(v)) return [];
  return v.filter((p): p is string => typeof p === 'string' && isSafeSeedPath(p));
}

/** Runs setup on the base and commits the result as `tag`. */
async function buildEnvironment(
  deps: EnvironmentDeps,
  input: PrepareEnvironmentInput,
  b: { spec: EnvironmentSpec; base: { name: string; info: ImageInfo }; key: string; tag: string; declaredEnv: string[] },
): Promise<{ image: string; seed: string[] }> {
  await deps.sandbox.ensureSetupNetwork(deps.settings.subnet);
  await deps.sandbox.isolateSetupNetwork(deps.settings.allowNetworks);
  const dir = await mkdtemp(join(tmpdir(), 'nightshift-env-src-'));
  try {
    await exportTree(input.repoPaths, input.baseSha, join(dir, 'src'));
    input.onProgress?.(`running setup in ${b.base.name}`);
    const setup = await runSetup(deps.sandbox, {
      workflowId: input.workflowId,
      image: b.base.name,
      source: join(dir, 'src'),
      commands: b.spec.setup,
      env: b.declaredEnv,
      trust: hostTrust(deps.settings),
      timeoutMs: b.spec.setupTimeoutMs,
      labels: { [ENV_LABELS.key]: b.key, 'nightshift.env.build': 'setup' },
      onLine: input.onProgress,
    });
    try {
      // A seed path the base commit tracks would override the repository's own file in every
      // workspace and test export: never seeded.
      const tracked = (await hostGit(input.repoPaths, ['ls-tree', '-r', '-z', '--name-only', input.baseSha])).stdout.split('\0').filter(Boolean);
      const seed = setup.seed.filter((p) => !tracked.some((t) => t === p || t.startsWith(`${p}/`)));
      const declared = new Set(b.declaredEnv.map(envName));
      const env = [...b.base.info.env.filter((e) => !declared.has(envName(e))), ...b.declaredEnv];
      const [repoName, tagName] = splitTag(b.tag);
      const labels: Record<string, string> = {
        [ENV_LABELS.key]: b.key,
        [ENV_LABELS.repo]: input.repo,
        [ENV_LABELS.agent]: input.agent,
        [ENV_LABELS.source]: b.spec.source,
        [ENV_LABELS.seed]: JSON.stringify(seed),
        [ENV_LABELS.setup]: JSON.stringify(b.spec.setup),
        [ENV_LABELS.created]: new Date().toISOString(),
        [ENV_LABELS.setupMs]: String(setup.durationMs),
        [ENV_LABELS.baseBytes]: String(b.base.info.sizeBytes),
      };
      await deps.sandbox.commit(setup.containerId, {
        repo: repoName,
        tag: tagName,
        config: { Env: env, Cmd: b.base.info.cmd, User: b.base.info.user || '1000:1000', WorkingDir: '/workspace', Labels: labels },
      });
      const committed = await inspectImage(deps.docker, b.tag);
      if (!committed) throw new NightshiftError('ENV_BUILD_FAILED', `environment image ${b.tag} is missing after the commit`, { retryable: true });
      deps.logger.info({ image: b.tag, key: b.key, seed, setupMs: setup.durationMs, bytes: committed.sizeBytes - b.base.info.sizeBytes }, 'environment built');
      input.onProgress?.(`environment ${b.tag} built in ${(setup.durationMs / 1000).toFixed(1)} s`);
      return { image: b.tag, seed };
    } finally {
      await setup.remove();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `name:tag` → [name, tag]. */
function splitTag(ref: string): [string, string] {
  const i = ref.lastIndexOf(':');
  return i > ref.lastIndexOf('/') ? [ref.slice(0, i), ref.slice(i + 1)] : [ref, 'latest'];
}

/**
 * Copies the environment's seed (what setup made in /workspace) into a host work tree, in a
 * container of the environment's image (no network), as the sandbox user; and records the paths
 * so that host git never stages them.
 * @throws NightshiftError SANDBOX_FAILED when the copy fails
 */
export async function seedWorkspace(
  sandbox: SandboxManager,
  input: { workflowId: string; image: string; seed: string[]; workTree: string; repo?: RepoPaths },
): Promise<void> {
  if (input.repo) await excludeSeedPaths(input.repo, input.seed);
  if (input.seed.length === 0) return;
  const lines: string[] = [];
  const c = await sandbox.start({
    workflowId: input.workflowId,
    purpose: 'seed',
    image: input.image,
    // Only the listed paths (never anything else the image holds under the seed directory).
    cmd: ['sh', '-c', `cd ${SEED_DIR} && exec cp -a --parents -- "$@" /workspace/`, 'nightshift-seed', ...input.seed],
    env: [],
    workspace: input.workTree,
    network: 'none',
    onLine: (_s, line) => lines.push(line),
  });
  try {
    const code = await c.exited;
    if (code !== 0) throw new NightshiftError('SANDBOX_FAILED', `seeding the workspace from ${input.image} failed (exit code ${code})`, { retryable: true, details: { output: lines.slice(-10).join('\n') } });
  } finally {
    await c.remove();
  }
}

/**
 * Go's test runner names every test only when verbose: Nightshift's test contract needs the names
 * (a terse `ok pkg` would vouch for tests that never ran), so `-v` is added to whatever GOFLAGS
 * the environment has. Other commands ignore it (Go applies GOFLAGS only where a flag is known).
 */
const GO_VERBOSE = 'export GOFLAGS="${GOFLAGS:+$GOFLAGS }-v"';

/** The test command as a sandbox runs it: Go made verbose, the environment's seed copied into /workspace first (one container). */
export function sandboxTestCommand(testCommand: string, seed: string[] | undefined): string[] {
  if (!seed || seed.length === 0) return ['sh', '-c', `${GO_VERBOSE}; exec sh -c "$1"`, 'nightshift-test', testCommand];
  return [
    'sh',
    '-c',
    `${GO_VERBOSE}; test="$1"; shift; (cd ${SEED_DIR} && cp -a --parents -- "$@" /workspace/) || exit 125; cd /workspace && exec sh -c "$test"`,
    'nightshift-test',
    testCommand,
    ...seed,
  ];
}

export { SEED_DIR };
