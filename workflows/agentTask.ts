/**
 * The `agentTask` workflow: one run of a task, as DESIGN.md's "The run" reads.
 *
 *   scope → wait for the run window → prepare workspace → environment (cached setup) + tests
 *     before (preflight: a broken environment ends the run here, before any token is spent)
 *     → attempts (agent → validation by Nightshift), at most `maxAttempts` per budget tranche
 *     → deliver (diff gate, approval, branch, commit, PR) | escalate (WIP branch, "what I tried",
 *       wait for a human: guidance → a new tranche from the stage that stopped)
 *
 * One function per phase in workflows/run/ (state.ts holds the run's state); this file only
 * sequences them. Every path ends with a message to the origin (principle 1). Deterministic: all
 * I/O is in activities, which are imported as types only.
 *
 * Human interaction (run/signals.ts): signal `cancel`, signal `humanReply` ("cancel", "take over",
 * or guidance), signal `approve`, query `status`.
 */
import { allHandlersFinished, condition, continueAsNew, isCancellation, log, patched } from '@temporalio/workflow';
import { startLiveStatus, type LiveStatus } from './liveStatus.js';
import { renderFailure } from './summary.js';
import type { RunOutcome, TaskRequest } from './types.js';
import { attemptTranche } from './run/attempts.js';
import { cancelled } from './run/cancel.js';
import { deliverPhase } from './run/deliver.js';
import { escalatePhase } from './run/escalate.js';
import { handOver } from './run/handOver.js';
import { PATCH_PARALLEL_TEARDOWN, PATCH_SLACK_LIVE_STATUS } from './run/patches.js';
import { preparePhase } from './run/prepare.js';
import { claimHost, isHostGone, moveHost } from './run/host.js';
import { cleanUp } from './run/cleanup.js';
import { report } from './run/report.js';
import { scopePhase } from './run/scope.js';
import { admissionPhase, holdSlot, releaseSlot, resumeAdmitted } from './run/admission.js';
import { applyCarry, carryOf, shouldContinueAsNew, type RunCarry, type Stage } from './run/continue.js';
import { closeRecorder, startRecorder } from './run/record.js';
import { installSignalHandlers, installStatusQuery } from './run/signals.js';
import { admitLinearRun, closeLinearRun, linearPrOpened, startLinearRun } from './run/linear.js';
import { finish, GateStop, infraErrorOf, newRunState, spendOf, statusOf, type InfraError, type RunState } from './run/state.js';

export { approveSignal, attemptProgressSignal, cancelSignal, humanReplySignal, statusQuery } from './run/signals.js';

/**
 * The run's phases in order, with escalation between tranches. Returns the outcome, or the state to
 * continue as new with (history grown, at a tranche boundary); throws a cancellation or a bug.
 */
async function runPhases(s: RunState, carry: RunCarry | undefined): Promise<RunOutcome | RunCarry> {
  let infra: InfraError | undefined;
  let trancheStart = carry?.trancheStart ?? 0;
  let stage: Stage = carry?.stage ?? 'scope';
  let stopReason = '';
  if (carry) resumeAdmitted(s);
  for (;;) {
    try {
      if (stage === 'scope') {
        // Linear: who asked may start runs (else refused with a reply); the issue moves to started.
        const refused = await admitLinearRun(s);
        if (refused) return refused;
        const rejected = await scopePhase(s);
        if (rejected) return rejected;
        // The run window, the spend caps (run/admission.ts; before patch `queue-admission`: the UTC-hour window).
        const notAdmitted = await admissionPhase(s);
        if (notAdmitted) return notAdmitted;
        stage = 'prepare';
      }
      // A sandbox slot, held for prepare, attempts and delivery (no-op when held or before
      // `queue-admission`); a run about to prepare claims its host as the slot is granted.
      const notHeld = await holdSlot(s, stage === 'prepare' ? () => claimHost(s) : undefined);
      if (notHeld) return notHeld;
      if (stage === 'prepare') {
        // The worker host that will hold the workspace (patch `host-affinity`; run/host.ts).
        await claimHost(s);
        const broken = await preparePhase(s);
        if (broken) return broken;
        stage = 'attempts';
      }
      const p = s.plan!;
      const ws = s.workspace!;
      if (stage === 'attempts') {
        const r = await attemptTranche(s, p, ws, trancheStart);
        if (r.takeOver) return await handOver(s, r.takeOver.author);
        if (r.passed) stage = 'deliver';
        else stopReason = r.reason;
      }
      if (stage === 'deliver') {
        const delivered = await deliverPhase(s, p, ws);
        // Linear: the issue moves to its team's review state.
        if (delivered.kind === 'pr_opened') await linearPrOpened(s);
        return delivered;
      }
    } catch (err) {
      if (isCancellation(err)) throw err;
      if (isHostGone(s, err)) {
        // The workspace's host is gone: another host re-prepares from the last pushed state. A
        // change that passed but was not pushed is lost with it: a new tranche makes it again.
        await moveHost(s, stage);
        if (stage === 'deliver') trancheStart = s.attempts.length;
        stage = 'prepare';
        continue;
      }
      if (err instanceof GateStop) {
        // Not an infrastructure error: the gate (or a human) stopped the delivery. Guidance
        // then leads to new attempts, not to the same delivery again.
        stopReason = err.message;
        stage = 'attempts';
      } else {
        infra = infraErrorOf(err, stage);
        stopReason = `infrastructure error during ${stage}: ${infra.message}`;
        log.warn('infrastructure failure; escalating', { stage, code: infra.code });
      }
    }
    // An escalation can wait for days: its sandbox slot goes back to the queue first.
    await releaseSlot(s);
    const ended = await escalatePhase(s, stopReason, infra);
    if (ended) return ended;
    trancheStart = s.attempts.length;
    infra = undefined;
    // A tranche boundary: a long history goes on in a new execution (run/continue.ts).
    if (shouldContinueAsNew(s.req)) return carryOf(s, stage, trancheStart, carry?.execution ?? 1);
  }
}

function isCarry(r: RunOutcome | RunCarry): r is RunCarry {
  return 'trancheStart' in r;
}

/**
 * Runs one task to its outcome; every ending is reported to the origin, and the run's sandbox and
 * workspace are cleaned up. `carry` is the state of the previous execution when the run continued
 * as new (run/continue.ts); callers start a run with `req` only.
 */
export async function agentTask(req: TaskRequest, carry?: RunCarry): Promise<RunOutcome> {
  const s = newRunState(req);
  if (carry) applyCarry(s, carry);
  const ended = await runToEnd(s, carry);
  if (!isCarry(ended)) return ended;
  log.info('continuing as new at a tranche boundary', { execution: ended.execution, attempts: ended.attempts.length });
  await condition(allHandlersFinished);
  return await continueAsNew<typeof agentTask>(req, ended);
}

/** One execution of the run: its phases, with reports, ledger and cleanup around them. */
async function runToEnd(s: RunState, carry: RunCarry | undefined): Promise<RunOutcome | RunCarry> {
  const { req } = s;
  installStatusQuery(s);
  // The run ledger and search attributes follow the run state (run/record.ts).
  startRecorder(s, carry?.recorder);
  // Slack: the run's live message is kept current (see liveStatus.ts).
  const src = req.source;
  const liveStatus: LiveStatus | undefined =
    src.kind === 'slack' && patched(PATCH_SLACK_LIVE_STATUS)
      ? startLiveStatus({ workflowId: s.workflowId, channel: src.channel, ts: src.statusTs ?? src.threadTs, requester: req.requester, repo: req.repo, title: req.title, startedAt: s.startedAt, status: () => statusOf(s) })
      : undefined;
  installSignalHandlers(s);
  // Linear: the agent session's plan and links, and the answer to a duplicate request (run/linear.ts).
  startLinearRun(s);
  try {
    return await s.work.run(() => runPhases(s, carry));
  } catch (err) {
    if (isCancellation(err) || s.cancelRequest) return await cancelled(s);
    // A bug or a non-retryable failure outside the escalation path: still tell the origin.
    const e = infraErrorOf(err, s.phase);
    await report(s, 'failed', (f) => renderFailure({ code: e.code, message: e.message, workflowId: s.workflowId, spend: spendOf(s) }, f));
    return finish(s, 'failed', { reason: e.message });
  } finally {
    // The workspace's cleanup goes beside the slot's release and the last ledger writes (patch
    // `parallel-teardown`; before, after them): nothing of it waits for them. A delivered run's
    // cleanup started as soon as its branch was pushed (run/cleanup.ts).
    const cleanup = s.cleaning ?? (s.outcome && patched(PATCH_PARALLEL_TEARDOWN) ? cleanUp(s) : undefined);
    await releaseSlot(s);
    await closeRecorder(s);
    await liveStatus?.close();
    // Acknowledgements of replies still being posted finish first (patch `reply-during-work`).
    if (s.replyDuringWork) await condition(allHandlersFinished);
    await closeLinearRun(s);
    if (s.outcome) await (cleanup ?? cleanUp(s));
  }
}

