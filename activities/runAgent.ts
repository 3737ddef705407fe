/**
 * The `runAgent` activity: one attempt of the agent in a sandbox.
 *
 * Nightshift, not the agent, decides how the attempt ends:
 * - budget: dollars and tokens at the gateway (a refused request ends the attempt), wall clock
 *   here (the container is killed at the deadline);
 * - stuck: the detector watches the normalized events and silence; a verdict kills the container;
 * - cancel: the workflow's cancellation reaches us through heartbeats and kills the container.
 * The container is always removed, and the gateway token revoked, whatever happens.
 */
import { CancelledFailure, Context } from '@temporalio/activity';
import type { RunAgentInput } from '../workflows/activityTypes.js';
import type { AgentEvent, AttemptEnd, AttemptProgress, AttemptRecord, BudgetBreach, CommandRecord, Spend, StuckVerdict } from '../workflows/types.js';
import type { EnvironmentsSettings, StuckThresholds } from '../worker/config.js';
import { runLogger, type Logger } from '../worker/logger.js';
import type { AgentRunner } from './agents/runner.js';
import { NightshiftError } from './errors.js';
import { diffSince } from './git.js';
import { redactDeep } from '../worker/redact.js';
import type { RunningSandbox, SandboxManager } from './sandbox.js';
import { openAgentRun, runKeyOf } from './agentLaunch.js';
import { workTreeIdentity, type WarmAgents } from './warmAgent.js';
import { commandOf, describeEvent, StreamMonitor, StuckDetector, WorkspaceWatcher } from './stuck.js';
import type { LinearClient } from '@linear/sdk';
import { LinearSessionStream } from './linear/sessionStream.js';
import type { Ledger } from '../ledger/types.js';
import { TraceRecorder } from './ledger.js';

/** Longest wait for the Linear stream and the trace to flush after the attempt, ms (well under the 30 s heartbeat timeout). */
const CLOSE_GRACE_MS = 10_000;

/** Waits for `work` to settle, at most `ms`; calls `onLate` when cut short. Never throws. */
async function settleWithin(ms: number, work: (Promise<void> | undefined)[], onLate: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const done = Promise.allSettled(work.filter((w): w is Promise<void> => w !== undefined)).then(() => 'done' as const);
  const first = await Promise.race([done, late]);
  clearTimeout(timer);
  if (first === 'late') onLate();
}

/**
 * Waits for every promise to settle (none is left running behind a failure), then throws the
 * first rejection in `work`'s order, if any.
 */
async function settleAll(work: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** What the activity needs of the model gateway. */
export interface GatewayPort {
  /** `egressAllow`: hosts the run may reach through the gateway's CONNECT proxy (absent or empty: none). */
  openRun(runKey: string, limits: { tokens: number; usd: number }, initialSpend?: Spend, logContext?: Record<string, unknown>, egressAllow?: readonly string[]): { token: string };
  spend(runKey: string): Spend;
  breach(runKey: string): BudgetBreach | undefined;
  lastUpstreamError(runKey: string): { code: string; message: string } | undefined;
  closeRun(runKey: string): Spend;
}

/** Dependencies of {@link runAgentAttempt}. */
export interface RunAgentDeps {
  sandbox: SandboxManager;
  gateway: GatewayPort;
  /** Gateway base URL as sandboxes see it. */
  gatewayUrl: string;
  runners: Record<string, AgentRunner>;
  stuck: StuckThresholds;
  logger: Logger;
  /** Heartbeat / watchdog period, ms (default 1000). */
  tickMs?: number;
  /**
   * Tells the run about the attempt's live spend and last events (for its `status` query), about
   * when they changed: after a new model request at most every 3 s, else at most every
   * `progressMs` (default {@link DEFAULT_PROGRESS_MS}). Each signal is an event in the run's
   * history, which must stay bounded (by the model requests the budget allows). Failures are
   * logged, never thrown.
   */
  reportProgress?: (workflowId: string, progress: AttemptProgress) => Promise<void>;
  progressMs?: number;
  /** CA bundle settings (`config.environments`), for agents with `agentEgress`; default: the host's bundle. */
  environments?: Pick<EnvironmentsSettings, 'caBundle' | 'proxy'>;
  /** Linear client: attempts of runs from an agent session stream their activity to it (./linear/sessionStream.ts). */
  linear?: LinearClient;
  /** Least time between two session-stream posts, ms (default 20,000). */
  linearStreamIntervalMs?: number;
  /** The run ledger: the attempt's normalized events are streamed to its trace (never failing the attempt). */
  ledger?: Ledger;
  /** This worker's warm agent sandboxes (activities/warmAgent.ts): an attempt with `warm` takes its own. */
  warm?: WarmAgents;
}

/** Heartbeat details: what a retried activity recovers after a worker crash. */
interface HeartbeatDetails {
  spend: Spend;
  /** When the first try started (epoch ms): a retry's wall clock goes on from there. */
  startedAt?: number;
  /** The agent had finished (its record, without the diff): a retry only diffs, it never reruns the agent. */
  finished?: Omit<AttemptRecord, 'diffStat' | 'filesChanged'>;
}

const MAX_LAST_EVENTS = 12;
/** Least time between two progress signals that carry no new model request, ms. */
export const DEFAULT_PROGRESS_MS = 10_000;
const MAX_COMMANDS = 15;

/** Runs one attempt; see the module comment. Throws CancelledFailure when the run was cancelled. */
export async function runAgentAttempt(deps: RunAgentDeps, input: RunAgentInput): Promise<AttemptRecord> {
  const ctx = Context.current();
  const { workflowId, attempt, plan, workspace, prompt, limits } = input;
  const log = runLogger({ workflowId, runId: ctx.info.workflowExecution?.runId ?? '', attempt, activityAttempt: ctx.info.attempt }, deps.logger);
  const details = ctx.info.heartbeatDetails as HeartbeatDetails | undefined;
  const prior = details?.spend;
  const runner = deps.runners[plan.agent];
  if (!runner) throw new NightshiftError('CONFIG_INVALID', `no runner for agent ${plan.agent}`, { retryable: false });
  if (details?.finished) {
    // An earlier try ran the agent to its end and failed after (diffing): only the diff is left.
    log.info('the agent already finished in an earlier try; diffing only');
    return withDiff(details.finished, workspace);
  }

  const runId = ctx.info.workflowExecution?.runId ?? '';
  // The sandbox `warmAgent` booted for this attempt on this worker (first try only: a retry starts cold).
  const warm =
    input.warm && ctx.info.attempt === 1 && !details
      ? await deps.warm?.take(workflowId, attempt, { agent: plan.agent, model: plan.model, image: plan.image, tokens: limits.tokens, usd: limits.usd, workTree: await workTreeIdentity(workspace.path) })
      : undefined;
  // A warm sandbox this attempt does not use (another try, a mismatch) goes with its gateway run.
  if (!warm) await deps.warm?.disposeRun(workflowId);

  // Shell commands' file changes are seen in the work tree (baseline now, before the agent runs).
  const watcher = new WorkspaceWatcher(workspace.path);
  // At once (the agent starts only once both are done):
  // - a retried activity (e.g. after a worker crash) first removes the agent containers the earlier
  //   try left (not the warm one; not the tests' sandboxes, which never mount the work tree), then
  //   the watcher takes its baseline (after: a leftover container must not write into it);
  // - isolation fails closed: no agent starts unless the sandbox network's firewall rules are in place.
  await settleAll([deps.sandbox.removeRunContainers(workflowId, { purpose: 'agent', except: warm?.sandbox.id }).then(() => watcher.changes()), deps.sandbox.assertIsolated()]).catch(async (err: unknown) => {
    if (warm) {
      await warm.sandbox.remove().catch(() => undefined);
      deps.gateway.closeRun(runKeyOf(workflowId, attempt));
    }
    throw err;
  });

  // Warm: the gateway run is open and the sandbox waits for its prompt; cold: both are made now.
  const launch = warm ? undefined : openAgentRun(deps, { workflowId, runId, attempt, plan, workspacePath: workspace.path, limits, prompt, prior });
  const runKey = runKeyOf(workflowId, attempt);
  let sandbox: RunningSandbox | undefined = warm?.sandbox;
  const parser = runner.createParser();
  const detector = new StuckDetector(deps.stuck, { testCommand: plan.testCommand, reportsShellChanges: true });
  const lastEvents: string[] = [];
  const commands: CommandRecord[] = [];
  const stderrTail: string[] = [];
  let final: Extract<AgentEvent, { kind: 'final' }> | undefined;
  let stopped: { why: 'stuck' | 'time' | 'budget' | 'cancelled'; at: number } | undefined;
  let verdict: StuckVerdict | undefined;
  // The wall clock counts from the first try: a retry after a crash does not get a fresh one.
  const startedAt = details?.startedAt ?? Date.now();
  let stopLatencyMs: number | undefined;

  const stop = (why: 'stuck' | 'time' | 'budget' | 'cancelled'): void => {
    if (stopped) return;
    stopped = { why, at: Date.now() };
    log.warn({ why }, 'stopping the agent');
    void sandbox?.kill().then(
      () => {
        stopLatencyMs = Date.now() - (stopped?.at ?? Date.now());
      },
      (err: unknown) => log.error({ err }, 'could not stop the sandbox'),
    );
  };

  const onEvent = (unsafe: AgentEvent): void => {
    // Redacted before anything cuts it into lines, commands or evidence (the run's own token included).
    const ev = redactDeep(unsafe);
    const line = ev.kind === 'usage' ? undefined : describeEvent(ev);
    if (line) {
      lastEvents.push(line);
      if (lastEvents.length > MAX_LAST_EVENTS) lastEvents.shift();
    }
    if (ev.kind === 'tool_call') {
      const command = commandOf(ev.input);
      if (command !== undefined) commands.push({ command: command.slice(0, 300), exitCode: ev.exitCode, isError: ev.isError });
    }
    if (ev.kind === 'final') final = ev;
  };
  const onVerdict = (v: StuckVerdict): void => {
    verdict = v;
    log.warn({ rule: v.rule, repeats: v.repeats, evidence: v.evidence, watcher: watcher.disabled }, 'stuck verdict');
    stop('stuck');
  };
  // A run from a Linear agent session shows its work there, coalesced (never fails the attempt).
  const stream =
    input.linearSession && deps.linear
      ? new LinearSessionStream({
          client: deps.linear,
          agentSessionId: input.linearSession.agentSessionId,
          workflowId,
          attempt,
          intervalMs: deps.linearStreamIntervalMs,
          onError: (err) => log.warn({ err }, 'could not post to the Linear session'),
        })
      : undefined;
  // The trace in the run ledger (`nightshift runs show|search`): redacted, batched, retried tries numbered apart.
  const trace = deps.ledger ? new TraceRecorder(deps.ledger, { workflowId, attempt, activityTry: ctx.info.attempt }, { logger: log }) : undefined;
  const monitor = new StreamMonitor({
    parser,
    detector,
    changes: watcher,
    onEvent: (ev) => {
      onEvent(ev);
      trace?.add(ev);
      stream?.push(redactDeep(ev));
    },
    onVerdict,
  });

  log.info({ agent: plan.agent, model: plan.model, image: plan.image, limits, egress: plan.agentEgress ?? [], warm: warm !== undefined }, 'starting agent');
  let exitCode: number | null = null;
  let spend: Spend;
  let timer: NodeJS.Timeout | undefined;
  let ticker: NodeJS.Timeout | undefined;
  try {
    if (Date.now() - startedAt >= limits.wallClockMs) {
      // A retry with no time left: the attempt ends on its time budget without a container.
      stopped = { why: 'time', at: Date.now() };
      throw new NoTimeLeft();
    }
    ctx.heartbeat({ spend: deps.gateway.spend(runKey), startedAt } satisfies HeartbeatDetails);
    const onLine = (stream: 'stdout' | 'stderr', text: string): void => {
      if (stream === 'stderr') {
        stderrTail.push(text);
        if (stderrTail.length > 20) stderrTail.shift();
        return;
      }
      monitor.push(text, Date.now());
    };
    if (warm) {
      warm.attach(onLine);
      await warm.sandbox.sendStdin(prompt);
    } else {
      sandbox = await deps.sandbox.start({ ...launch!.spec, onLine });
    }
    // The wall clock counts from the attempt's start, container start-up included.
    timer = setTimeout(() => stop('time'), Math.max(0, limits.wallClockMs - (Date.now() - startedAt)));
    let lastProgress = 0;
    let lastState = '';
    let lastRequests = -1;
    ticker = setInterval(() => {
      ctx.heartbeat({ spend: deps.gateway.spend(runKey), startedAt } satisfies HeartbeatDetails);
      // Each signal is a history event: only on change; a new model request (spend) at most every
      // 3 s, other changes (events) at most every `progressMs`.
      const now = deps.gateway.spend(runKey);
      const state = `${now.requests}|${now.tokens}|${lastEvents.length}|${lastEvents.at(-1) ?? ''}`;
      const gap = now.requests !== lastRequests ? Math.min(3000, deps.progressMs ?? 3000) : (deps.progressMs ?? DEFAULT_PROGRESS_MS);
      if (deps.reportProgress && state !== lastState && Date.now() - lastProgress >= gap) {
        lastProgress = Date.now();
        lastState = state;
        lastRequests = now.requests;
        deps.reportProgress(workflowId, { attempt, spend: now, lastEvents: [...lastEvents] }).catch((err: unknown) =>
          log.warn({ err }, 'could not report attempt progress to the run'),
        );
      }
      monitor.checkSilence(Date.now());
      if (deps.gateway.breach(runKey)) stop('budget');
    }, deps.tickMs ?? 1000);
    ctx.cancelled.catch(() => stop('cancelled'));
    exitCode = await sandbox!.exited;
    await monitor.drained();
  } catch (err) {
    if (!(err instanceof NoTimeLeft)) throw err;
  } finally {
    clearTimeout(timer);
    clearInterval(ticker);
    await sandbox?.remove();
    spend = deps.gateway.closeRun(runKey);
    // The heartbeat has stopped: a Linear rate limit or a slow ledger must not hold the attempt past
    // its heartbeat timeout (Temporal would run the agent again). What is left flushes in the
    // background (ids are deterministic: nothing is posted twice).
    await settleWithin(CLOSE_GRACE_MS, [stream?.close(), trace?.close()], () => log.warn('session stream / trace still flushing after the attempt; left to finish in the background'));
  }
  const durationMs = Date.now() - startedAt;
  if (stopped) {
    // What the agent was doing when it was stopped: its calls still waiting for a result.
    for (const call of parser.pendingCalls()) {
      const command = commandOf(call.input);
      if (command !== undefined) commands.push({ command: command.slice(0, 300), isError: true, interrupted: true });
      lastEvents.push(`${call.name}${command ? ` ${command.replace(/\s+/g, ' ').slice(0, 120)}` : ''} → stopped by Nightshift (${stopped.why})`);
      if (lastEvents.length > MAX_LAST_EVENTS) lastEvents.shift();
    }
  }
  log.info({ exitCode, durationMs, spend, stopped: stopped?.why, stopLatencyMs }, 'agent finished');
  if (stopped?.why === 'cancelled') throw new CancelledFailure('run cancelled while the agent was working');

  const breach = deps.gateway.breach(runKey);
  const upstream = deps.gateway.lastUpstreamError(runKey);
  let end: AttemptEnd = 'agent_exited';
  let budget: BudgetBreach | undefined;
  let failure: string | undefined;
  if (stopped?.why === 'time') {
    end = 'budget';
    budget = { kind: 'time', spent: durationMs, cap: limits.wallClockMs };
  } else if (breach) {
    end = 'budget';
    budget = breach;
  } else if (verdict) {
    end = 'stuck';
  } else if (upstream) {
    // The model could not be reached: an infrastructure failure, escalated by the workflow.
    throw new NightshiftError('UPSTREAM_UNREACHABLE', `model upstream unreachable: ${upstream.message}`, { retryable: false, details: upstream });
  } else if (final && final.permissionDenials > 0) {
    end = 'permission_denied';
    failure = `the agent was denied ${final.permissionDenials} tool call(s)`;
  } else if (!final || final.isError || exitCode !== 0) {
    end = 'agent_error';
    failure = final?.isError
      ? `the agent ended with an error (${final.subtype}): ${final.text.slice(0, 300)}`
      : `the agent exited with code ${exitCode} without a final result${stderrTail.length ? `: ${stderrTail.slice(-3).join(' | ').slice(0, 300)}` : ''}`;
  }
  const failing = commands.filter((c) => c.isError || (c.exitCode ?? 0) !== 0);
  const kept = [...failing.slice(-MAX_COMMANDS), ...commands.slice(-5)].filter((c, i, a) => a.indexOf(c) === i).slice(-MAX_COMMANDS);
  const finished: HeartbeatDetails['finished'] = {
    attempt,
    end,
    agent: plan.agent,
    model: plan.model,
    finalMessage: final?.text ?? '',
    exitCode,
    stuck: verdict,
    budget,
    spend,
    durationMs,
    commands: kept,
    failure,
    lastEvents,
  };
  // Recorded before the diff: a try that fails from here on is retried without the agent.
  ctx.heartbeat({ spend, startedAt, finished } satisfies HeartbeatDetails);
  return withDiff(finished, workspace);
}

/** A retried try that finds no time left on the wall clock: the agent is not started. */
class NoTimeLeft extends Error {
  override readonly name = 'NoTimeLeft';
}

/** The attempt's record with the work tree's change since the base commit (host git; the sandbox cannot reach its git directory). */
async function withDiff(finished: NonNullable<HeartbeatDetails['finished']>, workspace: RunAgentInput['workspace']): Promise<AttemptRecord> {
  const diff = await diffSince({ gitDir: workspace.gitDir, workTree: workspace.path }, workspace.baseSha);
  return { ...finished, diffStat: diff.stat, filesChanged: diff.files };
}
