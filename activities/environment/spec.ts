/**
 * A repository's environment specification: where its base comes from and which setup commands
 * prepare it, resolved from our config, the repository's devcontainer.json, or the default. Pure
 * but for the `readFile` it is given (files of the base commit).
 */
import type { EnvironmentConfig } from '../../worker/config.js';
import { NightshiftError } from '../errors.js';
import { parseDevcontainer, repoRelative, type DevcontainerSpec } from './devcontainer.js';

/** The base an environment is built on. Paths are from the repository root (`.` = the root). */
export type EnvironmentBase =
  /** The agent's own (universal) image. */
  | { kind: 'agent-image' }
  /** An image reference (local, or pullable where a registry is reachable). */
  | { kind: 'image'; image: string }
  /** A Dockerfile of the repository built at the base commit; `args` are `--build-arg`s. */
  | { kind: 'dockerfile'; dockerfile: string; context: string; args: Record<string, string>; target?: string };

/** What a repository's environment is, wherever it was declared. */
export interface EnvironmentSpec {
  /** Where it was declared: `repos.<name>.environment`, a devcontainer.json, or nowhere. */
  source: 'config' | 'devcontainer' | 'default';
  /** The devcontainer.json read, when `source` is `devcontainer`. */
  sourcePath?: string;
  base: EnvironmentBase;
  /** Shell commands (`sh -c` each), in order, run once in /workspace with registry egress. */
  setup: string[];
  /** Non-secret variables for setup, the agent and the tests (config `env` over devcontainer containerEnv, remoteEnv). */
  env: Record<string, string>;
  /** Longest the whole setup may take, milliseconds. */
  setupTimeoutMs: number;
  /** What was ignored or changed (unsupported devcontainer fields, unresolved variables). */
  warnings: string[];
  /** Repo paths whose content the environment depends on beyond the lock files (the Dockerfile's context dir, the devcontainer dir). */
  inputs: string[];
}

/** Where a repository's devcontainer.json may be, in the order looked at. */
export const DEVCONTAINER_PATHS = ['.devcontainer/devcontainer.json', '.devcontainer.json'] as const;

/** Paths a Dockerfile build depends on: its context, and the Dockerfile when it lies outside the context. */
function buildInputs(dockerfile: string, context: string): string[] {
  const inside = context === '.' || dockerfile.startsWith(`${context}/`);
  return inside ? [context] : [context, dockerfile];
}

function fromConfig(cfg: EnvironmentConfig, timeoutMs: number): EnvironmentSpec {
  const warnings: string[] = [];
  let base: EnvironmentBase = { kind: 'agent-image' };
  let inputs: string[] = [];
  const file = 'repos.<name>.environment';
  if (cfg.image) base = { kind: 'image', image: cfg.image };
  else if (cfg.dockerfile) {
    const dockerfile = repoRelative('', cfg.dockerfile, file, 'dockerfile');
    const dir = dockerfile.includes('/') ? dockerfile.slice(0, dockerfile.lastIndexOf('/')) : '.';
    const context = cfg.context ? repoRelative('', cfg.context, file, 'context') : dir;
    base = { kind: 'dockerfile', dockerfile, context, args: {} };
    inputs = buildInputs(dockerfile, context);
  }
  if (cfg.context && !cfg.dockerfile) warnings.push('environment.context is ignored: it applies to environment.dockerfile only');
  return { source: 'config', base, setup: [...cfg.setup], env: { ...cfg.env }, setupTimeoutMs: timeoutMs, warnings, inputs };
}

function fromDevcontainer(dc: DevcontainerSpec, cfg: EnvironmentConfig, timeoutMs: number): EnvironmentSpec {
  let base: EnvironmentBase = { kind: 'agent-image' };
  const dir = dc.path.includes('/') ? dc.path.slice(0, dc.path.lastIndexOf('/')) : dc.path;
  const inputs = new Set<string>([dir]);
  if (dc.image) base = { kind: 'image', image: dc.image };
  else if (dc.build) {
    const { dockerfile, context, args, target } = dc.build;
    base = { kind: 'dockerfile', dockerfile, context, args, ...(target ? { target } : {}) };
    for (const p of buildInputs(dockerfile, context)) inputs.add(p);
  }
  return {
    source: 'devcontainer',
    sourcePath: dc.path,
    base,
    setup: dc.setup,
    env: { ...dc.containerEnv, ...dc.remoteEnv, ...cfg.env },
    setupTimeoutMs: timeoutMs,
    warnings: dc.warnings.map((w) => `${dc.path}: ${w}`),
    inputs: [...inputs],
  };
}

/**
 * Resolves a repository's environment. Precedence: the config's keys when `image`, `dockerfile` or
 * `setup` is set; else, when `cfg.devcontainer`, `.devcontainer/devcontainer.json` (or
 * `.devcontainer.json` at the root); else the default (the agent image, no setup). The config's
 * `env` always applies, over the devcontainer's containerEnv and remoteEnv.
 *
 * @param readFile reads a file of the base commit by repository path; undefined when absent.
 * @throws NightshiftError `ENV_INVALID` (not retryable): a Dockerfile or context path that is
 *   absolute or leaves the repository, or an invalid devcontainer.json (naming the file and field).
 */
export async function resolveEnvironmentSpec(cfg: EnvironmentConfig, readFile: (path: string) => Promise<string | undefined>): Promise<EnvironmentSpec> {
  const timeoutMs = Math.round(cfg.setupTimeoutMinutes * 60_000);
  if (cfg.image || cfg.dockerfile || cfg.setup.length > 0) return fromConfig(cfg, timeoutMs);
  if (cfg.devcontainer) {
    for (const path of DEVCONTAINER_PATHS) {
      const text = await readFile(path);
      if (text !== undefined) return fromDevcontainer(parseDevcontainer(text, path), cfg, timeoutMs);
    }
  }
  return { source: 'default', base: { kind: 'agent-image' }, setup: [], env: { ...cfg.env }, setupTimeoutMs: timeoutMs, warnings: [], inputs: [] };
}

/** True when `err` is the ENV_INVALID error {@link resolveEnvironmentSpec} throws. */
export function isEnvInvalid(err: unknown): err is NightshiftError {
  return err instanceof NightshiftError && err.code === 'ENV_INVALID';
}
