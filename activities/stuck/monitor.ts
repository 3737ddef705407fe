/**
 * Between an agent's stdout and the stuck detector: parses each line, adds the file changes that
 * shell commands made (seen in the work tree by a {@link WorkspaceWatcher}, reported as a
 * synthetic `file_change` right after the call), keeps the events in order, and knows whether a
 * tool call is running (liveness for the silence rule). The `runAgent` activity, the corpus
 * recorder and the corpus replay test all use it, so the replay exercises the activity's path.
 */
import type { AgentEvent, StuckVerdict } from '../../workflows/types.js';
import type { StreamParser } from '../agents/runner.js';
import { isEditTool, isReadOnlyCall } from './classify.js';
import type { StuckDetector } from './detector.js';

/** Reports the files changed since its previous call (relative paths); see {@link WorkspaceWatcher}. */
export interface ChangeSource {
  changes(): Promise<string[]>;
}

/** Dependencies of a {@link StreamMonitor}. */
export interface StreamMonitorOptions {
  parser: StreamParser;
  /** Must have been built with `reportsShellChanges: true` when `changes` is given. */
  detector: StuckDetector;
  /** The work tree's changes; without it only the parser's `file_change` events are seen. */
  changes?: ChangeSource;
  /** Every event, synthetic file changes included, in order (before the detector sees it). */
  onEvent?: (ev: AgentEvent) => void;
  /** The verdict, once, when the detector reaches one. */
  onVerdict?: (verdict: StuckVerdict) => void;
}

/** See the module comment. */
export class StreamMonitor {
  private chain: Promise<void> = Promise.resolve();
  private callStartedAt: number | undefined;
  private lastActivityAt: number | undefined;
  private reported = false;

  constructor(private readonly o: StreamMonitorOptions) {}

  /**
   * Takes one line of the agent's stdout read at `at` (Unix ms). Events are handed on in order;
   * after a tool call that may have changed files, the work tree is checked before anything later.
   */
  push(line: string, at: number): void {
    const events = this.o.parser.push(line, at);
    if (line.trim()) this.lastActivityAt = at;
    const running = this.o.parser.pendingCalls().length > 0;
    if (!running) this.callStartedAt = undefined;
    else this.callStartedAt ??= at;
    if (events.length === 0) return;
    this.chain = this.chain.then(() => this.feed(events)).catch(() => undefined);
  }

  /** Checks the silence rule at `nowMs`, with the running call (if any) as liveness. */
  checkSilence(nowMs: number): StuckVerdict | undefined {
    const callStartedAt = this.callStartedAt;
    return this.verdict(this.o.detector.checkSilence(nowMs, { callStartedAt, lastActivityAt: this.lastActivityAt }));
  }

  /** Resolves when every event pushed so far has been handed on. */
  drained(): Promise<void> {
    return this.chain;
  }

  private async feed(events: AgentEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      const checkTree = this.o.changes && ev.kind === 'tool_call' && !isReadOnlyCall(ev.name, ev.input);
      // Look before handing the call on, so that the call and its change reach the detector together.
      const changed = checkTree ? await this.o.changes!.changes() : [];
      this.hand(ev);
      if (ev.kind !== 'tool_call' || !this.o.changes) continue;
      // Edit tools: the parser's own file_change follows in `events`; the walk only moved the baseline.
      if (changed.length > 0 && !(isEditTool(ev.name) && events[i + 1]?.kind === 'file_change')) this.hand({ kind: 'file_change', at: ev.at, paths: changed });
      this.verdict(this.o.detector.settle());
    }
  }

  private hand(ev: AgentEvent): void {
    this.o.onEvent?.(ev);
    this.verdict(this.o.detector.observe(ev));
  }

  private verdict(v: StuckVerdict | undefined): StuckVerdict | undefined {
    if (v && !this.reported) {
      this.reported = true;
      this.o.onVerdict?.(v);
    }
    return v;
  }
}
