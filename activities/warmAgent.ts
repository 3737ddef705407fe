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
 * Warm sandboxes live in this worker process's memory (activities/warmPool.ts): a `runAgent` on
 * another process (or after a restart) finds none and starts cold, and its removal of the run's
 * leftover containers removes the orphan.
 */
import { stat } from 'node:fs/promises';
import type { WarmAgentInput } from '../workflows/activityTypes.js';
import type { Logger } from '../worker/logger.js';
import { openAgentRun, runKeyOf, type AgentLaunchDeps } from './agentLaunch.js';
import type { SandboxManager } from './sandbox.js';
import { WarmPool, WarmSet, type TakenSandbox } from './warmPool.js';

/** Dependencies of {@link WarmAgents}. */
export interface WarmAgentsDeps extends AgentLaunchDeps {
  sandbox: SandboxManager;
  logger: Logger;
  /** `sandbox.warmStart`: false → `warm` starts nothing. */
  enabled: boolean;
  /**
   * Whether `plan`'s image is the operator's (activities/scope.ts `agentImageOf`): only such a
   * sandbox is started ahead, as it runs nothing but the CLI waiting for its prompt. An
   * environment's image is the repository's: its code (an entrypoint) could act before the
   * prompt, while the host still writes the work tree it mounts or before the tests before decide.
   */
  trusted: (plan: Pick<WarmAgentInput['plan'], 'repo' | 'agent' | 'image'>) => boolean;
  /**
   * A warm sandbox not taken within this many ms is removed (ms; default 30 min: more than the
   * tests before may take, 15 min; an early one whose run escalated before its tests waits no longer).
   */
  ttlMs?: number;
}

/**
 * What `runAgent` must match to take a warm sandbox: the same agent, model, image, gateway limits,
 * and the same work tree directory (device and inode: a directory made again at the same path is
 * not the one the sandbox has mounted).
 */
export interface WarmMatch {
  agent: string;
  model: string;
  image: string;
  tokens: number;
  usd: number;
  /** `<dev>:<ino>` of the work tree directory ({@link workTreeIdentity}). */
  workTree: string;
}

/** `<dev>:<ino>` of a directory, or `missing`. */
export async function workTreeIdentity(path: string): Promise<string> {
  return stat(path).then(
    (st) => `${st.dev}:${st.ino}`,
    () => 'missing',
  );
}

/** A warm agent sandbox handed to `runAgent`: `held` is the gateway run's token (already open for the attempt's run key). */
export type WarmSandbox = TakenSandbox<string>;

const matchKey = (m: WarmMatch): string => JSON.stringify([m.agent, m.model, m.image, m.tokens, m.usd, m.workTree]);

/** The warm agent sandboxes of one worker process, by gateway run key. */
export class WarmAgents extends WarmSet<string> {
  protected readonly pool: WarmPool<string>;

  constructor(private readonly deps: WarmAgentsDeps) {
    super();
    this.pool = new WarmPool<string>('agent', deps.logger, deps.ttlMs ?? 30 * 60_000, (_token, runKey) => {
      try {
        deps.gateway.closeRun(runKey);
      } catch (err) {
        deps.logger.warn({ err, runKey }, 'could not close a warm sandbox’s gateway run');
      }
    });
  }

  /**
   * Boots the attempt's agent: opens its gateway run and starts its sandbox with the CLI waiting
   * for the prompt on stdin. Resolves once the container runs. A sandbox this worker already
   * warmed for the attempt is replaced.
   * @throws NightshiftError SANDBOX_ISOLATION (the firewall rules are not in place: no agent
   *   starts, warm or cold), what {@link SandboxManager.start} throws (the gateway run is closed)
   */
  async warm(input: WarmAgentInput & { workspacePath: string }, runId: string): Promise<{ warmed: boolean; reason?: string }> {
    if (!this.deps.enabled) return { warmed: false, reason: 'sandbox.warmStart is off' };
    const { workflowId, attempt, plan, limits, workspacePath } = input;
    if (!this.deps.trusted(plan)) {
      await this.pool.discard(runKeyOf(workflowId, attempt));
      return { warmed: false, reason: `${plan.image} is the repository's environment image: the agent starts when its prompt is known` };
    }
    // One warmed before for the attempt goes first, with its gateway run (the new one reuses the key).
    await this.pool.discard(runKeyOf(workflowId, attempt));
    await this.deps.sandbox.assertIsolated();
    const workTree = await workTreeIdentity(workspacePath);
    const launch = openAgentRun(this.deps, { workflowId, runId, attempt, plan, workspacePath, limits, prompt: { stdin: true } });
    const match = matchKey({ agent: plan.agent, model: plan.model, image: plan.image, tokens: limits.tokens, usd: limits.usd, workTree });
    await this.pool.add(launch.runKey, workflowId, match, launch.token, (onLine) => this.deps.sandbox.start({ ...launch.spec, onLine }));
    this.deps.logger.info({ workflowId, attempt, image: plan.image }, 'agent sandbox warm: waiting for its prompt');
    return { warmed: true };
  }

  /**
   * Takes the attempt's warm sandbox, when this worker holds one that matches `want` and still
   * runs; one that does not match or has stopped is removed (its gateway run closed) and undefined
   * returned: the caller starts cold. Never throws.
   */
  take(workflowId: string, attempt: number, want: WarmMatch): Promise<WarmSandbox | undefined> {
    return this.pool.take(runKeyOf(workflowId, attempt), matchKey(want));
  }
}
