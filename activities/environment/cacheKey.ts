/**
 * The cache key of a prepared environment: what its content depends on (the base image, the agent
 * image, the setup, the dependency manifests and lock files, the Dockerfile's context), hashed, and
 * the Docker image tag it is stored under. Pure.
 */
import { createHash } from 'node:crypto';
import type { EnvironmentSpec } from './spec.js';

/** Version of the key's canonical form; bump it when what the key covers (or what setup does) changes. */
export const ENV_KEY_VERSION = 1;

/** Basenames of dependency manifests and lock files, across ecosystems. */
export const LOCK_FILES: readonly string[] = [
  // Node.js
  'package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', 'yarn.lock', '.yarnrc.yml', '.npmrc',
  '.nvmrc', '.node-version',
  // Python (requirements*.txt and constraints*.txt by pattern, see isDependencyFile)
  'pyproject.toml', 'setup.py', 'setup.cfg', 'Pipfile', 'Pipfile.lock', 'poetry.lock', 'uv.lock', '.python-version',
  // Go
  'go.mod', 'go.sum', 'go.work', 'go.work.sum',
  // Rust
  'Cargo.toml', 'Cargo.lock', 'rust-toolchain', 'rust-toolchain.toml',
  // Ruby
  'Gemfile', 'Gemfile.lock',
  // JVM
  'pom.xml', 'build.gradle', 'build.gradle.kts', 'settings.gradle', 'settings.gradle.kts', 'gradle.lockfile',
  // PHP
  'composer.json', 'composer.lock',
  // several
  '.tool-versions',
];

const LOCK_SET = new Set(LOCK_FILES);
/** `requirements.txt`, `requirements-dev.txt`, `requirements_test.txt`, `constraints.txt`… */
const PATTERNS = [/^requirements[\w.-]*\.txt$/, /^constraints[\w.-]*\.txt$/];
/** Directories whose files are never the repository's own manifests (installed or vendored code, git). */
const EXCLUDED_DIRS = new Set(['node_modules', 'vendor', '.git']);

/**
 * True when `path` (from the repository root, `/`-separated) is a dependency manifest or lock file:
 * its basename is in {@link LOCK_FILES} or matches `requirements*.txt` / `constraints*.txt`, and no
 * directory on its path is `node_modules/`, `vendor/` or `.git/`.
 */
export function isDependencyFile(path: string): boolean {
  const parts = path.replaceAll('\\', '/').split('/').filter((p) => p !== '' && p !== '.');
  const base = parts.pop();
  if (!base || parts.some((p) => EXCLUDED_DIRS.has(p))) return false;
  return LOCK_SET.has(base) || PATTERNS.some((re) => re.test(base));
}

/** A path is `input` or lies under it (`.` = everything). */
function under(path: string, input: string): boolean {
  return input === '.' || path === input || path.startsWith(`${input}/`);
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What {@link environmentKey} hashes. */
export interface EnvironmentKeyInput {
  /** Image id (`sha256:…`) of the base: the agent image, the configured image, or the built Dockerfile image. */
  baseImageId: string;
  /** Image id of the agent image whose CLI is layered on the base. */
  agentImageId: string;
  /** `claude-code` | `codex`. */
  agent: string;
  /**
   * The repository (its configuration name, exactly): environments are never shared between
   * repositories, even with identical manifests and setup (setup also reads files outside the key).
   */
  repo?: string;
  spec: EnvironmentSpec;
  /**
   * (path, git object id) pairs from `git ls-tree -r` of the base commit (a tree id for a directory
   * input is fine too). Only dependency files ({@link isDependencyFile}) and paths equal to or
   * under one of `spec.inputs` count; the rest are ignored, so a source change keeps the key.
   */
  files: Array<{ path: string; blob: string }>;
}

/**
 * The environment's cache key: sha256 (64 lower-case hex digits) of a canonical JSON of the key
 * version, the base and agent image ids, the agent, the spec's base, setup commands and env, and
 * the relevant files sorted by path. Independent of the order of `files` and of object key order;
 * the spec's `source`, `warnings`, `setupTimeoutMs` and `inputs` themselves do not count.
 */
export function environmentKey(input: EnvironmentKeyInput): string {
  const { spec } = input;
  const files = new Map<string, string>();
  for (const f of input.files) {
    const path = f.path.replace(/^\.\//, '');
    if (isDependencyFile(path) || spec.inputs.some((i) => under(path, i))) files.set(path, f.blob);
  }
  const doc = {
    v: ENV_KEY_VERSION,
    baseImageId: input.baseImageId,
    agentImageId: input.agentImageId,
    agent: input.agent,
    ...(input.repo !== undefined ? { repo: input.repo } : {}),
    base: spec.base,
    setup: spec.setup,
    env: spec.env,
    files: [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  };
  return createHash('sha256').update(canonical(doc)).digest('hex');
}

/** Longest tag Docker accepts. */
const MAX_TAG = 128;

/**
 * The image reference of a prepared environment: `nightshift/env:<repo>-<agent>-<key[0:16]>`, the
 * tag sanitised to Docker's grammar (`[a-z0-9_][a-z0-9_.-]{0,127}` here: lower-cased, any other
 * character becomes `-`, the repo part shortened so the tag stays ≤ 128 characters).
 * Grammar: https://docs.docker.com/reference/cli/docker/image/tag/
 */
export function envImageTag(repo: string, agent: string, key: string): string {
  const clean = (s: string): string => s.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-');
  const suffix = `-${clean(agent)}-${clean(key.slice(0, 16))}`;
  let repoPart = clean(repo).replace(/^[.-]+/, '');
  repoPart = repoPart.slice(0, MAX_TAG - suffix.length) || 'repo';
  return `nightshift/env:${repoPart}${suffix}`;
}
