/**
 * The stuck detector: feeds each event of one attempt to the rules (./rules.ts) and checks for
 * silence. See ./index.ts for the rules, the liveness of running calls and what counts as a file
 * change.
 */
import type { StuckThresholds } from '../../worker/config.js';
import type { AgentEvent, StuckVerdict } from '../../workflows/types.js';
import { isEditTool, isReadOnlyCall } from './classify.js';
import { describeEvent, failed, iso, showCall, type ToolCall } from './describe.js';
import { callKey, commandOf, errorSignature, isTestCommand } from './normalize.js';
import { AlternatingLoop, decide, NoProgress, RepeatedError, RepeatedFailingCall, type CallFacts } from './rules.js';

/** Options of a {@link StuckDetector}. */
export interface StuckDetectorOptions {
  /** The repository's test command; a shell call containing it (normalized) is a test run. */
  testCommand?: string;
  /**
   * Clock, Unix ms; read once, at construction, as the time of the "last event" before the first
   * one (so that an agent that never says anything is silent). Default `Date.now`. Event `at`
   * values and `checkSilence`'s argument must be on the same clock.
   */
  now?: () => number;
  /**
   * True when the caller reports the files each call changed, shell commands included, as a
   * `file_change` event right after the call and then calls {@link StuckDetector.settle} (as
   * {@link StreamMonitor} does). A `no_progress` verdict reached on a call that may have changed
   * files then waits for that report. False (default): it is decided on the call.
   */
  reportsShellChanges?: boolean;
}

/** What keeps a silent agent alive, for {@link StuckDetector.checkSilence}. */
export interface Liveness {
  /** When the oldest tool call still running started, Unix ms; undefined when none runs. */
  callStartedAt?: number;
  /** The last output from the agent, Unix ms, even output that made no event (a tool call starting). */
  lastActivityAt?: number;
}

/**
 * Watches one attempt's events and reaches a {@link StuckVerdict} when a rule fires (see
 * ./index.ts for the rules and the normalization).
 */
export class StuckDetector {
  private readonly testCommand: string | undefined;
  private readonly reportsShellChanges: boolean;
  private lastEventAt: number;
  private lastEvent: string | undefined;
  private finished = false;
  private current: StuckVerdict | undefined;
  /** A no_progress verdict that a file change reported for the same call cancels. */
  private unlessChanged: StuckVerdict | undefined;
  private readonly repeatedFailingCall = new RepeatedFailingCall();
  private readonly repeatedError = new RepeatedError();
  private readonly alternatingLoop = new AlternatingLoop();
  private readonly noProgress = new NoProgress();

  constructor(
    private readonly thresholds: StuckThresholds,
    options: StuckDetectorOptions = {},
  ) {
    this.testCommand = options.testCommand;
    this.reportsShellChanges = options.reportsShellChanges ?? false;
    this.lastEventAt = (options.now ?? Date.now)();
  }

  /** The verdict, once one is reached; it never changes afterwards. */
  get verdict(): StuckVerdict | undefined {
    return this.current;
  }

  /**
   * Takes the next event of the stream.
   * @returns the verdict when one exists (reached now or earlier), else undefined
   */
  observe(ev: AgentEvent): StuckVerdict | undefined {
    if (this.current) return this.current;
    if (ev.kind === 'file_change') this.unlessChanged = undefined;
    else if (this.settle()) return this.current;
    this.lastEventAt = Math.max(this.lastEventAt, ev.at);
    this.lastEvent = describeEvent(ev);
    switch (ev.kind) {
      case 'file_change':
        this.repeatedFailingCall.onFileChange();
        this.repeatedError.onFileChange();
        this.alternatingLoop.onFileChange();
        this.noProgress.onFileChange(ev.at);
        break;
      case 'tool_call':
        this.current = this.toolCall(ev);
        break;
      case 'final':
        this.finished = true;
        break;
      default:
        break;
    }
    return this.current;
  }

  /**
   * Ends the wait for the file changes of the last call (see `reportsShellChanges`): a pending
   * `no_progress` verdict stands when no change was reported.
   * @returns the verdict when one exists, else undefined
   */
  settle(): StuckVerdict | undefined {
    if (!this.current && this.unlessChanged) this.current = this.unlessChanged;
    this.unlessChanged = undefined;
    return this.current;
  }

  /**
   * Checks for silence at `nowMs` (Unix ms, the clock of the events). Never fires after the
   * agent's `final` event.
   * - While a tool call runs (`liveness.callStartedAt`), the agent is not silent: a test suite or
   *   a build may take long. It fires only when that call has run for `toolCallSeconds`.
   * - Otherwise it fires after `silenceSeconds` with no event and no output (the later of the last
   *   event and `liveness.lastActivityAt`).
   * @returns the verdict when one exists, else undefined
   */
  checkSilence(nowMs: number, liveness: Liveness = {}): StuckVerdict | undefined {
    if (this.current || this.finished) return this.current;
    const t = this.thresholds;
    if (liveness.callStartedAt !== undefined) {
      const runningMs = nowMs - liveness.callStartedAt;
      if (runningMs < t.toolCallSeconds * 1000) return undefined;
      this.current = decide(
        'silence',
        1,
        liveness.callStartedAt,
        nowMs,
        `a tool call has been running for ${Math.floor(runningMs / 1000)} s (limit ${t.toolCallSeconds} s for one call)`,
        [`call started at ${iso(liveness.callStartedAt)}`, ...(this.lastEvent ? [`last event at ${iso(this.lastEventAt)}: ${this.lastEvent}`] : []), `checked at ${iso(nowMs)}`],
      );
      return this.current;
    }
    const since = Math.max(this.lastEventAt, liveness.lastActivityAt ?? -Infinity);
    const silentMs = nowMs - since;
    if (silentMs < t.silenceSeconds * 1000) return undefined;
    this.current = decide('silence', 1, since, nowMs, `no event from the agent for ${Math.floor(silentMs / 1000)} s (limit ${t.silenceSeconds} s)`, [
      this.lastEvent ? `last event at ${iso(this.lastEventAt)}: ${this.lastEvent}` : `no event since ${iso(this.lastEventAt)}`,
      `checked at ${iso(nowMs)}`,
    ]);
    return this.current;
  }

  private toolCall(ev: ToolCall): StuckVerdict | undefined {
    const isFailure = failed(ev);
    const command = commandOf(ev.input);
    const f: CallFacts = {
      ev,
      key: callKey(ev.name, ev.input),
      seen: { at: ev.at, call: showCall(ev) },
      failed: isFailure,
      signature: isFailure ? errorSignature(ev.result) : '',
      readOnly: isReadOnlyCall(ev.name, ev.input),
      edited: !isFailure && isEditTool(ev.name),
      isTest: command !== undefined && isTestCommand(command, this.testCommand),
    };
    const t = this.thresholds;
    // Every rule sees every call (each keeps its own state); the first verdict in rule order wins.
    const verdicts = [this.repeatedFailingCall.onCall(f, t), this.repeatedError.onCall(f, t), this.alternatingLoop.onCall(f, t)];
    const np = this.noProgress.onCall(f, t);
    const verdict = verdicts.find((v) => v !== undefined) ?? np.verdict;
    if (verdict) return verdict;
    if (np.unlessChanged) {
      if (!this.reportsShellChanges) return np.unlessChanged;
      this.unlessChanged = np.unlessChanged;
    }
    return undefined;
  }
}
