/**
 * Activities of the overnight queue's timing: `admissionTime` (when a run may start: its run
 * windows and its time budget) and `checkSpendCap` (whether its dollar budget fits the daily and
 * monthly caps of its team and repository, counted from the ledger with runs in flight at what
 * they reserved), and `reserveSpendCap` (the same once the run holds its slot, reserving its budget). The
 * workflow only sleeps until the instant they return (workflow code never reads time zones).
 */
import type { RunPlan } from '../workflows/activityTypes.js';
import type { Config } from '../worker/config.js';
import type { Ledger, SpendScope } from '../ledger/types.js';
import { capPeriods, decideSpend, type CapPeriod, type SpendDecision } from '../queue/spendCaps.js';
import { nextAdmission, toRunWindow, WindowError, type Admission, type RunWindow } from '../queue/window.js';
import { NightshiftError } from './errors.js';

/** Input of `admissionTime`. */
export interface AdmissionTimeInput {
  /** The run's plan (scope's result): its repository and time budget (`budget.wallClockMs`). */
  plan: RunPlan;
  /** `overrides.now` of the request, granted to a role allowed to bypass the window. */
  now?: boolean;
  /**
   * The workflow's clock (`Date.now()` in workflow code), epoch ms: the instant the decision is
   * for. Absent: the worker's clock (the two differ under a time-skipping test server, and a
   * retried activity must decide for the instant the workflow asked).
   */
  nowMs?: number;
}

/** What `admissionTime` answers: the admission, and the team the run counts against ({@link teamOfRepo}). */
export type AdmissionTimeResult = Admission & { team?: string };

/** Input of `checkSpendCap`. */
export interface CheckSpendCapInput {
  plan: RunPlan;
  /**
   * The run asking. Its own ledger row counts like any other (nothing before its first attempt;
   * its earlier tranches when a guidance asks for a new one).
   */
  workflowId: string;
  /** The workflow's clock, epoch ms (see {@link AdmissionTimeInput.nowMs}); absent: the worker's. */
  nowMs?: number;
}

/** Input of `reserveSpendCap`. */
export interface ReserveSpendCapInput extends CheckSpendCapInput {
  /** What the run has spent so far (its earlier tranches), USD: its reservation is this + `plan.budget.usd`. */
  spentUsd: number;
}

/** The queue timing activities (register with the worker's others). */
/** Input of `releaseSpendReservation`. */
export interface ReleaseSpendReservationInput {
  workflowId: string;
  /** The run's spend so far, USD (its ledger spend is raised to at least this). */
  spentUsd: number;
}

export interface QueueActivities {
  /** When the run may start; `never` when no opening of its windows is long enough for its time budget. */
  admissionTime(input: AdmissionTimeInput): Promise<AdmissionTimeResult>;
  /** `ok`, `defer` until the next period, or `refuse` (budget above a cap); messages for the origin. */
  checkSpendCap(input: CheckSpendCapInput): Promise<SpendDecision>;
  /**
   * The same verdict once the run holds its sandbox slot, counting runs in flight at what they
   * reserved; on `ok` the run reserves its own budget in the same ledger transaction (two runs
   * granted at once see each other). No cap: `ok`, nothing reserved.
   */
  reserveSpendCap(input: ReserveSpendCapInput): Promise<SpendDecision>;
  /**
   * Drops the run's reservation as it gives its sandbox slot back, so the next run granted that
   * slot counts it at what it spent, not at what it had reserved (before this, a finished run's
   * reservation counted until its final ledger write, and deferred the next run to the next day).
   * No ledger: nothing to release.
   */
  releaseSpendReservation(input: ReleaseSpendReservationInput): Promise<void>;
}

/** What the queue activities need. */
export interface QueueActivityDeps {
  config: Pick<Config, 'repos' | 'teams' | 'linear' | 'spendCaps'>;
  /** The run ledger; absent: spend caps cannot be counted (a configured cap then fails the check). */
  ledger?: Pick<Ledger, 'committedBetween' | 'reserveSpend' | 'releaseReservation'>;
  /** Clock, epoch ms (tests). */
  now?: () => number;
}

/**
 * The team a repository's runs count against: `repos.X.team`, else the Linear team key mapped to
 * the repository (`linear.teams`), else none.
 */
export function teamOfRepo(config: Pick<Config, 'repos' | 'linear'>, repo: string): string | undefined {
  const explicit = config.repos[repo]?.team;
  if (explicit) return explicit;
  return Object.entries(config.linear.teams).find(([, r]) => r === repo)?.[0];
}

/** The run windows of a repository's runs: the repository's and its team's (configuration). */
export function windowsOf(config: Pick<Config, 'repos' | 'teams' | 'linear'>, repo: string): RunWindow[] {
  const out: RunWindow[] = [];
  const own = config.repos[repo]?.window;
  if (own) out.push({ ...toRunWindow(own), label: `repo ${repo}` });
  const team = teamOfRepo(config, repo);
  const tw = team ? config.teams[team]?.window : undefined;
  if (tw) out.push({ ...toRunWindow(tw), label: `team ${team}` });
  return out;
}

/**
 * Builds the queue timing activities. Errors: CONFIG_INVALID (not retryable) for a window that
 * cannot be read or caps with no ledger; a ledger failure is rethrown (retryable).
 */
export function createQueueActivities(deps: QueueActivityDeps): QueueActivities {
  const clock = deps.now ?? Date.now;
  const periodsOf = (plan: RunPlan, nowMs: number): CapPeriod[] =>
    capPeriods(deps.config.spendCaps, { repo: plan.repo, team: teamOfRepo(deps.config, plan.repo) }, nowMs);
  const scopeOf = (p: CapPeriod): SpendScope => (p.scope === 'team' ? { team: p.key } : { repo: p.key });
  const ledgerFor = (): NonNullable<QueueActivityDeps['ledger']> => {
    if (!deps.ledger) throw new NightshiftError('CONFIG_INVALID', 'spend caps are configured but no run ledger is open to count spend', { retryable: false });
    return deps.ledger;
  };
  return {
    async admissionTime({ plan, now, nowMs: asked }) {
      const nowMs = asked ?? clock();
      const team = teamOfRepo(deps.config, plan.repo);
      const withTeam = (a: Admission): AdmissionTimeResult => (team ? { ...a, team } : a);
      if (now) return withTeam({ kind: 'now', atMs: nowMs, reason: 'started now by request (--now), outside any run window' });
      try {
        return withTeam(nextAdmission(nowMs, windowsOf(deps.config, plan.repo), plan.budget.wallClockMs));
      } catch (err) {
        if (err instanceof WindowError) throw new NightshiftError('CONFIG_INVALID', `run window of ${plan.repo}: ${err.message}`, { cause: err, retryable: false, details: err.details });
        throw err;
      }
    },

    async checkSpendCap({ plan, workflowId, nowMs: asked }) {
      const nowMs = asked ?? clock();
      const periods = periodsOf(plan, nowMs);
      if (periods.length === 0) return decideSpend([], plan.budget.usd);
      const ledger = ledgerFor();
      const usage = await Promise.all(
        periods.map(async (p) => ({ ...p, spentUsd: (await ledger.committedBetween(scopeOf(p), p.startMs, p.endMs, workflowId)).usd })),
      );
      return decideSpend(usage, plan.budget.usd);
    },

    async reserveSpendCap({ plan, workflowId, nowMs: asked, spentUsd }) {
      const nowMs = asked ?? clock();
      const periods = periodsOf(plan, nowMs);
      if (periods.length === 0) return decideSpend([], plan.budget.usd);
      return ledgerFor().reserveSpend<SpendDecision>({
        workflowId,
        repo: plan.repo,
        ...(teamOfRepo(deps.config, plan.repo) ? { team: teamOfRepo(deps.config, plan.repo) } : {}),
        at: nowMs,
        periods: periods.map((p) => ({ scope: scopeOf(p), from: p.startMs, to: p.endMs })),
        decide: (committed) => {
          const verdict = decideSpend(periods.map((p, i) => ({ ...p, spentUsd: committed[i] ?? 0 })), plan.budget.usd);
          return verdict.kind === 'ok' ? { reserveUsd: spentUsd + plan.budget.usd, value: verdict } : { reserveUsd: null, value: verdict };
        },
      });
    },

    async releaseSpendReservation({ workflowId, spentUsd }) {
      await deps.ledger?.releaseReservation(workflowId, spentUsd);
    },
  };
}
