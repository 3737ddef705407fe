/**
 * What the Docker benchmarks share: the real {@link SandboxManager} with timing hooks, a watcher
 * of Docker `die` events, temporary git workspaces, and the dependencies and input of
 * {@link runAgentAttempt} built without Temporal (run inside `MockActivityEnvironment`).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { MockActivityEnvironment } from '@temporalio/testing';
import { pino } from 'pino';
import type { AgentRunner } from '../activities/agents/runner.js';
import { runAgentAttempt, type GatewayPort } from '../activities/runAgent.js';
import { RUN_LABEL, SandboxManager, type RunningSandbox, type SandboxSettings, type SandboxSpec } from '../activities/sandbox.js';
import type { RunAgentInput, RunPlan } from '../workflows/activityTypes.js';
import type { AttemptRecord } from '../workflows/types.js';
import { configSchema, type StuckThresholds } from '../worker/config.js';
import type { Logger } from '../worker/logger.js';
import { repoRoot } from '../test/helpers/paths.js';
import { startGateway } from '../test/helpers/gatewayHarness.js';
import type { ModelGateway } from '../worker/gateway/index.js';

export const IMAGE = 'nightshift/claude-code:latest';
export const MODEL = 'claude-sonnet-4-5';

/** Wall-clock Unix ms with sub-millisecond resolution (comparable with Docker's event times). */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A logger that writes nothing (LOG_LEVEL to see lines). */
export function quietLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'silent' });
}

/** The worker's default sandbox settings (config defaults). */
export const SETTINGS: SandboxSettings = {
  network: 'nightshift-sandbox',
  subnet: '172.29.0.0/24',
  cpus: 1,
  memoryMb: 2048,
  pids: 512,
  user: '1000:1000',
};

/** What {@link TimedSandbox} saw of the last container it started (wall-clock Unix ms). */
export interface SandboxTimes {
  id?: string;
  /** `start()` called: runAgent's wall clock counts from here (container start-up included). */
  startCalledAt?: number;
  /** `start()` resolved (the container runs; runAgent arms its deadline timer right after). */
  startedAt?: number;
  /** `kill()` first called (the stop decision reached the sandbox). */
  killCalledAt?: number;
  /** `kill()` resolved (Docker answered the kill request). */
  killDoneAt?: number;
  /** `exited` resolved (wait returned and the output drained, or 2 s passed). */
  exitedAt?: number;
}

/** Called for each output line before (`phase: 'before'`) and after runAgent's own handler ran. */
export type LineHook = (stream: 'stdout' | 'stderr', line: string, phase: 'before' | 'after', at: number) => void;

/** The real SandboxManager, recording when things happen. Only one container at a time. */
export class TimedSandbox extends SandboxManager {
  times: SandboxTimes = {};
  lineHook?: LineHook;

  override async start(spec: SandboxSpec): Promise<RunningSandbox> {
    const times: SandboxTimes = { startCalledAt: wallNow() };
    this.times = times;
    const onLine = spec.onLine;
    const s = await super.start({
      ...spec,
      onLine: (stream, line) => {
        this.lineHook?.(stream, line, 'before', wallNow());
        onLine(stream, line);
        this.lineHook?.(stream, line, 'after', wallNow());
      },
    });
    times.startedAt = wallNow();
    times.id = s.id;
    return {
      id: s.id,
      exited: s.exited.then((code) => {
        times.exitedAt ??= wallNow();
        return code;
      }),
      kill: async () => {
        times.killCalledAt ??= wallNow();
        await s.kill();
        times.killDoneAt ??= wallNow();
      },
      remove: () => s.remove(),
      sendStdin: (text) => s.sendStdin(text),
    };
  }
}

/** Docker `die` events of Nightshift containers: when the daemon says each container stopped, and when we heard it. */
export class DieWatcher {
  private readonly seen = new Map<string, { daemonAt: number; seenAt: number }>();
  private readonly waiters = new Map<string, (v: { daemonAt: number; seenAt: number }) => void>();
  private constructor(private readonly stream: NodeJS.ReadableStream & { destroy?: () => void }) {}

  static async start(docker: Docker): Promise<DieWatcher> {
    const stream = (await docker.getEvents({ filters: { type: ['container'], event: ['die'], label: [RUN_LABEL] } })) as NodeJS.ReadableStream;
    const w = new DieWatcher(stream);
    let buf = '';
    stream.on('data', (d: Buffer) => {
      const seenAt = wallNow();
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        try {
          const ev = JSON.parse(line) as { id?: string; Actor?: { ID?: string }; timeNano?: number };
          const id = ev.id ?? ev.Actor?.ID;
          if (!id || !ev.timeNano) continue;
          const v = { daemonAt: ev.timeNano / 1e6, seenAt };
          w.seen.set(id, v);
          w.waiters.get(id)?.(v);
        } catch {
          // not an event line
        }
      }
    });
    return w;
  }

  /** The `die` of container `id`, waiting up to `ms` for it; undefined when it did not come. */
  async die(id: string, ms = 10_000): Promise<{ daemonAt: number; seenAt: number } | undefined> {
    const got = this.seen.get(id);
    if (got) return got;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiters.delete(id);
        resolve(undefined);
      }, ms);
      this.waiters.set(id, (v) => {
        clearTimeout(t);
        this.waiters.delete(id);
        resolve(v);
      });
    });
  }

  stop(): void {
    this.stream.destroy?.();
  }
}

/** Whether Docker answers and the sandbox image exists; the reason when not. */
export async function dockerReady(docker: Docker): Promise<string | undefined> {
  try {
    await docker.ping();
  } catch (err) {
    return `Docker engine unreachable: ${(err as Error).message}`;
  }
  try {
    await docker.getImage(IMAGE).inspect();
  } catch {
    return `image ${IMAGE} missing (bash sandbox-images/build.sh)`;
  }
  return undefined;
}

export function newDocker(): Docker {
  return new Docker();
}

/** A temporary git workspace (optionally a copy of examples/calculator), committed; owned by the sandbox user. */
export function makeWorkspace(withCalculator: boolean): { path: string; gitDir: string; baseSha: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'ns-bench-ws-'));
  if (withCalculator) cpSync(join(repoRoot(), 'examples', 'calculator'), path, { recursive: true });
  else writeFileSync(join(path, 'README.md'), 'bench workspace\n');
  const git = (...args: string[]) => execFileSync('git', ['-C', path, '-c', 'user.name=bench', '-c', 'user.email=bench@example.com', '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8' });
  git('init', '--quiet', '--initial-branch', 'main');
  git('add', '-A');
  git('commit', '--quiet', '-m', 'base');
  const baseSha = git('rev-parse', 'HEAD').trim();
  chown(path);
  return { path, gitDir: join(path, '.git'), baseSha, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** `chown -R` to the sandbox user when we are root (what the activities do). */
export function chown(path: string): void {
  if (process.getuid?.() !== 0) return;
  execFileSync('chown', ['-R', SETTINGS.user, path]);
}

/** A plan for one attempt. */
export function plan(testCommand: string): RunPlan {
  return {
    repo: 'bench',
    url: 'file:///dev/null',
    github: 'bench/bench',
    defaultBranch: 'main',
    agent: 'claude-code',
    model: MODEL,
    image: IMAGE,
    testCommand,
    budget: { wallClockMs: 600_000, tokens: 10_000_000, usd: 100 },
    maxAttempts: 1,
    risk: 'low',
    riskReasons: [],
    riskyPaths: [],
    testChangesPolicy: 'escalate',
    slug: 'bench',
    escalationWaitMs: 3_600_000,
    agentEgress: [],
  };
}

/** An agent that does nothing for ten minutes (no output, no model traffic). */
export const sleepRunner: AgentRunner = {
  kind: 'claude-code',
  command: ({ gatewayUrl, token }) => ({ cmd: ['sleep', '600'], env: [`ANTHROPIC_BASE_URL=${gatewayUrl}`, `ANTHROPIC_API_KEY=${token}`] }),
  createParser: () => ({ push: () => [], pendingCalls: () => [] }),
};

/** The configuration's default stuck thresholds. */
export const DEFAULT_STUCK: StuckThresholds = configSchema.shape.stuck.parse(undefined);

/**
 * A gateway where sandboxes can reach it: on the sandbox network's gateway address (the host side
 * of the `--internal` bridge), with the host firewall opened for its port only, as the worker does
 * ({@link SandboxManager.isolateHost}). `close()` stops it and removes its firewall rule.
 */
export async function startBridgeGateway(sandbox: SandboxManager, upstream: string): Promise<{ gw: ModelGateway; close(): Promise<void> }> {
  const net = await sandbox.ensureNetwork();
  const gw = await startGateway(upstream, { host: net.gatewayIp });
  const port = Number(new URL(gw.url).port);
  const unisolate = await sandbox.isolateHost(net.gatewayIp, port);
  return {
    gw,
    close: async () => {
      await unisolate();
      await gw.stop();
    },
  };
}

/** Runs one real `runAgentAttempt` in a mock activity context (no Temporal server). */
export async function attempt(opts: {
  sandbox: TimedSandbox;
  gateway: GatewayPort;
  gatewayUrl: string;
  runner: AgentRunner;
  workflowId: string;
  workspace: { path: string; gitDir: string; baseSha: string };
  wallClockMs: number;
  testCommand: string;
  prompt: string;
}): Promise<AttemptRecord> {
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const env = new MockActivityEnvironment({ attempt: 1 }, process.env.LOG_LEVEL ? {} : { logger: quiet });
  const input: RunAgentInput = {
    workflowId: opts.workflowId,
    attempt: 1,
    plan: plan(opts.testCommand),
    workspace: opts.workspace,
    prompt: opts.prompt,
    limits: { wallClockMs: opts.wallClockMs, tokens: 10_000_000, usd: 100 },
  };
  return env.run(
    runAgentAttempt,
    {
      sandbox: opts.sandbox,
      gateway: opts.gateway,
      gatewayUrl: opts.gatewayUrl,
      runners: { 'claude-code': opts.runner },
      stuck: DEFAULT_STUCK,
      logger: quietLogger(),
    },
    input,
  );
}
