/**
 * The terminal side of `demo --night` (worker/demoNight.ts): samples the sandbox queue's
 * coordinator (`queue` query, workflows/queueCoordinator.ts) and each open run's `status` query,
 * prints a line per state change of a run with the number running against the caps, and checks
 * the queue's invariants from what it saw:
 * - never more runs holding a sandbox than `queue.maxConcurrent`, nor per repository than
 *   `repos.X.maxConcurrent` (every sample);
 * - priority: a run seen waiting is granted before every run of a lower priority granted after
 *   that sample (for runs of a repository without a cap of its own, where nothing else can hold
 *   them back; the coordinator's grant counter orders grants against the sample). A run the spend
 *   cap deferred was granted its turn and gave it back; it is not checked.
 */
import type { Client } from '@temporalio/client';
import { DateTime } from 'luxon';
import type { NightTask } from '../devstack/nightTasks.js';
import type { HolderEntry, QueueCaps } from '../workflows/queuePolicy.js';
import type { RunOutcomeKind, RunPhase, RunStatus } from '../workflows/types.js';
import { statusQuery } from '../workflows/index.js';
import { COORDINATOR_ID } from '../workflows/queueCoordinator.js';
import { readQueue } from './queueCommand.js';

/** A run of the night: its task and where it was sent. */
export interface NightRun {
  task: NightTask;
  workflowId: string;
  /** Linear issue id, for a Linear task. */
  issueId?: string;
  /** Slack channel and root message ts, for a Slack task. */
  slack?: { channel: string; rootTs: string };
}

/** The demo's view of a run's state (one line is printed when it changes). */
export type NightState = 'scoping' | 'waiting' | 'queued' | 'running' | 'escalated' | 'deferred' | 'done';

/** What the watch knows about a run. */
interface Tracked {
  run: NightRun;
  state?: NightState;
  phase?: RunPhase;
  outcome?: RunOutcomeKind;
}

const PRIORITY = ['', 'urgent', 'high', 'normal', 'low'];

function stateOf(phase: RunPhase, holding: boolean): NightState {
  if (phase === 'done') return 'done';
  if (phase === 'awaiting_human') return 'escalated';
  if (phase === 'waiting_for_budget') return 'deferred';
  if (phase === 'waiting_for_window') return 'waiting';
  if (phase === 'queued') return 'queued';
  if (phase === 'scoping') return 'scoping';
  return holding ? 'running' : phase === 'escalating' ? 'escalated' : 'running';
}

/** Samples the night and keeps what the invariants need; see the module comment. */
export class NightWatch {
  /** Broken invariants, one sentence each. */
  readonly violations: string[] = [];
  /** Every holder seen, by workflow id (the coordinator's grant record). */
  readonly holders = new Map<string, HolderEntry>();
  /** Most runs seen holding a slot at once, globally and per repository. */
  readonly peak = { global: 0, repos: {} as Record<string, number> };
  private readonly runs = new Map<string, Tracked>();
  /**
   * Runs seen deferred by a spend cap: granted a slot, they gave it back at once (too briefly to be
   * sampled holding it) and left the queue until their next period, so they are not held back by
   * priority when a lower one is admitted later.
   */
  private readonly deferredSeen = new Set<string>();
  /** Per sample: the grant counter and the runs waiting then (with priority and repo). */
  private readonly waitingSeen: Array<{ granted: number; waiting: Array<{ workflowId: string; priority: number; repo: string }> }> = [];

  constructor(
    private readonly client: Client,
    private readonly out: (line?: string) => void,
    /** The configured caps (not the coordinator's own idea of them). */
    private readonly caps: QueueCaps,
    private readonly tz: string,
    private readonly startedAt = Date.now(),
    /** The coordinator of the stack's task queue (`coordinatorIdFor`). */
    private readonly coordinatorId = COORDINATOR_ID,
  ) {}

  /** Starts watching a run (prints its first line). */
  add(run: NightRun, note: string): void {
    this.runs.set(run.workflowId, { run });
    this.line(run, `sent     ${note}`, '');
  }

  /** The run's state as last sampled. */
  stateOf(workflowId: string): { state?: NightState; phase?: RunPhase; outcome?: RunOutcomeKind } {
    const t = this.runs.get(workflowId);
    return { state: t?.state, phase: t?.phase, outcome: t?.outcome };
  }

  /** Runs the watch knows. */
  allRuns(): NightRun[] {
    return [...this.runs.values()].map((t) => t.run);
  }

  /** One sample: the coordinator, then each run not done; prints changes. Never throws. */
  async sample(): Promise<void> {
    const q = await readQueue(this.client, this.coordinatorId).catch(() => undefined);
    const holding = new Set(q?.running.map((r) => r.workflowId) ?? []);
    let summary = '';
    if (q) {
      for (const h of q.running) if (!this.holders.has(h.workflowId)) this.holders.set(h.workflowId, h);
      this.waitingSeen.push({ granted: q.granted, waiting: q.waiting.map((w) => ({ workflowId: w.workflowId, priority: w.priority, repo: w.repo })) });
      summary = this.checkCaps(q.running);
      summary += ` · waiting ${q.waiting.length}`;
    }
    const open = [...this.runs.values()].filter((t) => t.state !== 'done');
    const statuses = await Promise.all(open.map((t) => this.client.workflow.getHandle(t.run.workflowId).query(statusQuery).then((s: RunStatus) => s, () => undefined)));
    open.forEach((t, i) => {
      const s = statuses[i];
      if (!s) return;
      t.phase = s.phase;
      if (s.outcome) t.outcome = s.outcome.kind;
      const next = stateOf(s.phase, holding.has(t.run.workflowId));
      if (next === t.state) return;
      t.state = next;
      if (next === 'deferred') this.deferredSeen.add(t.run.workflowId);
      const detail = next === 'done' ? ` ${s.outcome?.kind ?? ''}${s.outcome?.prUrl ? ` ${s.outcome.prUrl}` : ''}${s.outcome?.reason && !s.outcome.prUrl ? `: ${s.outcome.reason.slice(0, 90)}` : ''}` : '';
      const said = next === 'deferred' && s.lastReport ? ` ${s.lastReport.split('. It will run')[0]!.slice(0, 140)}` : '';
      this.line(t.run, `${next.padEnd(9)}${detail}${said}`, summary);
    });
  }

  /** Checks one sample's holders against the caps; returns `running 2/2 (abacus 1/1)`. */
  private checkCaps(running: HolderEntry[]): string {
    const perRepo: Record<string, number> = {};
    for (const h of running) perRepo[h.repo] = (perRepo[h.repo] ?? 0) + 1;
    this.peak.global = Math.max(this.peak.global, running.length);
    if (running.length > this.caps.global) this.violate(`${running.length} runs held a sandbox at once (queue.maxConcurrent ${this.caps.global}): ${running.map((h) => h.workflowId).join(', ')}`);
    for (const [repo, n] of Object.entries(perRepo)) {
      this.peak.repos[repo] = Math.max(this.peak.repos[repo] ?? 0, n);
      const cap = this.caps.repos[repo];
      if (cap !== undefined && n > cap) this.violate(`${n} runs of ${repo} held a sandbox at once (repos.${repo}.maxConcurrent ${cap})`);
    }
    const repos = Object.entries(this.caps.repos).map(([r, cap]) => `${r} ${perRepo[r] ?? 0}/${cap}`);
    return `running ${running.length}/${this.caps.global}${repos.length ? ` (${repos.join(', ')})` : ''}`;
  }

  /**
   * The priority check (module comment), over every sample; adds a violation per pair and returns
   * the pairs checked.
   */
  checkPriority(): number {
    let pairs = 0;
    for (const sample of this.waitingSeen) {
      for (const w of sample.waiting) {
        if (this.caps.repos[w.repo] !== undefined || this.deferredSeen.has(w.workflowId)) continue;
        const mine = this.holders.get(w.workflowId);
        for (const other of this.holders.values()) {
          if (other.priority <= w.priority || other.grantSeq <= sample.granted) continue;
          pairs++;
          if (!mine || other.grantSeq < mine.grantSeq) {
            this.violate(`${other.workflowId} (priority ${other.priority}) was admitted (grant #${other.grantSeq}) before ${w.workflowId} (priority ${w.priority}, waiting since grant #${sample.granted}${mine ? `, admitted #${mine.grantSeq}` : ', never admitted'})`);
          }
        }
      }
    }
    return pairs;
  }

  private violate(message: string): void {
    if (!this.violations.includes(message)) this.violations.push(message);
  }

  private line(run: NightRun, what: string, summary: string): void {
    const t = run.task;
    const clock = DateTime.now().setZone(this.tz).toFormat('HH:mm:ss');
    const s = Math.round((Date.now() - this.startedAt) / 1000);
    const elapsed = `+${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    const who = `${t.label.padEnd(9)} ${t.via.padEnd(6)} ${t.repo.padEnd(10)} ${PRIORITY[t.priority]!.padEnd(6)}`;
    this.out(`${clock} ${elapsed.padStart(6)}  ${who}  ${what}${summary ? `   [${summary}]` : ''}`);
  }
}
