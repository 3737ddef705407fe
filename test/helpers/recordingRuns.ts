/** A RunsPort (bots/slack/runs.ts) that records what the Slack handlers ask of Temporal, for unit tests. */
import type { RunInfo, RunsPort } from '../../bots/slack/runs.js';
import type { RunStatus, TaskRequest } from '../../workflows/types.js';

/** Records starts; `startDelayMs` simulates a busy Temporal. */
export class RecordingRuns implements RunsPort {
  started: { workflowId: string; req: TaskRequest }[] = [];
  cancelled: { workflowId: string; by: string }[] = [];
  startDelayMs = 0;
  async start(workflowId: string, req: TaskRequest): Promise<'started' | 'already_started'> {
    if (this.startDelayMs) await new Promise((r) => setTimeout(r, this.startDelayMs));
    if (this.started.some((s) => s.workflowId === workflowId)) return 'already_started';
    this.started.push({ workflowId, req });
    return 'started';
  }
  async describe(workflowId: string): Promise<RunInfo | undefined> {
    const s = this.started.find((x) => x.workflowId === workflowId);
    return s && { workflowId, status: 'RUNNING', startedAt: Date.now(), request: s.req };
  }
  async status(workflowId: string): Promise<RunStatus | undefined> {
    return { workflowId, phase: 'waiting_for_window', attempt: 0, maxAttempts: 3, spend: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, tokens: 0, usd: 0, requests: 0, refusals: 0 }, lastEvents: [], undeliveredReports: 0 };
  }
  async cancel(workflowId: string, by: string): Promise<void> {
    this.cancelled.push({ workflowId, by });
  }
  async reply(): Promise<void> {}
  async approve(): Promise<void> {}
  async listOpen(): Promise<RunInfo[]> {
    return Promise.all(this.started.map((s) => this.describe(s.workflowId))) as Promise<RunInfo[]>;
  }
}

