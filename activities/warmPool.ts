/**
 * Sandboxes started ahead of their use, waiting on stdin (a warm agent for its prompt, warm tests
 * for the go once their tree is exported): the pool a worker process keeps of them, by key. A
 * sandbox is taken once by the activity it was started for, when what it was started with still
 * matches; one that does not, that stopped, that nobody took within the pool's time to live, or
 * whose run ended, is removed with what it holds (`release`).
 */
import type { Logger } from '../worker/logger.js';
import type { RunningSandbox } from './sandbox.js';

/** Lines a warm sandbox's output buffer keeps before it is taken (what waits on stdin prints nothing). */
const MAX_BUFFERED_LINES = 200;

/** A line sink of a sandbox's output. */
export type LineSink = (stream: 'stdout' | 'stderr', line: string) => void;

/** A warm sandbox handed to the activity that takes it. */
export interface TakenSandbox<T> {
  sandbox: RunningSandbox;
  /** What the sandbox was started with (the agent's gateway token, the tests' export directory). */
  held: T;
  /** Sends the lines printed so far, then every later one, to `onLine`. */
  attach(onLine: LineSink): void;
}

interface Entry<T> {
  workflowId: string;
  key: string;
  match: string;
  held: T;
  started: Promise<RunningSandbox>;
  exited: boolean;
  lines: { buffer: Array<['stdout' | 'stderr', string]>; sink?: LineSink };
  timer?: NodeJS.Timeout;
}

/** The warm sandboxes of one kind in one worker process. */
export class WarmPool<T> {
  private readonly entries = new Map<string, Entry<T>>();

  /**
   * @param what  what the pool holds, for its logs (`agent`, `tests`)
   * @param ttlMs a sandbox not taken within this many ms is removed
   * @param release frees what a removed sandbox held (closes a gateway run, removes a directory); never throws
   */
  constructor(
    private readonly what: string,
    private readonly logger: Logger,
    private readonly ttlMs: number,
    private readonly release: (held: T, key: string) => Promise<void> | void,
  ) {}

  /**
   * Starts a sandbox under `key` (replacing one there) with `start`, whose output goes to the
   * pool's buffer until it is taken. Registered at once: a `take` that comes before the start
   * finished waits for it. Resolves once the container runs.
   * @throws what `start` throws (what the sandbox held is released first)
   */
  async add(key: string, workflowId: string, match: string, held: T, start: (onLine: LineSink) => Promise<RunningSandbox>): Promise<void> {
    await this.dispose(this.entries.get(key));
    const lines: Entry<T>['lines'] = { buffer: [] };
    const entry: Entry<T> = {
      workflowId,
      key,
      match,
      held,
      started: start((stream, line) => {
        if (lines.sink) lines.sink(stream, line);
        else if (lines.buffer.length < MAX_BUFFERED_LINES) lines.buffer.push([stream, line]);
      }),
      exited: false,
      lines,
    };
    this.entries.set(key, entry);
    entry.timer = setTimeout(() => {
      this.logger.warn({ workflowId, key, what: this.what }, 'a warm sandbox was not taken in time; removing it');
      void this.dispose(entry);
    }, this.ttlMs);
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
  }

  /**
   * Takes the sandbox under `key` when it matches `match` and still runs; one that does not match
   * or has stopped is removed and undefined returned (the caller starts cold). Never throws.
   */
  async take(key: string, match: string): Promise<TakenSandbox<T> | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    clearTimeout(entry.timer);
    const sandbox = await entry.started.catch(() => undefined);
    if (!sandbox || entry.exited || entry.match !== match) {
      this.logger.warn({ workflowId: entry.workflowId, key, what: this.what, started: sandbox !== undefined, exited: entry.exited, matches: entry.match === match }, 'the warm sandbox cannot be used; starting cold');
      await this.dispose(entry);
      return undefined;
    }
    return {
      sandbox,
      held: entry.held,
      attach: (onLine) => {
        for (const [stream, line] of entry.lines.buffer.splice(0)) onLine(stream, line);
        entry.lines.sink = onLine;
      },
    };
  }

  /** Removes the warm sandbox under `key`, if any (what it held first). Never throws. */
  async discard(key: string): Promise<void> {
    await this.dispose(this.entries.get(key));
  }

  /** Removes every warm sandbox of the run. Never throws. */
  async disposeRun(workflowId: string): Promise<void> {
    await Promise.all([...this.entries.values()].filter((e) => e.workflowId === workflowId).map((e) => this.dispose(e)));
  }

  /** Removes every warm sandbox (the worker shuts down). Never throws. */
  async disposeAll(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => this.dispose(e)));
  }

  /** How many warm sandboxes wait to be taken. */
  get size(): number {
    return this.entries.size;
  }

  private async dispose(entry: Entry<T> | undefined): Promise<void> {
    if (!entry) return;
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    clearTimeout(entry.timer);
    // What it held goes first (a closed gateway run refuses the sandbox at once), then the sandbox.
    await this.release(entry.held, entry.key);
    const sandbox = await entry.started.catch(() => undefined);
    await sandbox?.remove().catch((err: unknown) => this.logger.warn({ err, workflowId: entry.workflowId, what: this.what }, 'could not remove a warm sandbox'));
  }
}

/** What a worker's set of warm sandboxes of one kind offers besides starting and taking them: removal and a count. */
export abstract class WarmSet<T> {
  protected abstract readonly pool: WarmPool<T>;

  /** Removes every warm sandbox of the run (its cleanup). Never throws. */
  disposeRun(workflowId: string): Promise<void> {
    return this.pool.disposeRun(workflowId);
  }

  /** Removes every warm sandbox (the worker shuts down). Never throws. */
  disposeAll(): Promise<void> {
    return this.pool.disposeAll();
  }

  /** How many warm sandboxes wait to be taken. */
  get size(): number {
    return this.pool.size;
  }
}
