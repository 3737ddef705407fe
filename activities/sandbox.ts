/**
 * Sandboxes: Docker containers (via dockerode) on an internal network, one per agent attempt or
 * test run, labeled with the run's workflow id so that orphans can be found after a crash.
 *
 * Docker Engine API: https://docs.docker.com/reference/api/engine/
 */
import { readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import type Docker from 'dockerode';
import type { Logger } from '../worker/logger.js';
import { NightshiftError } from './errors.js';
import { run } from './exec.js';
import { NON_PUBLIC_IPV4 } from '../worker/netRanges.js';

/** Label every Nightshift container carries: the workflow id of its run. */
export const RUN_LABEL = 'nightshift.run';
/** Label naming what the container is for (`agent`, `tests`). */
export const PURPOSE_LABEL = 'nightshift.purpose';
/** Label naming the Temporal namespace and task queue whose worker made the container. */
export const OWNER_LABEL = 'nightshift.owner';

/** Resource limits and identity of sandboxes. */
export interface SandboxSettings {
  /** Internal Docker network the agent containers join. */
  network: string;
  /** Subnet of that network, e.g. `172.29.0.0/24`. */
  subnet: string;
  cpus: number;
  memoryMb: number;
  pids: number;
  /** `uid:gid` the container runs as. */
  user: string;
  /** `<namespace>/<task queue>` of the worker: several Nightshifts may share one Docker engine. */
  owner?: string;
  /** Network of environment setup containers (egress to registries, no host ports); see `environments.network`. */
  setupNetwork?: string;
}

/** What to run in a sandbox. */
export interface SandboxSpec {
  workflowId: string;
  purpose: 'agent' | 'tests' | 'setup' | 'seed';
  image: string;
  cmd: string[];
  /** `KEY=value` entries. Never a host secret: only the gateway URL and the per-run token. */
  env: string[];
  /** Host path mounted read-write at /workspace; undefined: the image's own /workspace (environment setup). */
  workspace: string | undefined;
  /**
   * `sandbox`: the internal network (reaches only the gateway); `none`: no network at all;
   * `setup`: the environment setup network (package registries, no host ports).
   */
  network: 'sandbox' | 'none' | 'setup';
  /**
   * Extra read-only bind mounts, `host path → container path` (e.g. the host's CA bundle). Never
   * a path the host later trusts: the mount is read-only.
   */
  readOnlyMounts?: Array<{ host: string; container: string }>;
  /** Extra labels (e.g. the environment key a setup container builds). */
  labels?: Record<string, string>;
  /** Called for each line of stdout / stderr. */
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  /**
   * Keep the container's stdin open until {@link RunningSandbox.sendStdin} (the agent CLI reads its
   * prompt from it: a warm start boots the CLI before the prompt is known). Without it, stdin is
   * closed (empty).
   */
  stdin?: boolean;
}

/** A started sandbox. */
export interface RunningSandbox {
  id: string;
  /** Resolves with the exit code when the container stops. */
  exited: Promise<number>;
  /** Stops the container at once (SIGKILL). Idempotent. */
  kill(): Promise<void>;
  /** Removes the container (force). Idempotent; never throws for an already-removed one. */
  remove(): Promise<void>;
  /**
   * Writes `text` to the container's stdin and closes it (EOF). Only for a sandbox started with
   * `stdin: true`, once. @throws NightshiftError SANDBOX_FAILED (no stdin, already sent, or the write failed)
   */
  sendStdin(text: string): Promise<void>;
}

function dockerError(err: unknown, what: string): NightshiftError {
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT' || e.code === 'EACCES') {
    return new NightshiftError('DOCKER_UNAVAILABLE', `Docker engine unreachable (${e.code}) while trying to ${what}`, { cause: err, retryable: true });
  }
  if (e.statusCode === 404 && what.startsWith('create')) {
    return new NightshiftError('IMAGE_MISSING', `${what}: ${e.message ?? 'not found'} (build the sandbox images: bash sandbox-images/build.sh)`, {
      cause: err,
      retryable: false,
    });
  }
  return new NightshiftError('SANDBOX_FAILED', `${what} failed: ${e.message ?? String(err)}`, {
    cause: err,
    details: { statusCode: e.statusCode },
    retryable: true,
  });
}

/** Manages the sandbox network and containers on one Docker engine. */
export class SandboxManager {
  constructor(
    /** The Docker engine (environment preparation builds and inspects images on it). */
    readonly docker: Docker,
    readonly settings: SandboxSettings,
    private readonly logger: Logger,
  ) {}

  /**
   * Creates the internal network when missing and returns its gateway address (the host side of
   * the bridge), where the model gateway listens.
   * @throws NightshiftError DOCKER_UNAVAILABLE / SANDBOX_FAILED
   */
  async ensureNetwork(): Promise<{ name: string; gatewayIp: string }> {
    const name = this.settings.network;
    try {
      const existing = await this.docker.listNetworks({ filters: { name: [name] } });
      let info = existing.find((n) => n.Name === name);
      if (!info) {
        const gateway = gatewayOf(this.settings.subnet);
        await this.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          Internal: true,
          // Sandboxes of different runs cannot talk to each other.
          Options: { 'com.docker.network.bridge.enable_icc': 'false' },
          Labels: { 'nightshift.network': 'sandbox' },
          IPAM: { Driver: 'default', Config: [{ Subnet: this.settings.subnet, Gateway: gateway }] },
        });
        this.logger.info({ network: name, subnet: this.settings.subnet }, 'created sandbox network');
        info = (await this.docker.listNetworks({ filters: { name: [name] } })).find((n) => n.Name === name);
      }
      const gatewayIp = info?.IPAM?.Config?.[0]?.Gateway;
      if (!gatewayIp) throw new NightshiftError('SANDBOX_FAILED', `network ${name} has no gateway address`, { retryable: false });
      if (info?.Options?.['com.docker.network.bridge.enable_icc'] !== 'false') {
        throw new NightshiftError('SANDBOX_FAILED', `network ${name} lets containers talk to each other (enable_icc is not false); remove it (docker network rm ${name}) so that Nightshift recreates it`, {
          retryable: false,
        });
      }
      if (!info?.Internal) {
        throw new NightshiftError('SANDBOX_FAILED', `network ${name} exists but is not --internal; remove it or choose another sandbox.network`, {
          retryable: false,
        });
      }
      return { name, gatewayIp };
    } catch (err) {
      if (err instanceof NightshiftError) throw err;
      throw dockerError(err, 'prepare the sandbox network');
    }
  }

  /**
   * Creates the setup network when missing: a bridge WITH egress (package registries) on which
   * environment setup containers run, with inter-container traffic off, and no host port
   * reachable from it ({@link isolateSetupNetwork}).
   * @throws NightshiftError SANDBOX_FAILED when none is configured or it exists as --internal
   */
  async ensureSetupNetwork(subnet: string): Promise<string> {
    const name = this.settings.setupNetwork;
    if (!name) throw new NightshiftError('SANDBOX_FAILED', 'no setup network is configured (environments.network)', { retryable: false });
    try {
      let info = (await this.docker.listNetworks({ filters: { name: [name] } })).find((n) => n.Name === name);
      if (!info) {
        await this.docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          Internal: false,
          Options: { 'com.docker.network.bridge.enable_icc': 'false' },
          Labels: { 'nightshift.network': 'setup' },
          IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gatewayOf(subnet) }] },
        });
        this.logger.info({ network: name, subnet }, 'created setup network');
        info = (await this.docker.listNetworks({ filters: { name: [name] } })).find((n) => n.Name === name);
      }
      if (!info) throw new NightshiftError('SANDBOX_FAILED', `network ${name} could not be created`, { retryable: true });
      if (info.Internal) {
        throw new NightshiftError('SANDBOX_FAILED', `network ${name} is --internal, so setup cannot reach package registries; remove it or choose another environments.network`, { retryable: false });
      }
      if (info.Options?.['com.docker.network.bridge.enable_icc'] !== 'false') {
        throw new NightshiftError('SANDBOX_FAILED', `network ${name} lets containers talk to each other (enable_icc is not false); remove it (docker network rm ${name}) so that Nightshift recreates it`, { retryable: false });
      }
      return name;
    } catch (err) {
      if (err instanceof NightshiftError) throw err;
      throw dockerError(err, 'prepare the setup network');
    }
  }

  /**
   * Keeps setup containers away from every host port (the worker, Temporal, the gateway): an
   * INPUT jump for the setup bridge to the chain `NIGHTSHIFT-SETUP`, which accepts established
   * traffic and drops the rest; and from every non-public address (private networks, link-local,
   * cloud metadata: {@link NON_PUBLIC_IPV4}) but `allowNetworks` (CIDRs). Public egress (package
   * registries) is untouched.
   * @throws NightshiftError SANDBOX_ISOLATION (not retryable) when the rules cannot be installed:
   *   setup never runs on a network that reaches the host
   */
  async isolateSetupNetwork(allowNetworks: readonly string[] = []): Promise<void> {
    const name = this.settings.setupNetwork;
    if (!name) throw new NightshiftError('SANDBOX_FAILED', 'no setup network is configured (environments.network)', { retryable: false });
    if (process.getuid?.() !== 0) {
      throw new NightshiftError('SANDBOX_ISOLATION', 'the worker is not root: it cannot install the iptables rules that keep setup containers away from host ports', { retryable: false });
    }
    try {
      const info = (await this.docker.getNetwork(name).inspect()) as { Id: string; Options?: Record<string, string> };
      const bridge = info.Options?.['com.docker.network.bridge.name'] ?? `br-${info.Id.slice(0, 12)}`;
      const chain = SETUP_CHAIN;
      if (!(await ipt(['-n', '-L', chain]).then(() => true, () => false))) await ipt(['-N', chain]);
      const drop = [chain, '-j', 'DROP'];
      if (!(await hasRule(drop))) await ipt(['-A', ...drop]);
      const established = [chain, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'];
      if (!(await hasRule(established))) await ipt(['-I', ...established]);
      const jump = ['INPUT', '-i', bridge, '-j', chain];
      if (!(await hasRule(jump))) await ipt(['-I', ...jump]);
      // Nothing but the public internet is forwarded from setup containers: no private network,
      // no link-local (cloud instance metadata hands out the host's credentials), except the
      // ranges the operator allows (an internal registry mirror). DOCKER-USER is the chain Docker
      // leaves to the operator; rules are inserted at its top, accepts above drops.
      for (const cidr of NON_PUBLIC_IPV4) {
        const drop = ['DOCKER-USER', '-i', bridge, '-d', cidr, '-j', 'DROP'];
        if (!(await hasRule(drop))) await ipt(['-I', ...drop]);
      }
      for (const cidr of allowNetworks) {
        const accept = ['DOCKER-USER', '-i', bridge, '-d', cidr, '-j', 'ACCEPT'];
        if (!(await hasRule(accept))) await ipt(['-I', ...accept]);
      }
      // Docker's embedded DNS forwards from the container's namespace to the host's resolvers,
      // which are often private addresses: DNS to them (port 53 only) goes through.
      for (const ns of await hostNameservers()) {
        for (const proto of ['udp', 'tcp']) {
          const dns = ['DOCKER-USER', '-i', bridge, '-d', `${ns}/32`, '-p', proto, '--dport', '53', '-j', 'ACCEPT'];
          if (!(await hasRule(dns))) await ipt(['-I', ...dns]);
        }
      }
    } catch (err) {
      if (err instanceof NightshiftError) throw err;
      throw new NightshiftError('SANDBOX_ISOLATION', `could not isolate the setup network from the host: ${err instanceof Error ? err.message : String(err)}`, { cause: err, retryable: false });
    }
  }

  /**
   * Commits a stopped container to an image (`docker commit`), with the given config (Env, Cmd,
   * User, WorkingDir, Labels) instead of the container's own.
   * Docker API: https://docs.docker.com/reference/api/engine/version/v1.47/#tag/Image/operation/ImageCommit
   * @throws NightshiftError SANDBOX_FAILED
   */
  async commit(containerId: string, opts: { repo: string; tag: string; config: Record<string, unknown> }): Promise<string> {
    try {
      const r = (await this.docker.getContainer(containerId).commit({ repo: opts.repo, tag: opts.tag, pause: false, ...opts.config })) as { Id: string };
      return r.Id;
    } catch (err) {
      throw dockerError(err, 'commit the environment image');
    }
  }

  /** The rules {@link isolateHost} installed, checked again before every agent start. */
  private isolation: { rules: string[][] } | { error: string } = { error: 'the sandbox network has not been isolated yet (isolateHost was not called)' };

  /**
   * Lets sandboxes reach the host only at the gateway: `--internal` stops forwarding to the
   * outside, not traffic to the host itself, so every other host port would be reachable through
   * the bridge. Adds to iptables' INPUT a jump to the chain `NIGHTSHIFT-SBX` for the network's
   * bridge: accept TCP to `gatewayIp:port` and established traffic, drop the rest (DNS to the host
   * included). Returns a function that removes this gateway's accept rule.
   *
   * Fails closed: when the rules cannot be installed (not root, no iptables), it logs an error and
   * records why; {@link assertIsolated} then refuses every agent start, so each run reports an
   * infrastructure error at its origin instead of running an agent that could reach the host.
   */
  async isolateHost(gatewayIp: string, port: number): Promise<() => Promise<void>> {
    if (process.getuid?.() !== 0) {
      this.isolation = { error: 'the worker is not root: it cannot install the iptables rules that keep sandboxes away from host ports other than the gateway' };
      this.logger.error(this.isolation.error);
      return async () => undefined;
    }
    try {
      const info = (await this.docker.getNetwork(this.settings.network).inspect()) as { Id: string; Options?: Record<string, string> };
      const bridge = info.Options?.['com.docker.network.bridge.name'] ?? `br-${info.Id.slice(0, 12)}`;
      const chain = ISOLATION_CHAIN;
      const exists = await ipt(['-n', '-L', chain]).then(() => true, () => false);
      if (!exists) await ipt(['-N', chain]);
      const drop = [chain, '-j', 'DROP'];
      if (!(await hasRule(drop))) await ipt(['-A', ...drop]);
      const established = [chain, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'];
      if (!(await hasRule(established))) await ipt(['-I', ...established]);
      const accept = [chain, '-p', 'tcp', '-d', gatewayIp, '--dport', String(port), '-j', 'ACCEPT'];
      if (!(await hasRule(accept))) await ipt(['-I', ...accept]);
      const jump = ['INPUT', '-i', bridge, '-j', chain];
      if (!(await hasRule(jump))) await ipt(['-I', ...jump]);
      this.isolation = { rules: [drop, accept, jump] };
      this.logger.info({ bridge, gateway: `${gatewayIp}:${port}` }, 'sandboxes may reach only the gateway on the host');
      return async () => {
        if (await hasRule(accept)) await ipt(['-D', ...accept]);
      };
    } catch (err) {
      this.isolation = { error: `could not install the sandbox firewall rules: ${err instanceof Error ? err.message : String(err)}` };
      this.logger.error({ err }, this.isolation.error);
      return async () => undefined;
    }
  }

  /**
   * Checks that the rules {@link isolateHost} installed are all still in place.
   * @throws NightshiftError SANDBOX_ISOLATION (not retryable) when they never were or one is gone
   */
  async assertIsolated(): Promise<void> {
    const iso = this.isolation;
    if ('error' in iso) {
      throw new NightshiftError('SANDBOX_ISOLATION', `sandbox isolation is not in place, so no agent may start: ${iso.error}`, { retryable: false });
    }
    // The checks at once (one `iptables -C` process each, mostly spawn time; iptables-nft takes no
    // lock, the legacy backend's `-w` waits for it): the first missing rule, in order, is named.
    const present = await Promise.all(iso.rules.map((rule) => hasRule(rule)));
    const missing = iso.rules.find((_, i) => !present[i]);
    if (missing) {
      throw new NightshiftError('SANDBOX_ISOLATION', `sandbox isolation is not in place, so no agent may start: the iptables rule "${missing.join(' ')}" is missing`, {
        retryable: false,
        details: { rule: missing },
      });
    }
  }

  /**
   * Removes every container labeled with this run (orphans of a crashed worker); with `only`, those
   * of that purpose only, and never the one with id `only.except` (the run's warm agent,
   * activities/warmAgent.ts). Returns how many.
   */
  async removeRunContainers(workflowId: string, only?: { purpose: SandboxSpec['purpose']; except?: string }): Promise<number> {
    try {
      const labels = [`${RUN_LABEL}=${workflowId}`, ...(only ? [`${PURPOSE_LABEL}=${only.purpose}`] : [])];
      const list = (await this.docker.listContainers({ all: true, filters: { label: labels } })).filter((c) => c.Id !== only?.except);
      for (const c of list) {
        await this.docker.getContainer(c.Id).remove({ force: true }).catch((err: unknown) => {
          const code = (err as { statusCode?: number }).statusCode;
          if (code !== 404 && code !== 409) throw err;
        });
      }
      if (list.length > 0) this.logger.info({ workflowId, removed: list.length }, 'removed leftover sandbox containers');
      return list.length;
    } catch (err) {
      throw dockerError(err, 'remove leftover containers');
    }
  }

  /** All containers carrying the run label and made by a worker of this owner (see `settings.owner`). */
  async listOwned(): Promise<Array<{ id: string; workflowId: string; state: string }>> {
    const labels = [RUN_LABEL, ...(this.settings.owner ? [`${OWNER_LABEL}=${this.settings.owner}`] : [])];
    const list = await this.docker.listContainers({ all: true, filters: { label: labels } });
    return list.map((c) => ({ id: c.Id, workflowId: c.Labels[RUN_LABEL] ?? '', state: c.State }));
  }

  /**
   * Creates and starts a container for `spec`, streaming its output line by line.
   * @throws NightshiftError IMAGE_MISSING (not retryable), DOCKER_UNAVAILABLE, SANDBOX_FAILED
   */
  async start(spec: SandboxSpec): Promise<RunningSandbox> {
    const s = this.settings;
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer({
        Image: spec.image,
        Cmd: spec.cmd,
        Env: spec.env,
        User: s.user,
        WorkingDir: '/workspace',
        Tty: false,
        // The docker CLI's `run -i`: stdin attached, closed for good once the one client ends it.
        ...(spec.stdin ? { OpenStdin: true, StdinOnce: true, AttachStdin: true } : {}),
        AttachStdout: true,
        AttachStderr: true,
        Labels: { ...spec.labels, [RUN_LABEL]: spec.workflowId, [PURPOSE_LABEL]: spec.purpose, ...(s.owner ? { [OWNER_LABEL]: s.owner } : {}) },
        HostConfig: {
          Binds: [...(spec.workspace ? [`${spec.workspace}:/workspace`] : []), ...(spec.readOnlyMounts ?? []).map((m) => `${m.host}:${m.container}:ro`)],
          NetworkMode: networkMode(spec.network, s),
          NanoCpus: Math.round(s.cpus * 1e9),
          Memory: s.memoryMb * 1024 * 1024,
          MemorySwap: s.memoryMb * 1024 * 1024,
          PidsLimit: s.pids,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          Tmpfs: { '/tmp': 'rw,exec,size=512m' },
        },
      });
    } catch (err) {
      throw dockerError(err, `create a container from ${spec.image}`);
    }
    let removed = false;
    const remove = async (): Promise<void> => {
      if (removed) return;
      removed = true;
      await container.remove({ force: true }).catch((err: unknown) => {
        // 404: already gone; 409: removal already in progress (e.g. an orphan sweep).
        const code = (err as { statusCode?: number }).statusCode;
        if (code !== 404 && code !== 409) throw dockerError(err, 'remove a container');
      });
    };
    try {
      // With stdin: a hijacked connection, whose end() half-closes it (the container's stdin gets
      // EOF, its output goes on).
      const stream = await container.attach({ stream: true, stdout: true, stderr: true, ...(spec.stdin ? { stdin: true, hijack: true } : {}) });
      const out = new PassThrough();
      const errOut = new PassThrough();
      this.docker.modem.demuxStream(stream, out, errOut);
      stream.on('end', () => {
        out.end();
        errOut.end();
      });
      const lines = (src: PassThrough, name: 'stdout' | 'stderr'): Promise<void> =>
        new Promise((resolve) => {
          const rl = createInterface({ input: src, crlfDelay: Infinity });
          rl.on('line', (line) => spec.onLine(name, line));
          rl.on('close', () => resolve());
        });
      const drained = Promise.all([lines(out, 'stdout'), lines(errOut, 'stderr')]);
      // 'next-exit': wait() before start() would otherwise return at once for a created container.
      const waited = container.wait({ condition: 'next-exit' });
      await container.start();
      const exited = (async () => {
        const r = (await waited) as { StatusCode: number };
        // Let the last lines through before reporting the exit.
        await Promise.race([drained, new Promise((r2) => setTimeout(r2, 2000))]);
        return r.StatusCode;
      })();
      let killed = false;
      let stdinSent = false;
      return {
        id: container.id,
        exited,
        sendStdin: async (text: string) => {
          if (!spec.stdin || stdinSent) throw new NightshiftError('SANDBOX_FAILED', spec.stdin ? 'the sandbox stdin was already sent' : 'the sandbox has no stdin', { retryable: false });
          stdinSent = true;
          await new Promise<void>((resolve, reject) => {
            const fail = (err: unknown): void => reject(dockerError(err, 'write to a container stdin'));
            stream.once('error', fail);
            (stream as NodeJS.ReadWriteStream).end(text, (err?: unknown) => {
              stream.off('error', fail);
              if (err) fail(err);
              else resolve();
            });
          });
        },
        kill: async () => {
          if (killed) return;
          killed = true;
          await container.kill().catch((err: unknown) => {
            const code = (err as { statusCode?: number }).statusCode;
            // 304/404/409: already stopped or gone.
            if (code !== 304 && code !== 404 && code !== 409) throw dockerError(err, 'stop a container');
          });
        },
        remove,
      };
    } catch (err) {
      await remove().catch((removeErr: unknown) => this.logger.error({ err: removeErr, container: container.id }, 'could not remove a container that failed to start'));
      throw err instanceof NightshiftError ? err : dockerError(err, `start a container from ${spec.image}`);
    }
  }
}

/** IPv4 name servers of the host (`/etc/resolv.conf`), which Docker's embedded DNS forwards to. */
async function hostNameservers(): Promise<string[]> {
  const text = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  return [...text.matchAll(/^\s*nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/gm)].map((m) => m[1] ?? '').filter((a) => a && !a.startsWith('127.'));
}

/** The Docker network mode of a {@link SandboxSpec.network}. */
function networkMode(network: SandboxSpec['network'], s: SandboxSettings): string {
  if (network === 'sandbox') return s.network;
  if (network === 'none') return 'none';
  if (!s.setupNetwork) throw new NightshiftError('SANDBOX_FAILED', 'no setup network is configured (environments.network)', { retryable: false });
  return s.setupNetwork;
}

/** The iptables chain holding the sandbox → host rules. */
export const ISOLATION_CHAIN = 'NIGHTSHIFT-SBX';
/** The iptables chain holding the setup network → host rules. */
export const SETUP_CHAIN = 'NIGHTSHIFT-SETUP';

function ipt(args: string[]) {
  return run('iptables', ['-w', ...args], { code: 'SANDBOX_ISOLATION', retryable: false });
}

async function hasRule(rule: string[]): Promise<boolean> {
  return ipt(['-C', ...rule]).then(
    () => true,
    () => false,
  );
}

/** The first host address of an IPv4 subnet (`172.29.0.0/24` → `172.29.0.1`). */
export function gatewayOf(subnet: string): string {
  const [addr] = subnet.split('/');
  const parts = (addr ?? '').split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) {
    throw new NightshiftError('CONFIG_INVALID', `sandbox.subnet: not an IPv4 subnet: ${subnet}`, { retryable: false });
  }
  parts[3] = (parts[3] ?? 0) + 1;
  return parts.join('.');
}
