/**
 * The escalate phase: push partial work, post "what I tried", wait (durably) for a human. A reply
 * "cancel" closes the run, "take over" hands the branch over, anything else is guidance for a new
 * tranche of attempts with a fresh budget.
 */
import { condition, isCancellation, log, patched } from '@temporalio/workflow';
import { classifyReply } from '../prompt.js';
import { renderEscalation, renderHandedOver, renderTimedOut } from '../summary.js';
import type { RunOutcome } from '../types.js';
import { cancelled, pushPartialWork } from './cancel.js';
import { PATCH_REPLY_ONLY_WHEN_ASKED } from './patches.js';
import { noteReason } from './record.js';
import { report } from './report.js';
import { finish, infraErrorOf, spendOf, summaryInput, type InfraError, type RunState } from './state.js';

/** How long an escalated run waits for a human when no plan says (7 days), ms. */
const DEFAULT_ESCALATION_WAIT_MS = 7 * 24 * 3_600_000;

/**
 * Escalates with `stopReason` (and the infrastructure error, when one stopped the run) and waits
 * for a reply. Returns the run's outcome when it ends here (cancelled, handed over, timed out), or
 * undefined after guidance: the guidance is recorded and the caps raised by one tranche, and the
 * caller goes on from the stage that stopped. Throws only a workflow cancellation.
 */
export async function escalatePhase(s: RunState, stopReason: string, infraIn: InfraError | undefined): Promise<RunOutcome | undefined> {
  let infra = infraIn;
  s.phase = 'escalating';
  let heldBack: string | undefined;
  if (s.plan && s.workspace && s.attempts.length > 0) {
    const p = s.plan;
    const ws = s.workspace;
    try {
      heldBack = await pushPartialWork(s, p, ws);
    } catch (err) {
      if (isCancellation(err)) throw err;
      const e = infraErrorOf(err, 'push partial work');
      infra ??= e;
      s.keepWorkspace = true;
      log.warn('could not push partial work; its workspace will be kept', { code: e.code, path: ws.path });
    }
  }
  // A cancel that arrived while partial work was pushed: the run says it was cancelled, not
  // that it needs a human.
  if (s.cancelRequest) return await cancelled(s);
  const summary = summaryInput(s, heldBack ? `${stopReason}; ${heldBack}` : stopReason, infra);
  s.awaitingReply = true;
  await report(s, 'escalation', (f) => renderEscalation(summary, f));
  // The ledger (and the digest) say why the run needs a human, not why it was admitted.
  noteReason(s, summary.reason);
  s.phase = 'awaiting_human';
  const waitMs = s.plan?.escalationWaitMs ?? DEFAULT_ESCALATION_WAIT_MS;
  const replied = await condition(() => s.replies.length > 0 || s.cancelRequest !== undefined, waitMs);
  s.awaitingReply = false;
  if (!replied) {
    await report(s, 'timed_out', (f) => renderTimedOut({ waitedMs: waitMs, wipBranch: s.wipBranch, spend: spendOf(s) }, f));
    return finish(s, 'escalation_timed_out', { reason: `no reply within ${Math.round(waitMs / 3_600_000)} h` });
  }
  if (s.cancelRequest) return await cancelled(s);
  const reply = s.replies.shift()!;
  // One answer per escalation: others sent meanwhile answer nothing (not the next escalation).
  if (patched(PATCH_REPLY_ONLY_WHEN_ASKED)) s.replies.length = 0;
  const kind = classifyReply(reply.text);
  if (kind === 'cancel') {
    s.cancelRequest = { by: reply.author, reason: 'replied cancel' };
    return await cancelled(s);
  }
  if (kind === 'take_over') {
    await report(s, 'handed_over', (f) => renderHandedOver({ by: reply.author, wipBranch: s.wipBranch, attempts: s.attempts.length, spend: spendOf(s) }, f));
    return finish(s, 'handed_over', { reason: `taken over by ${reply.author}` });
  }
  // Guidance: a new attempt with a fresh budget tranche, from the stage that stopped.
  s.guidance.push(reply.text);
  noteReason(s, `new attempts after guidance from ${reply.author}`);
  if (s.plan && s.caps) {
    s.caps = {
      wallClockMs: s.caps.wallClockMs + s.plan.budget.wallClockMs,
      tokens: s.caps.tokens + s.plan.budget.tokens,
      usd: s.caps.usd + s.plan.budget.usd,
    };
  }
  return undefined;
}
