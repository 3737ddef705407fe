/**
 * Warm validation: the sandbox that validates an attempt, started while the agent works.
 *
 * Starting the tests' container is most of a small suite's validation time (~0.2 s of 0.25 s
 * here). Only in the operator's image (the agent's, when the repository declares no environment
 * of its own): see {@link WarmTestsDeps.trusted}. What it will test is not known until the agent has finished, but where it will be is: the
 * `warmTests` activity (scheduled beside `runAgent`) makes the attempt's export directory, empty,
 * and starts the tests' sandbox on it, exactly as a cold validation would (image, command,
 * environment seed, no network, the directory at /workspace), except that the command first
 * waits for its stdin to close. `runTests` for that attempt on the same worker then exports the
 * tree under test into the directory and closes the stdin: the tests run on what was exported
 * after the agent ended, never on the agent's work tree, which this sandbox never sees.
 *
 * A warm validation nobody took (the attempt was cut off, the run was cancelled) goes with the run's
 * cleanup, or after `ttlMs`; a `runTests` on another process (or after a restart) starts cold.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunPlan, WarmTestsInput } from '../../workflows/activityTypes.js';
import type { Logger } from '../../worker/logger.js';
import { sandboxTestCommand } from '../environment/prepare.js';
import type { SandboxManager } from '../sandbox.js';
import { WarmPool, WarmSet, type TakenSandbox } from '../warmPool.js';

/** Dependencies of {@link WarmTests}. */
export interface WarmTestsDeps {
  sandbox: SandboxManager;
  logger: Logger;
  /** The worker's state directory: exports live in `<stateDir>/validation`. */
  stateDir: string;
  /** Gives a directory to the sandbox user (a no-op when the worker is not root). */
  chown: (dir: string) => Promise<void>;
  /** `sandbox.warmStart`: false → `warm` starts nothing. */
  enabled: boolean;
  /**
   * Whether `plan`'s image is the operator's (activities/scope.ts `agentImageOf`): only such a
   * sandbox waits while the host writes the export it mounts, as it runs nothing but `cat` until
   * then. An environment's image is the repository's: its code (an entrypoint, a replaced `cat`)
   * could swap a directory for a link while the host writes there.
   */
  trusted: (plan: Pick<RunPlan, 'repo' | 'agent' | 'image'>) => boolean;
  /** A warm validation not taken within this many ms is removed (default 2 h: an attempt may work that long). */
  ttlMs?: number;
}

/** A warm validation handed to `runTests`: `held` is its export directory (empty; the tree goes there). */
export type WarmValidation = TakenSandbox<string>;

/** What the test command runs as: the cold command, after its stdin closes (the go of `runTests`). */
export function waitForGo(cmd: string[]): string[] {
  const [sh, flag, script, ...rest] = cmd;
  if (sh !== 'sh' || flag !== '-c' || script === undefined) throw new TypeError(`not an sh -c command: ${cmd.slice(0, 3).join(' ')}`);
  return ['sh', '-c', `cat > /dev/null; ${script}`, ...rest];
}

const matchKey = (plan: Pick<RunPlan, 'image' | 'testCommand' | 'environment'>): string => JSON.stringify([plan.image, plan.testCommand, plan.environment?.seed ?? []]);
const keyOf = (workflowId: string, attempt: number): string => `${workflowId}#${attempt}`;

/** The warm validations of one worker process, by run and attempt. */
export class WarmTests extends WarmSet<string> {
  protected readonly pool: WarmPool<string>;

  constructor(private readonly deps: WarmTestsDeps) {
    super();
    this.pool = new WarmPool<string>('tests', deps.logger, deps.ttlMs ?? 2 * 3_600_000, async (dir) => {
      await rm(dir, { recursive: true, force: true }).catch((err: unknown) => deps.logger.warn({ err, dir }, 'could not remove a warm validation directory'));
    });
  }

  /** The export directory of the attempt's warm validation. */
  dirOf(workflowId: string, attempt: number): string {
    return join(this.deps.stateDir, 'validation', `${workflowId.replace(/[^\w.-]/g, '_')}-${attempt}-warm`);
  }

  /**
   * Makes the attempt's export directory (empty) and starts its tests' sandbox on it, waiting on
   * stdin. Resolves once the container runs.
   * @throws NightshiftError what {@link SandboxManager.start} throws (the directory is removed)
   */
  async warm(input: WarmTestsInput): Promise<{ warmed: boolean; reason?: string }> {
    if (!this.deps.enabled) return { warmed: false, reason: 'sandbox.warmStart is off' };
    const { workflowId, attempt, plan } = input;
    if (!this.deps.trusted(plan)) return { warmed: false, reason: `${plan.image} is the repository's environment image: its validation starts once its tree is exported` };
    // One warmed before for the attempt goes first (its release removes the directory made next).
    await this.pool.discard(keyOf(workflowId, attempt));
    const dir = this.dirOf(workflowId, attempt);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await this.deps.chown(dir);
    const cmd = waitForGo(sandboxTestCommand(plan.testCommand, plan.environment?.seed));
    await this.pool.add(keyOf(workflowId, attempt), workflowId, matchKey(plan), dir, (onLine) =>
      this.deps.sandbox.start({ workflowId, purpose: 'tests', image: plan.image, cmd, env: ['CI=true'], workspace: dir, network: 'none', stdin: true, onLine }),
    );
    this.deps.logger.info({ workflowId, attempt, image: plan.image }, 'validation sandbox warm: waiting for its tree');
    return { warmed: true };
  }

  /** Takes the attempt's warm validation when it matches `plan` (image, test command, seed) and still runs; else undefined (removed). Never throws. */
  take(workflowId: string, attempt: number, plan: Pick<RunPlan, 'image' | 'testCommand' | 'environment'>): Promise<WarmValidation | undefined> {
    return this.pool.take(keyOf(workflowId, attempt), matchKey(plan));
  }
}
