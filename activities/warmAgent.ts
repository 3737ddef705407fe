/**
 * Warm agent starts: an attempt's agent sandbox booted before its prompt is known.
 *
 * Starting the agent's container and booting its CLI takes about as long as the agent's whole
 * work on a small task (~0.5 s of a 1 s attempt here). The first attempt's prompt does not depend
 * on the tests before any change, so while they run (`runTests` "before", in parallel), the
 * `warmAgent` activity opens the attempt's gateway run and starts the sandbox with the CLI reading
 * its prompt from stdin; `runAgent` on the same worker then takes it and only sends the prompt.
 * Nothing the agent can spend is spent before: the CLI asks the model nothing until it has a
 * prompt, and a preflight that finds the environment broken ends the run, whose cleanup removes
 * the sandbox and closes its gateway run (so does a warm sandbox nobody took within `ttlMs`).
 *
 * The sandbox is the same as a cold start's (activities/agentLaunch.ts): same network, limits,
 * mounts and credential. The tests before run on an export of the base commit, not on the work
 * tree the warm sandbox mounts: nothing it does before its prompt changes the baseline.
 *
 * Warm sandboxes live in this worker process's memory: a `runAgent` on another process (or after
 * a restart) finds none and starts cold, and its removal of the run's leftover containers removes
 * the orphan.
 */
import type { WarmAgentInput } from '../workflows/activityTypes.js';
import type { Logger } from '../worker/logger.js';
import { openAgentRun, runKeyOf, type AgentLaunchDeps } from './agentLaunch.js';
import type { RunningSandbox, SandboxManager } from './sandbox.js';

/** Lines a warm sandbox's output buffer keeps before its prompt (the CLI prints nothing before it). */
const MAX_BUFFERED_LINES = 200;

/** Dependencies of {@link WarmAgents}. */
export interface WarmAgentsDeps extends AgentLaunchDeps {
  sandbox: SandboxManager;
  logger: Logger;
  /** `sandbox.warmStart`: false → `warm` starts nothing. */
  enabled: boolean;
  /** A warm sandbox not taken within this many ms is removed (ms; default 2 h: the tests before may be a long suite). */
  ttlMs?: number;
}

/** What `runAgent` must match to take a warm sandbox: the same agent, model, image and gateway limits. */
export interface WarmMatch {
  agent: string;
  model: string;
  image: string;
  tokens: number;
  usd: number;
}

/** A warm sandbox handed to `runAgent`. */
export interface WarmSandbox {
  /** The gateway run's token (already open for the attempt's run key). */
  token: string;
  sandbox: RunningSandbox;
  /** Sends the lines printed so far, then every later one, to `onLine`. */
  attach(onLine: (stream: 'stdout' | 'stderr', line: string) => void): void;
}

interface Entry {
  workflowId: string;
  runKey: string;
  match: string;
  token: string;
  started: Promise<RunningSandbox>;
  exited: boolean;
  /** The sandbox's output: buffered until `runAgent` attaches its sink. */
  lines: { buffer: Array<['stdout' | 'stderr', string]>; sink?: (stream: 'stdout' | 'stderr', line: string) => void };
  timer?: NodeJS.Timeout;
}

const matchKey = (m: WarmMatch): string => JSON.stringify([m.agent, m.model, m.image, m.tokens, m.usd]);

/** The warm sandboxes of one worker process, by gateway run key. */
export class WarmAgents {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly deps: WarmAgentsDeps) {}

  /**
   * Boots the attempt's agent: opens its gateway run and starts its sandbox with the CLI waiting
   * for the prompt on stdin. Resolves once the container runs. A sandbox this worker already
   * warmed for the attempt is replaced.
   * @throws NightshiftError SANDBOX_ISOLATION (the firewall rules are not in place: no agent
   *   starts, warm or cold), what {@link SandboxManager.start} throws (the gateway run is closed)
   */
  async warm(input: WarmAgentInput, runId: string): Promise<{ warmed: boolean; reason?: string }> {
    if (!this.deps.enabled) return { warmed: false, reason: 'sandbox.warmStart is off' };
    const { workflowId, attempt, plan, limits } = input;
    const runKey = runKeyOf(workflowId, attempt);
    await this.dispose(this.entries.get(runKey));
    await this.deps.sandbox.assertIsolated();
    const launch = openAgentRun(this.deps, { workflowId, runId, attempt, plan, workspacePath: input.workspace.path, limits, prompt: { stdin: true } });
    const lines: Entry['lines'] = { buffer: [] };
    const entry: Entry = {
      workflowId,
      runKey,
      match: matchKey({ agent: plan.agent, model: plan.model, image: plan.image, tokens: limits.tokens, usd: limits.usd }),
      token: launch.token,
      started: this.deps.sandbox.start({
        ...launch.spec,
        onLine: (stream, line) => {
          if (lines.sink) lines.sink(stream, line);
          else if (lines.buffer.length < MAX_BUFFERED_LINES) lines.buffer.push([stream, line]);
        },
      }),
      exited: false,
      lines,
    };
    // Registered at once: a `runAgent` scheduled before this activity returns waits for the start.
    this.entries.set(runKey, entry);
    entry.timer = setTimeout(() => {
      this.deps.logger.warn({ workflowId, attempt }, 'a warm agent sandbox was not taken in time; removing it');
      void this.dispose(entry);
    }, this.deps.ttlMs ?? 2 * 3_600_000);
    entry.timer.unref();
    try {
      const sandbox = await entry.started;
      void sandbox.exited.then(
        () => (entry.exited = true),
        () => (entry.exited = true),
      );
    } catch (err) {
      await this.dispose(entry);
      throw err;
    }
    this.deps.logger.info({ workflowId, attempt, image: plan.image }, 'agent sandbox warm: waiting for its prompt');
    return { warmed: true };
  }

  /**
   * Takes the attempt's warm sandbox, when this worker holds one that matches `want` and still
   * runs; one that does not match or has stopped is removed (its gateway run closed) and undefined
   * returned: the caller starts cold. Never throws.
   */
  async take(workflowId: string, attempt: number, want: WarmMatch): Promise<WarmSandbox | undefined> {
    const entry = this.entries.get(runKeyOf(workflowId, attempt));
    if (!entry) return undefined;
    this.entries.delete(entry.runKey);
    clearTimeout(entry.timer);
    const sandbox = await entry.started.catch(() => undefined);
    if (!sandbox || entry.exited || entry.match !== matchKey(want)) {
      this.deps.logger.warn({ workflowId, attempt, started: sandbox !== undefined, exited: entry.exited, matches: entry.match === matchKey(want) }, 'the warm agent sandbox cannot be used; starting cold');
      await this.dispose(entry);
      return undefined;
    }
    return {
      token: entry.token,
      sandbox,
      attach: (onLine) => {
        for (const [stream, line] of entry.lines.buffer.splice(0)) onLine(stream, line);
        entry.lines.sink = onLine;
      },
    };
  }

  /** Removes every warm sandbox of the run (its cleanup, or a cold start), closing their gateway runs. Never throws. */
  async disposeRun(workflowId: string): Promise<void> {
    await Promise.all([...this.entries.values()].filter((e) => e.workflowId === workflowId).map((e) => this.dispose(e)));
  }

  /** Removes every warm sandbox (the worker shuts down). Never throws. */
  async disposeAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => this.dispose(e)));
  }

  /** How many warm sandboxes wait for their prompt. */
  get size(): number {
    return this.entries.size;
  }

  private async dispose(entry: Entry | undefined): Promise<void> {
    if (!entry) return;
    if (this.entries.get(entry.runKey) === entry) this.entries.delete(entry.runKey);
    clearTimeout(entry.timer);
    try {
      this.deps.gateway.closeRun(entry.runKey);
    } catch (err) {
      this.deps.logger.warn({ err, runKey: entry.runKey }, 'could not close a warm sandbox’s gateway run');
    }
    const sandbox = await entry.started.catch(() => undefined);
    await sandbox?.remove().catch((err: unknown) => this.deps.logger.warn({ err, workflowId: entry.workflowId }, 'could not remove a warm agent sandbox'));
  }
}
