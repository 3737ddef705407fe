/**
 * The cache of environment images. Each image Nightshift commits after a setup carries its
 * identity in labels (key, repository, agent, seed paths, own size); the last use of each is kept
 * in `<stateDir>/environments/last-used.json` (labels cannot change after the fact). Pruning
 * removes the least recently used images above a total size, and those unused for too long.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { NightshiftError } from '../errors.js';

/** Every environment image is tagged `nightshift/env:…` (see envImageTag). */
export const ENV_IMAGE_PREFIX = 'nightshift/env:';

/** Labels of an environment image. */
export const ENV_LABELS = {
  key: 'nightshift.env.key',
  repo: 'nightshift.env.repo',
  agent: 'nightshift.env.agent',
  source: 'nightshift.env.source',
  /** JSON array of the seed paths. */
  seed: 'nightshift.env.seed',
  /** JSON array of the setup commands. */
  setup: 'nightshift.env.setup',
  created: 'nightshift.env.created',
  /** Size of the image the environment was committed on, bytes: the environment adds its size minus this. */
  baseBytes: 'nightshift.env.base-bytes',
  setupMs: 'nightshift.env.setup-ms',
} as const;

/** One cached environment, as `nightshift env list` shows it. */
export interface CachedEnvironment {
  key: string;
  image: string;
  imageId: string;
  repo: string;
  agent: string;
  source: string;
  setup: string[];
  seed: string[];
  createdAt: string;
  /** Last time a run used it (ISO 8601); its creation when never used since. */
  lastUsedAt: string;
  /** Bytes it adds to its base image. */
  ownBytes: number;
  /** Size of the whole image, bytes (shared layers included). */
  sizeBytes: number;
  setupMs: number;
}

const jsonArray = (text: string | undefined): string[] => {
  try {
    const v: unknown = JSON.parse(text ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
};

/** Where the last-use times live. */
const lastUsedFile = (stateDir: string): string => join(stateDir, 'environments', 'last-used.json');

let writing: Promise<unknown> = Promise.resolve();

/** Last-use times by key (ISO 8601). */
export async function readLastUsed(stateDir: string): Promise<Record<string, string>> {
  return readFile(lastUsedFile(stateDir), 'utf8').then(
    (t) => JSON.parse(t) as Record<string, string>,
    () => ({}),
  );
}

/** Records that `key` was used now (atomic write; writes of one process are serialised). */
export async function touchEnvironment(stateDir: string, key: string, at = new Date()): Promise<void> {
  const next = writing.then(async () => {
    const all = await readLastUsed(stateDir);
    all[key] = at.toISOString();
    await mkdir(join(stateDir, 'environments'), { recursive: true });
    const tmp = `${lastUsedFile(stateDir)}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(all, null, 1));
    await rename(tmp, lastUsedFile(stateDir));
  });
  writing = next.catch(() => undefined);
  await next;
}

/**
 * Every environment image on this Docker engine.
 * @throws NightshiftError DOCKER_UNAVAILABLE
 */
export async function listEnvironments(docker: Docker, stateDir: string): Promise<CachedEnvironment[]> {
  let images: Docker.ImageInfo[];
  try {
    images = await docker.listImages({ filters: { label: [ENV_LABELS.key] } });
  } catch (err) {
    throw new NightshiftError('DOCKER_UNAVAILABLE', 'could not list environment images', { cause: err, retryable: true });
  }
  const used = await readLastUsed(stateDir);
  // Only images Nightshift tagged as environments: a repository's Dockerfile can set any label.
  return images
    .filter((i) => (i.RepoTags ?? []).some((t) => t.startsWith(ENV_IMAGE_PREFIX)))
    .map((i): CachedEnvironment => {
      const l = i.Labels ?? {};
      const key = l[ENV_LABELS.key] ?? '';
      const createdAt = l[ENV_LABELS.created] ?? new Date(i.Created * 1000).toISOString();
      return {
        key,
        image: i.RepoTags?.find((t) => t.startsWith(ENV_IMAGE_PREFIX)) ?? i.Id,
        imageId: i.Id,
        repo: l[ENV_LABELS.repo] ?? '',
        agent: l[ENV_LABELS.agent] ?? '',
        source: l[ENV_LABELS.source] ?? '',
        setup: jsonArray(l[ENV_LABELS.setup]),
        seed: jsonArray(l[ENV_LABELS.seed]),
        createdAt,
        lastUsedAt: used[key] ?? createdAt,
        ownBytes: Math.max(0, i.Size - (Number(l[ENV_LABELS.baseBytes] ?? 0) || 0)),
        sizeBytes: i.Size,
        setupMs: Number(l[ENV_LABELS.setupMs] ?? 0) || 0,
      };
    })
    .sort((a, b) => b.lastUsedAt.localeCompare(a.lastUsedAt));
}

/** What pruning removed and why. */
export interface PruneResult {
  removed: Array<{ key: string; image: string; reason: 'age' | 'size' | 'all'; ownBytes: number }>;
  /** Images that could not be removed (in use by a container). */
  skipped: Array<{ key: string; image: string; why: string }>;
  keptBytes: number;
}

/**
 * Which environments a policy removes: unused for `maxAgeDays`, then least recently used above
 * `maxTotalBytes` (counted over all environments); `all` removes every one; `repo` limits the
 * removals to one repository's; `keep` (keys) are never removed.
 */
export function choosePrunes(
  envs: CachedEnvironment[],
  policy: { maxTotalBytes: number; maxAgeDays: number; now: Date; keep?: string[]; all?: boolean; repo?: string },
): Array<{ env: CachedEnvironment; reason: 'age' | 'size' | 'all' }> {
  const keep = new Set(policy.keep ?? []);
  const candidates = envs.filter((e) => !keep.has(e.key) && (policy.repo === undefined || e.repo === policy.repo));
  if (policy.all) return candidates.map((env) => ({ env, reason: 'all' }));
  const cutoff = policy.now.getTime() - policy.maxAgeDays * 86_400_000;
  const out: Array<{ env: CachedEnvironment; reason: 'age' | 'size' | 'all' }> = [];
  const aged = new Set(candidates.filter((e) => Date.parse(e.lastUsedAt) < cutoff).map((e) => e.key));
  for (const e of candidates) if (aged.has(e.key)) out.push({ env: e, reason: 'age' });
  let total = envs.filter((e) => !aged.has(e.key)).reduce((s, e) => s + e.ownBytes, 0);
  const lru = candidates.filter((e) => !aged.has(e.key)).sort((a, b) => a.lastUsedAt.localeCompare(b.lastUsedAt));
  for (const e of lru) {
    if (total <= policy.maxTotalBytes) break;
    out.push({ env: e, reason: 'size' });
    total -= e.ownBytes;
  }
  return out;
}

/**
 * Removes environment images per {@link choosePrunes}. An image a container still uses is skipped.
 * @throws NightshiftError DOCKER_UNAVAILABLE
 */
export async function pruneEnvironments(
  docker: Docker,
  stateDir: string,
  policy: { maxTotalBytes: number; maxAgeDays: number; now?: Date; keep?: string[]; all?: boolean; dryRun?: boolean; repo?: string },
): Promise<PruneResult> {
  const envs = await listEnvironments(docker, stateDir);
  const chosen = choosePrunes(envs, { ...policy, now: policy.now ?? new Date() });
  const result: PruneResult = { removed: [], skipped: [], keptBytes: 0 };
  for (const { env, reason } of chosen) {
    if (policy.dryRun) {
      result.removed.push({ key: env.key, image: env.image, reason, ownBytes: env.ownBytes });
      continue;
    }
    try {
      await docker.getImage(env.imageId).remove({ force: false });
      result.removed.push({ key: env.key, image: env.image, reason, ownBytes: env.ownBytes });
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      if (code === 404) continue;
      result.skipped.push({ key: env.key, image: env.image, why: (err as Error).message ?? String(err) });
    }
  }
  const gone = new Set(result.removed.map((r) => r.key));
  result.keptBytes = envs.filter((e) => !gone.has(e.key)).reduce((s, e) => s + e.ownBytes, 0);
  return result;
}
