/**
 * The `agentTask` workflow: one run of a task.
 *
 *   scope → wait for the run window → prepare workspace → environment (cached setup) + tests
 *     before (preflight: a broken environment ends the run here, before any token is spent)
 *     → attempts (agent → validation by Nightshift), at most `maxAttempts` per budget tranche
 *     → deliver (branch, commit, PR) | escalate (WIP branch, "what I tried", wait for a human)
 *
 * Every path ends with a message to the origin (principle 1). Deterministic: all I/O is in
 * activities, which are imported as types only.
 *
 * Before anything is pushed (PR or partial work) the diff gate reviews the change: risky paths or
 * a change over the size policy wait for an `approve` signal (approve / reject); a change to the
 * test definitions is delivered as a draft PR or escalated, per the repository's policy.
 *
 * Human interaction: signal `cancel`, signal `humanReply` ("cancel", "take over", or guidance),
 * signal `approve`, query `status`.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, ChangeReview, Report, RunPlan, Workspace } from './activityTypes.js';
import { environmentPhase } from './environmentPhase.js';
import { renderEnvironmentFailure } from './environmentSummary.js';
import { heldBackReason, renderApprovalRequest } from './gateSummary.js';
import { startLiveStatus, type LiveStatus } from './liveStatus.js';
import { buildPrompt, classifyReply, msUntilWindow } from './prompt.js';
import {
  describeBudget,
  renderCancelled,
  renderEscalation,
  renderFailure,
  renderHandedOver,
  renderRejection,
  renderSuccess,
  renderTimedOut,
  type EscalationSummaryInput,
} from './summary.js';
import {
  addSpend,
  ZERO_SPEND,
  type AttemptProgress,
  type ApprovalDecision,
  type AttemptRecord,
  type Budget,
  type HumanReply,
  type RunOutcome,
  type RunOutcomeKind,
  type RunPhase,
  type RunStatus,
  type Spend,
  type TaskRequest,
  type ValidationResult,
} from './types.js';

/**
 * Patch ids (Temporal's `patched`): a run that started on a worker without the change replays as
 * it ran; new runs take the new path. Remove a patch once no run older than it is open.
 */
const PATCH_PASS_BEFORE_STOP = 'pass-before-budget-stop';
const PATCH_ATOMIC_DELIVERY = 'atomic-delivery';
const PATCH_ENVIRONMENT_PHASE = 'environment-phase';
const PATCH_GIT_WAIT_CANCEL = 'git-wait-cancel';
const PATCH_REPLY_ONLY_WHEN_ASKED = 'reply-only-when-asked';
const PATCH_SLACK_LIVE_STATUS = 'slack-live-status';

/** Query: the run's phase, attempt, spend so far and last events. */
export const statusQuery = defineQuery<RunStatus>('status');
/** Signal: stop the run now (the agent's container is stopped, partial work is pushed). */
export const cancelSignal = defineSignal<[{ by: string; reason?: string }]>('cancel');
/** Signal: a human's reply to an escalation. */
export const humanReplySignal = defineSignal<[HumanReply]>('humanReply');
/** Signal: a human's answer to the diff gate's approval request. */
export const approveSignal = defineSignal<[ApprovalDecision]>('approve');
/** Signal (from the `runAgent` activity): a running attempt's live spend and last events, for `status`. */
export const attemptProgressSignal = defineSignal<[AttemptProgress]>('attemptProgress');

const short = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});
/**
 * Host git and GitHub: they heartbeat every 5 s; on a cancel the run waits until the activity has
 * finished (a push or clone is never cut off half-way, and cleanup never runs under it).
 */
const GIT_OPTIONS = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 4 },
} as const;
const gitWaiting = proxyActivities<Activities>({ ...GIT_OPTIONS, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });
/** Runs started before `git-wait-cancel` replay with the SDK's default (TRY_CANCEL), as they ran. */
const gitTrying = proxyActivities<Activities>(GIT_OPTIONS);
/** The git activities of this run (see {@link gitWaiting}). */
const git = new Proxy({} as Activities, {
  get: (_t, name: keyof Activities) => (patched(PATCH_GIT_WAIT_CANCEL) ? gitWaiting : gitTrying)[name],
});
/** Test runs: bounded at 15 minutes (the activity kills its container at its own timeout). */
const TEST_RUN_MS = 15 * 60_000;
const notifyActs = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // A message to the origin is never given up lightly: ~1 hour of retries.
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20 },
});

/** `runAgent` and `runTests` heartbeat; their start-to-close timeout follows the budget. */
function longActivities(wallClockMs: number): Pick<Activities, 'runAgent' | 'runTests'> {
  return proxyActivities<Activities>({
    startToCloseTimeout: wallClockMs + 10 * 60_000,
    heartbeatTimeout: '30 seconds',
    // On cancel, wait until the activity has stopped its container before going on.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
  });
}

const tests = longActivities(TEST_RUN_MS);

/** The diff gate or a human stopped a delivery: the run escalates with this reason. */
class GateStop extends Error {
  override readonly name = 'GateStop';
}

/** An infrastructure failure, as reported in an escalation. */
interface InfraError {
  code: string;
  message: string;
  stage: string;
}

/** The typed reason an activity failed, from its ApplicationFailure type when it has one. */
function infraErrorOf(err: unknown, stage: string): InfraError {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return { code: err.cause.type ?? 'ACTIVITY_FAILED', message: err.cause.message, stage };
  }
  if (err instanceof ActivityFailure) {
    return { code: err.cause?.name ?? 'ACTIVITY_FAILED', message: err.cause?.message ?? err.message, stage };
  }
  if (err instanceof Error) return { code: err.name, message: err.message, stage };
  return { code: 'UNKNOWN', message: String(err), stage };
}

export async function agentTask(req: TaskRequest): Promise<RunOutcome> {
  const { workflowId } = workflowInfo();
  const startedAt = Date.now();
  const attempts: AttemptRecord[] = [];
  const replies: HumanReply[] = [];
  let approval: ApprovalDecision | undefined;
  let awaitingApproval = false;
  /** An escalation is out and waits for a reply (set before the report, so that a quick answer counts). */
  let awaitingReply = false;
  const guidance: string[] = [];
  let phase: RunPhase = 'scoping';
  let plan: RunPlan | undefined;
  let workspace: Workspace | undefined;
  let testsBefore: ValidationResult | undefined;
  let caps: Budget | undefined;
  let cancelRequest: { by: string; reason?: string } | undefined;
  let lastReport: string | undefined;
  let wipBranch: string | undefined;
  let outcome: RunOutcome | undefined;
  let currentAttempt = 0;
  let undeliveredReports = 0;
  let live: AttemptProgress | undefined;
  /** Set when partial work could not be pushed: the workspace then outlives the run. */
  let keepWorkspace = false;
  const work = new CancellationScope();

  /** The attempt running now, when its progress is newer than the recorded attempts. */
  const running = (): AttemptProgress | undefined => (live && live.attempt > attempts.length ? live : undefined);
  /** Spend of the recorded attempts, plus the live spend of one still running (or cut off by a cancel). */
  const spend = (): Spend => addSpend(attempts.reduce((s, a) => addSpend(s, a.spend), ZERO_SPEND), running()?.spend ?? ZERO_SPEND);
  const wallSpentMs = (): number => attempts.reduce((s, a) => s + a.durationMs, 0);

  const statusNow = (): RunStatus => ({
    workflowId,
    phase,
    attempt: currentAttempt,
    maxAttempts: plan?.maxAttempts ?? 0,
    spend: spend(),
    budget: caps,
    lastEvents: running()?.lastEvents ?? attempts.at(-1)?.lastEvents ?? [],
    outcome,
    lastReport,
    undeliveredReports,
    wipBranch,
  });
  setHandler(statusQuery, statusNow);
  // Slack: the run's live message is kept current (see liveStatus.ts).
  const src = req.source;
  const liveStatus: LiveStatus | undefined =
    src.kind === 'slack' && patched(PATCH_SLACK_LIVE_STATUS)
      ? startLiveStatus({ workflowId, channel: src.channel, ts: src.statusTs ?? src.threadTs, requester: req.requester, repo: req.repo, title: req.title, startedAt, status: statusNow })
      : undefined;
  setHandler(cancelSignal, (c) => {
    cancelRequest ??= c;
    work.cancel();
  });
  setHandler(humanReplySignal, (r) => {
    // Only an answer to an escalation counts: a reply sent while the run works answers nothing
    // (it would silently answer the next escalation).
    if (awaitingReply || !patched(PATCH_REPLY_ONLY_WHEN_ASKED)) replies.push(r);
    else log.warn('reply with no escalation pending; ignored', { author: r.author });
  });
  setHandler(approveSignal, (a) => {
    // Only an answer to a pending request counts: an early "approve" approves nothing.
    if (a.decision !== 'approve' && a.decision !== 'reject') log.warn('approval signal with an unknown decision; ignored', { by: a.by });
    else if (awaitingApproval) approval ??= a;
    else log.warn('approval signal with no approval pending; ignored', { by: a.by, decision: a.decision });
  });
  setHandler(attemptProgressSignal, (p) => {
    if (!live || p.attempt > live.attempt || (p.attempt === live.attempt && p.spend.requests >= live.spend.requests)) live = p;
  });

  const report = async (kind: Report['kind'], render: (format: 'markdown' | 'mrkdwn') => string): Promise<void> => {
    const markdown = render('markdown');
    lastReport = markdown;
    // Reports go out even when the run is being cancelled. A report that cannot be delivered after
    // all retries is logged and counted in `status`; it does not fail the run (whose outcome stays
    // readable through the query and the CLI).
    try {
      await CancellationScope.nonCancellable(() =>
        notifyActs.notify({ workflowId, source: req.source, kind, markdown, mrkdwn: render('mrkdwn'), reportId: uuid4() }),
      );
    } catch (err) {
      const e = infraErrorOf(err, 'report');
      undeliveredReports++;
      log.error('could not report to the origin', { kind, code: e.code, message: e.message });
    }
  };

  const finish = (kind: RunOutcomeKind, extra: Partial<RunOutcome> = {}): RunOutcome => {
    phase = 'done';
    outcome = {
      kind,
      workflowId,
      attempts,
      spend: spend(),
      testsBefore,
      durationMs: Date.now() - startedAt,
      wipBranch,
      ...extra,
    };
    return outcome;
  };

  const summaryInput = (reason: string, infraError?: InfraError): EscalationSummaryInput => ({
    goal: { title: req.title, task: req.task },
    attempts,
    spend: spend(),
    durationMs: Date.now() - startedAt,
    wipBranch,
    reason,
    infraError: infraError ? { code: infraError.code, message: `${infraError.stage}: ${infraError.message}` } : undefined,
  });

  /**
   * Runs attempts until one passes validation, the tranche's attempts are used up, or a budget
   * breach / stuck verdict ends automatic attempts. Returns why it stopped.
   */
  const attemptTranche = async (p: RunPlan, ws: Workspace, trancheStart: number): Promise<{ passed: boolean; reason: string }> => {
    for (;;) {
      const n = attempts.length + 1;
      if (n - trancheStart > p.maxAttempts) {
        return { passed: false, reason: `the tests still fail after ${p.maxAttempts} attempts` };
      }
      const budgetCaps = caps ?? p.budget;
      const spent = spend();
      const limits: Budget = {
        wallClockMs: Math.max(0, budgetCaps.wallClockMs - wallSpentMs()),
        tokens: Math.max(0, budgetCaps.tokens - spent.tokens),
        usd: Math.max(0, budgetCaps.usd - spent.usd),
      };
      if (limits.wallClockMs <= 0 || limits.tokens <= 0 || limits.usd <= 0) {
        return { passed: false, reason: 'the budget is used up' };
      }
      currentAttempt = n;
      phase = 'running_agent';
      const prompt = buildPrompt({ title: req.title, task: req.task, testCommand: p.testCommand, attempt: n, previous: attempts, guidance });
      const record = await longActivities(limits.wallClockMs).runAgent({ workflowId, attempt: n, plan: p, workspace: ws, prompt, limits });
      attempts.push(record);
      phase = 'validating';
      // Nightshift validates every attempt itself, whatever the agent claims.
      const validation = await tests.runTests({ workflowId, plan: p, workspace: ws, label: `attempt ${n}`, attempt: n });
      record.validation = validation;
      if (record.filesChanged.length === 0) {
        record.failure = 'the agent changed no file';
      } else if (record.end === 'permission_denied') {
        record.failure = 'the agent was denied permissions';
      } else if (record.end === 'agent_error') {
        record.failure ??= 'the agent ended with an error';
      } else if (!validation.passed && validation.exitCode !== 0) {
        record.failure = `tests failed (exit code ${validation.exitCode})`;
      } else if (!validation.passed && validation.contract && !validation.contract.ok) {
        // The command exited 0, but the contract (tests that existed still run, failing ones pass) says no.
        record.failure = validation.contract.summary.slice(0, 500);
      } else if (!validation.passed) {
        record.failure = `tests failed (exit code ${validation.exitCode})`;
      }
      // A change Nightshift validated is delivered even when the agent was stopped (time or dollar
      // budget, stuck verdict) while polishing it: the tests decide, not how the agent ended.
      if (!record.failure && patched(PATCH_PASS_BEFORE_STOP)) return { passed: true, reason: 'tests pass' };
      if (record.end === 'budget' && record.budget) {
        return { passed: false, reason: `out of budget: ${describeBudget(record.budget)}` };
      }
      if (record.end === 'stuck' && record.stuck) {
        return { passed: false, reason: `stuck: ${record.stuck.rule} — ${record.stuck.message}` };
      }
      if (!record.failure) return { passed: true, reason: 'tests pass' };
      log.info('attempt failed', { attempt: n, failure: record.failure });
    }
  };

  /**
   * Pushes partial work to the WIP branch unless the diff gate holds it back (then the workspace is
   * kept on the worker and the reason returned). Throws what the activities throw.
   */
  const pushPartialWork = async (p: RunPlan, ws: Workspace): Promise<string | undefined> => {
    const review = await git.reviewChanges({ workflowId, plan: p, workspace: ws, taskText: `${req.title}\n${req.task}` });
    // Partial work that touches a risky path or redefines the tests is not pushed either: CI that
    // runs on push would run it with the repository's secrets.
    if (review.findings.length > 0 || review.testChanges.length > 0) {
      keepWorkspace = true;
      return heldBackReason(review);
    }
    const wip = await git.pushWip({ workflowId, plan: p, workspace: ws, title: req.title, reviewedTree: review.treeSha });
    wipBranch = wip?.branch ?? wipBranch;
    return undefined;
  };

  /**
   * Asks the origin to approve the reviewed change and waits (durably) for the `approve` signal,
   * a cancel, or the escalation wait. Returns the decision, or undefined when nobody answered.
   */
  const awaitApproval = async (p: RunPlan, review: ChangeReview): Promise<ApprovalDecision | undefined> => {
    approval = undefined;
    awaitingApproval = true;
    await report('approval_needed', (f) => renderApprovalRequest({ title: req.title, workflowId, review, what: 'pull request', waitMs: p.escalationWaitMs }, f));
    // Like `awaiting_human`: the phase says the request is out (an answer sent meanwhile still counts).
    phase = 'awaiting_approval';
    const answered = await condition(() => approval !== undefined || cancelRequest !== undefined, p.escalationWaitMs);
    awaitingApproval = false;
    return answered ? approval : undefined;
  };

  const cancelled = async (): Promise<RunOutcome> => {
    const by = cancelRequest?.by ?? 'a cancellation';
    let heldBack: string | undefined;
    if (plan && workspace) {
      const p = plan;
      const ws = workspace;
      try {
        heldBack = await CancellationScope.nonCancellable(() => pushPartialWork(p, ws));
      } catch (err) {
        // The cancellation is still reported; the workspace is kept so that nothing is lost.
        keepWorkspace = true;
        log.error('could not push partial work of a cancelled run; keeping its workspace', { path: ws.path, ...infraErrorOf(err, 'push partial work') });
      }
      if (heldBack) log.warn(heldBack, { path: ws.path });
    }
    await report('cancelled', (f) => renderCancelled({ by, reason: cancelRequest?.reason, wipBranch, attempts: attempts.length, spend: spend() }, f));
    return finish('cancelled', { reason: `cancelled by ${by}` });
  };

  try {
    const result = await work.run(async (): Promise<RunOutcome> => {
      // ---- scope
      let infra: InfraError | undefined;
      let trancheStart = 0;
      let stage: 'scope' | 'prepare' | 'attempts' | 'deliver' = 'scope';
      let stopReason = '';
      for (;;) {
        try {
          if (stage === 'scope') {
            phase = 'scoping';
            // A Linear agent session must hear from the agent within seconds (its first activity),
            // or Linear shows it as unresponsive.
            if (req.source.kind === 'linear' && req.source.agentSessionId && attempts.length === 0 && !lastReport) {
              await report('accepted', () => `Picked up by Nightshift (run \`${workflowId}\`): scoping the task.`);
            }
            const scope = await short.scopeTask(req, workflowId);
            if (!scope.ok) {
              await report('rejected', (f) => renderRejection({ reason: scope.reason, title: req.title }, f));
              return finish('rejected', { reason: scope.reason });
            }
            plan = scope.plan;
            caps = { ...plan.budget };
            if (plan.window && !req.overrides?.now) {
              const waitMs = msUntilWindow(Date.now(), plan.window);
              if (waitMs > 0) {
                phase = 'waiting_for_window';
                await condition(() => cancelRequest !== undefined, waitMs);
              }
            }
            stage = 'prepare';
          }
          if (stage === 'prepare') {
            phase = 'preparing';
            workspace = await git.prepareWorkspace({ workflowId, plan: plan! });
            // Runs started before environments existed go on without one (their history has none).
            const prepared = patched(PATCH_ENVIRONMENT_PHASE)
              ? await environmentPhase(tests, { workflowId, plan: plan!, workspace })
              : { kind: 'ready' as const, plan: plan!, testsBefore: await tests.runTests({ workflowId, plan: plan!, workspace, label: 'before', attempt: 0 }) };
            testsBefore = prepared.testsBefore;
            if (prepared.kind === 'environment_broken') {
              await report('environment_failed', (f) => renderEnvironmentFailure({ ...prepared.failure, title: req.title, workflowId }, f));
              return finish('environment_failed', { reason: prepared.failure.reason });
            }
            plan = prepared.plan;
            stage = 'attempts';
          }
          const p = plan!;
          const ws = workspace!;
          if (stage === 'attempts') {
            const r = await attemptTranche(p, ws, trancheStart);
            if (r.passed) stage = 'deliver';
            else stopReason = r.reason;
          }
          if (stage === 'deliver') {
            phase = 'delivering';
            // The diff gate: nothing is pushed before the change is reviewed (and, when it must be, approved).
            const review = await git.reviewChanges({ workflowId, plan: p, workspace: ws, taskText: `${req.title}\n${req.task}` });
            // A cancel that arrived during the review (git activities finish before the run sees it):
            // nothing is asked for and nothing is delivered.
            if (cancelRequest) return await cancelled();
            const validatedTree = attempts.at(-1)?.validation?.treeSha;
            if (validatedTree && validatedTree !== review.treeSha) {
              throw new GateStop('the change to push differs from the change Nightshift validated; nothing was pushed');
            }
            const draft = review.testChanges.length > 0;
            let approvedBy: string | undefined;
            if (draft && p.testChangesPolicy === 'escalate') {
              throw new GateStop(`the change modifies what "passing" means (${review.testChanges.map((c) => c.description).slice(0, 3).join('; ')}); a human must decide`);
            }
            if (review.findings.length > 0) {
              const decision = await awaitApproval(p, review);
              if (cancelRequest) return await cancelled();
              if (!decision) {
                keepWorkspace = true;
                await report('timed_out', (f) =>
                  renderTimedOut({ waitedMs: p.escalationWaitMs, wipBranch, spend: spend(), waitedFor: 'approval of the change', note: 'Nothing was pushed; the change is kept on the worker.' }, f),
                );
                return finish('escalation_timed_out', { reason: `no approval within ${Math.round(p.escalationWaitMs / 3_600_000)} h; nothing was pushed` });
              }
              if (decision.decision === 'reject') {
                throw new GateStop(`${decision.by} rejected the change${decision.reason ? `: ${decision.reason}` : ''}`);
              }
              approvedBy = decision.by;
              phase = 'delivering';
            }
            const gate = { review, approvedBy, draft };
            const success = { title: req.title, task: req.task, source: req.source, testsBefore, attempts, spend: spend(), durationMs: Date.now() - startedAt, workflowId, gate };
            // Without a PR URL the renderer gives the PR body; with it, the report to the origin.
            // Once the push starts it finishes: a cancel arriving now is answered with the PR it made.
            const deliver = () => git.deliver({ workflowId, plan: p, workspace: ws, title: req.title, body: renderSuccess(success, 'markdown'), reviewedTree: review.treeSha, draft });
            const delivery = patched(PATCH_ATOMIC_DELIVERY) ? await CancellationScope.nonCancellable(deliver) : await deliver();
            // (A signal handler may have set it while the delivery ran: TypeScript cannot see that.)
            const late = cancelRequest as { by: string } | undefined;
            if (late) log.warn('cancel arrived during delivery; the pull request was already opened', { by: late.by, pr: delivery.prUrl });
            await report('pr_opened', (f) => renderSuccess({ ...success, prUrl: delivery.prUrl, branch: delivery.branch }, f));
            return finish('pr_opened', { prUrl: delivery.prUrl, branch: delivery.branch, draft });
          }
        } catch (err) {
          if (isCancellation(err)) throw err;
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

        // ---- escalate: push partial work, post "what I tried", wait for a human
        phase = 'escalating';
        let heldBack: string | undefined;
        if (plan && workspace && attempts.length > 0) {
          const p = plan;
          const ws = workspace;
          try {
            heldBack = await pushPartialWork(p, ws);
          } catch (err) {
            if (isCancellation(err)) throw err;
            const e = infraErrorOf(err, 'push partial work');
            infra ??= e;
            keepWorkspace = true;
            log.warn('could not push partial work; its workspace will be kept', { code: e.code, path: ws.path });
          }
        }
        // A cancel that arrived while partial work was pushed: the run says it was cancelled, not
        // that it needs a human.
        if (cancelRequest) return await cancelled();
        const summary = summaryInput(heldBack ? `${stopReason}; ${heldBack}` : stopReason, infra);
        awaitingReply = true;
        await report('escalation', (f) => renderEscalation(summary, f));
        phase = 'awaiting_human';
        const waitMs = plan?.escalationWaitMs ?? 7 * 24 * 3_600_000;
        const replied = await condition(() => replies.length > 0 || cancelRequest !== undefined, waitMs);
        awaitingReply = false;
        if (!replied) {
          await report('timed_out', (f) => renderTimedOut({ waitedMs: waitMs, wipBranch, spend: spend() }, f));
          return finish('escalation_timed_out', { reason: `no reply within ${Math.round(waitMs / 3_600_000)} h` });
        }
        if (cancelRequest) return await cancelled();
        const reply = replies.shift()!;
        // One answer per escalation: others sent meanwhile answer nothing (not the next escalation).
        if (patched(PATCH_REPLY_ONLY_WHEN_ASKED)) replies.length = 0;
        const kind = classifyReply(reply.text);
        if (kind === 'cancel') {
          cancelRequest = { by: reply.author, reason: 'replied cancel' };
          return await cancelled();
        }
        if (kind === 'take_over') {
          await report('handed_over', (f) => renderHandedOver({ by: reply.author, wipBranch, attempts: attempts.length, spend: spend() }, f));
          return finish('handed_over', { reason: `taken over by ${reply.author}` });
        }
        // Guidance: a new attempt with a fresh budget tranche, from the stage that stopped.
        guidance.push(reply.text);
        if (plan && caps) {
          caps = {
            wallClockMs: caps.wallClockMs + plan.budget.wallClockMs,
            tokens: caps.tokens + plan.budget.tokens,
            usd: caps.usd + plan.budget.usd,
          };
        }
        trancheStart = attempts.length;
        infra = undefined;
      }
    });
    return result;
  } catch (err) {
    if (isCancellation(err) || cancelRequest) {
      return await cancelled();
    }
    // A bug or a non-retryable failure outside the escalation path: still tell the origin.
    const e = infraErrorOf(err, phase);
    await report('failed', (f) => renderFailure({ code: e.code, message: e.message, workflowId, spend: spend() }, f));
    return finish('failed', { reason: e.message });
  } finally {
    await liveStatus?.close();
    if (outcome) {
      await CancellationScope.nonCancellable(() => short.cleanup({ workflowId, workspace, keepWorkspace })).catch((err: unknown) => {
        log.warn('cleanup failed', { error: String(err) });
      });
    }
  }
}
