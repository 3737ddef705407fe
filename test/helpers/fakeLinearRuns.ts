/**
 * An in-memory {@link LinearRunsPort} with Temporal's id rules (an id is never reused; start on a
 * known id → `already_started`; signalWithStart on a closed id → `closed`; a signal to a closed
 * run → `not_running`), recording every start and signal. The real port is exercised against the
 * Temporal dev server in test/integration/linearIngress.test.ts.
 */
import type { LinearRunsPort, RunMemo, RunSignal } from '../../bots/linear/runs.js';
import type { TaskRequest } from '../../workflows/types.js';

/** One run the fake knows. */
export interface FakeRun {
  workflowId: string;
  req: TaskRequest;
  memo: RunMemo;
  running: boolean;
  signals: RunSignal[];
  /** How it started: `start` or `signalWithStart`. */
  startedBy: 'start' | 'signalWithStart';
}

/** The fake port; `behaviour` makes every call throw or hang. */
export class FakeLinearRuns implements LinearRunsPort {
  readonly runs = new Map<string, FakeRun>();
  /** Every call, in order (`start <id>`, `signal <id> <name>`, `describe <id>`, …). */
  readonly calls: string[] = [];
  behaviour: 'ok' | 'throw' | 'hang' = 'ok';

  private async gate(call: string): Promise<void> {
    this.calls.push(call);
    if (this.behaviour === 'throw') throw new Error('temporal unavailable', { cause: new Error('ECONNREFUSED 127.0.0.1:7233') });
    if (this.behaviour === 'hang') await new Promise<never>(() => undefined);
  }

  /** Ends a run (as the workflow finishing would). */
  end(workflowId: string): void {
    const r = this.runs.get(workflowId);
    if (!r) throw new Error(`no run ${workflowId}`);
    r.running = false;
  }

  /** Adds a run as if started earlier (e.g. under an old id scheme). */
  seed(workflowId: string, req: TaskRequest, running = true): FakeRun {
    const run: FakeRun = { workflowId, req, memo: {}, running, signals: [], startedBy: 'start' };
    this.runs.set(workflowId, run);
    return run;
  }

  /** The signals every run received, as `<id> <signal name>`. */
  signalLog(): string[] {
    return [...this.runs.values()].flatMap((r) => r.signals.map((s) => `${r.workflowId} ${s.name}`));
  }

  async start(workflowId: string, req: TaskRequest, memo: RunMemo): Promise<'started' | 'already_started'> {
    await this.gate(`start ${workflowId}`);
    if (this.runs.has(workflowId)) return 'already_started';
    this.runs.set(workflowId, { workflowId, req, memo, running: true, signals: [], startedBy: 'start' });
    return 'started';
  }

  async signalWithStart(workflowId: string, req: TaskRequest, sig: RunSignal, memo: RunMemo): Promise<'delivered' | 'closed'> {
    await this.gate(`signalWithStart ${workflowId} ${sig.name}`);
    const r = this.runs.get(workflowId);
    if (r && !r.running) return 'closed';
    if (r) r.signals.push(sig);
    else this.runs.set(workflowId, { workflowId, req, memo, running: true, signals: [sig], startedBy: 'signalWithStart' });
    return 'delivered';
  }

  async signal(workflowId: string, sig: RunSignal): Promise<'delivered' | 'not_running'> {
    await this.gate(`signal ${workflowId} ${sig.name}`);
    const r = this.runs.get(workflowId);
    if (!r?.running) return 'not_running';
    r.signals.push(sig);
    return 'delivered';
  }

  async describe(workflowId: string): Promise<{ workflowId: string; running: boolean; status: string; memo: RunMemo } | undefined> {
    await this.gate(`describe ${workflowId}`);
    const r = this.runs.get(workflowId);
    return r ? { workflowId, running: r.running, status: r.running ? 'RUNNING' : 'COMPLETED', memo: r.memo } : undefined;
  }

  async sessionOf(workflowId: string): Promise<string | undefined> {
    await this.gate(`sessionOf ${workflowId}`);
    const s = this.runs.get(workflowId)?.req.source;
    return s?.kind === 'linear' ? s.agentSessionId : undefined;
  }
}
