/**
 * Images of environments: inspecting them, building a repository's Dockerfile, and layering an
 * agent (its CLI, user and settings, copied from the agent image) onto any base image.
 *
 * Builds go through the Docker Engine API's `/build` (dockerode `buildImage`):
 * https://docs.docker.com/reference/api/engine/version/v1.47/#tag/Image/operation/ImageBuild
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type Docker from 'dockerode';
import type { AgentKind } from '../../workflows/types.js';
import { NightshiftError } from '../errors.js';
import type { ProxySettings } from './hostTrust.js';

/** Label: the build fingerprint of an image Nightshift built (agent layers, repository Dockerfiles). */
export const BUILD_FINGERPRINT_LABEL = 'nightshift.build.fingerprint';

/** What Nightshift reads of an image. */
export interface ImageInfo {
  id: string;
  env: string[];
  cmd: string[] | null;
  user: string;
  labels: Record<string, string>;
  sizeBytes: number;
}

/**
 * Inspects an image; undefined when it does not exist.
 * @throws NightshiftError DOCKER_UNAVAILABLE / ENV_BUILD_FAILED for other Docker errors
 */
export async function inspectImage(docker: Docker, name: string): Promise<ImageInfo | undefined> {
  try {
    const i = await docker.getImage(name).inspect();
    return { id: i.Id, env: i.Config?.Env ?? [], cmd: i.Config?.Cmd ?? null, user: i.Config?.User ?? '', labels: i.Config?.Labels ?? {}, sizeBytes: i.Size };
  } catch (err) {
    const e = err as { statusCode?: number; code?: string };
    if (e.statusCode === 404) return undefined;
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') {
      throw new NightshiftError('DOCKER_UNAVAILABLE', `Docker engine unreachable (${e.code}) while inspecting ${name}`, { cause: err, retryable: true });
    }
    throw new NightshiftError('ENV_BUILD_FAILED', `could not inspect image ${name}`, { cause: err, retryable: true });
  }
}

/**
 * Makes sure `name` is present: inspects it, else pulls it (where a registry is reachable).
 * @throws NightshiftError ENV_BUILD_FAILED (not retryable) when it is neither local nor pullable
 */
export async function ensureImage(docker: Docker, name: string): Promise<ImageInfo> {
  const have = await inspectImage(docker, name);
  if (have) return have;
  try {
    const stream = await docker.pull(name);
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())));
  } catch (err) {
    throw new NightshiftError('ENV_BUILD_FAILED', `base image ${name} is not on this Docker engine and could not be pulled: ${(err as Error).message ?? String(err)}`, {
      cause: err,
      retryable: false,
      details: { image: name },
    });
  }
  const pulled = await inspectImage(docker, name);
  if (!pulled) throw new NightshiftError('ENV_BUILD_FAILED', `base image ${name} is missing after the pull`, { retryable: false });
  return pulled;
}

/** Files of a build context, relative to it (dockerode packs exactly these). */
async function contextFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** Predefined proxy build args (not kept in the image's history, per Docker's docs). */
function proxyArgs(proxy: ProxySettings): Record<string, string> {
  const out: Record<string, string> = {};
  if (proxy.http) out.HTTP_PROXY = out.http_proxy = proxy.http;
  if (proxy.https) out.HTTPS_PROXY = out.https_proxy = proxy.https;
  if (proxy.noProxy) out.NO_PROXY = out.no_proxy = proxy.noProxy;
  return out;
}

/**
 * Builds an image from a context directory (the legacy builder: local images resolve in `FROM`
 * and `COPY --from` without a registry). `onLine` gets the build's output lines.
 * @throws NightshiftError ENV_BUILD_FAILED (not retryable) with the output's tail when a step fails
 */
export async function buildImage(
  docker: Docker,
  opts: {
    context: string;
    dockerfile: string;
    tag: string;
    labels: Record<string, string>;
    args?: Record<string, string>;
    target?: string;
    proxy?: ProxySettings;
    /** Network of the build's RUN steps: the setup network (registries, no host port) or `none`. */
    network: string;
    /** Resource limits of the build's RUN containers and of the whole build (default: none). */
    limits?: { memoryMb: number; cpus: number; timeoutMs: number };
    onLine?: (line: string) => void;
  },
): Promise<string> {
  const tail: string[] = [];
  const note = (line: string): void => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
    opts.onLine?.(line);
  };
  let failure: string | undefined;
  const abort = new AbortController();
  const timer = opts.limits ? setTimeout(() => abort.abort(), opts.limits.timeoutMs) : undefined;
  const limits = opts.limits
    ? { memory: opts.limits.memoryMb * 1024 * 1024, memswap: opts.limits.memoryMb * 1024 * 1024, cpuperiod: 100_000, cpuquota: Math.round(opts.limits.cpus * 100_000) }
    : {};
  try {
    const stream = await docker.buildImage(
      { context: opts.context, src: await contextFiles(opts.context) },
      {
        t: opts.tag,
        dockerfile: opts.dockerfile,
        labels: opts.labels,
        buildargs: { ...proxyArgs(opts.proxy ?? {}), ...opts.args },
        ...(opts.target ? { target: opts.target } : {}),
        networkmode: opts.network,
        ...limits,
        rm: true,
        forcerm: true,
        abortSignal: abort.signal,
      },
    );
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(
        stream,
        (err) => (err ? reject(err) : resolve()),
        (ev: { stream?: string; error?: string }) => {
          if (ev.stream) for (const l of ev.stream.split('\n')) if (l.trim()) note(l);
          if (ev.error) failure = ev.error;
        },
      ),
    );
  } catch (err) {
    failure ??= abort.signal.aborted ? `timed out after ${Math.round((opts.limits?.timeoutMs ?? 0) / 1000)} s` : ((err as Error).message ?? String(err));
  } finally {
    clearTimeout(timer);
  }
  if (failure) {
    throw new NightshiftError('ENV_BUILD_FAILED', `building ${opts.tag} failed: ${failure.trim()}`, {
      retryable: false,
      details: { outputTail: tail.slice(-20).join('\n') },
    });
  }
  const built = await inspectImage(docker, opts.tag);
  if (!built) throw new NightshiftError('ENV_BUILD_FAILED', `building ${opts.tag} produced no image`, { retryable: false });
  return built.id;
}

/** What each agent's image holds that a layered environment copies: files and the run-time settings. */
const AGENT_FILES: Record<AgentKind, { copy: string[]; links: Array<[target: string, link: string]> }> = {
  'claude-code': { copy: ['/usr/local/bin/claude'], links: [] },
  codex: { copy: ['/opt/codex', '/etc/codex/config.toml'], links: [['/opt/codex/bin/codex', '/usr/local/bin/codex']] },
};

const envKey = (e: string): string => e.slice(0, Math.max(0, e.indexOf('=')));

/**
 * The agent's own variables: those of the agent image that its base (the universal image) does
 * not set the same way. PATH is handled apart: its agent-only entries are appended to the new base's.
 */
export function agentEnv(agentImageEnv: string[], universalEnv: string[], baseEnv: string[]): string[] {
  const inUniversal = new Set(universalEnv);
  const own = agentImageEnv.filter((e) => !inUniversal.has(e) && envKey(e) !== 'PATH');
  const pathOf = (env: string[]): string[] => (env.find((e) => envKey(e) === 'PATH') ?? 'PATH=').slice(5).split(':').filter(Boolean);
  const universalPath = new Set(pathOf(universalEnv));
  const extra = pathOf(agentImageEnv).filter((p) => !universalPath.has(p));
  const basePath = pathOf(baseEnv);
  const path = [...(basePath.length ? basePath : ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']), ...extra.filter((p) => !basePath.includes(p))];
  return [...own, `PATH=${path.join(':')}`];
}

/** A Dockerfile string literal (JSON form, which Dockerfile exec/ENV forms accept). */
const q = (s: string): string => JSON.stringify(s);

/**
 * The Dockerfile of an agent layer: the sandbox user (uid 1000) when the base has none, the
 * directories Nightshift mounts and seeds, the agent's files from its image, its variables.
 */
export function agentLayerDockerfile(opts: { base: string; agentImage: string; agent: AgentKind; env: string[] }): string {
  const files = AGENT_FILES[opts.agent];
  const lines = [
    `FROM ${opts.base}`,
    'USER root',
    // useradd (Debian, Ubuntu, Fedora) or adduser (BusyBox); nothing when uid 1000 exists.
    'RUN if ! awk -F: \'$3 == 1000 { found = 1 } END { exit !found }\' /etc/passwd; then ' +
      '(useradd --uid 1000 --user-group --create-home --home-dir /home/agent --shell /bin/sh agent 2>/dev/null || adduser -D -u 1000 -h /home/agent agent); fi' +
      ' && mkdir -p /workspace /opt/nightshift/seed /home/agent && chown 1000:1000 /workspace /opt/nightshift/seed /home/agent',
    ...files.copy.map((p) => `COPY --from=${opts.agentImage} ${q(p)} ${q(p)}`),
    ...files.links.map(([target, link]) => `RUN ln -sf ${target} ${link}`),
    ...opts.env.map((e) => `ENV ${envKey(e)}=${q(e.slice(envKey(e).length + 1))}`),
    'ENV HOME=/home/agent',
    'WORKDIR /workspace',
    'USER 1000:1000',
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * Builds `tag` = `base` + the agent layer, unless an image with that tag and fingerprint exists.
 * @throws NightshiftError ENV_BUILD_FAILED
 */
export async function buildAgentLayer(
  docker: Docker,
  opts: {
    /** The base image's name (as `FROM` takes it) and what it is. */
    base: { name: string; info: ImageInfo };
    agentImage: { name: string; info: ImageInfo };
    /** Variables of the universal image the agent image was built on (not carried over). */
    universalEnv: string[];
    agent: AgentKind;
    tag: string;
    /** Changes when the base or agent image changes (their ids are part of it). */
    fingerprint: string;
    labels: Record<string, string>;
    onLine?: (line: string) => void;
  },
): Promise<string> {
  const have = await inspectImage(docker, opts.tag);
  if (have && have.labels[BUILD_FINGERPRINT_LABEL] === opts.fingerprint) return have.id;
  const dir = await mkdtemp(join(tmpdir(), 'nightshift-agent-layer-'));
  try {
    const env = agentEnv(opts.agentImage.info.env, opts.universalEnv, opts.base.info.env);
    await writeFile(join(dir, 'Dockerfile'), agentLayerDockerfile({ base: opts.base.name, agentImage: opts.agentImage.name, agent: opts.agent, env }));
    return await buildImage(docker, {
      context: dir,
      dockerfile: 'Dockerfile',
      tag: opts.tag,
      labels: { ...opts.labels, [BUILD_FINGERPRINT_LABEL]: opts.fingerprint },
      // Copies and a user: nothing to fetch.
      network: 'none',
      onLine: opts.onLine,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
