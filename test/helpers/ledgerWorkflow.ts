/**
 * A tiny workflow for the ledger's integration test: it writes a run to the ledger through the
 * ledger activities, as `agentTask` will at its phase changes, with one attempt whose agent
 * events an activity records (`recordTraceFromAttempt`, as runAgent does). Workflow code: no I/O.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { LedgerActivities } from '../../ledger/types.js';

/** The attempt activity the test worker provides: records the agent events of an attempt in the ledger. */
export interface LedgerTestActivities extends LedgerActivities {
  fakeAttempt(input: { workflowId: string; attempt: number }): Promise<number>;
}

const acts = proxyActivities<LedgerTestActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });

/** Queued → running → one attempt (trace + validation) → done with a PR. */
export async function ledgerTrace(input: { repo: string; title: string; requester: string }): Promise<void> {
  const workflowId = workflowInfo().workflowId;
  const started = Date.now(); // workflow time: deterministic
  await acts.ledgerUpsertRun({ workflowId, originKind: 'cli', repo: input.repo, team: 'core', requester: input.requester, title: input.title, status: 'queued', createdAt: started });
  await acts.ledgerUpsertRun({ workflowId, status: 'running', phase: 'running_agent', startedAt: started });
  await acts.ledgerAppendEvents([{ workflowId, attempt: 0, seq: 0, ts: started, kind: 'phase', text: 'running_agent' }]);
  await acts.ledgerRecordAttempt({ workflowId, attempt: 1, startedAt: started, agent: 'claude-code', spend: { usd: 0, tokens: 0 } });
  await acts.fakeAttempt({ workflowId, attempt: 1 });
  await acts.ledgerRecordAttempt({ workflowId, attempt: 1, startedAt: started, endedAt: Date.now(), end: 'agent_exited', agent: 'claude-code', spend: { usd: 0.024, tokens: 6400 }, filesChanged: ['calc.py'] });
  await acts.ledgerRecordValidation({
    workflowId, attempt: 1, ts: Date.now(), passed: true, exitCode: 0, command: 'python3 -m unittest -v', durationMs: 640,
    failingTests: [], counts: { passed: 2, failed: 0, skipped: 0, total: 2 }, outputTail: 'Ran 2 tests\nOK',
  });
  await acts.ledgerUpsertRun({ workflowId, status: 'done', phase: 'done', outcome: 'pr_opened', prUrl: 'https://github.com/acme/calculator/pull/1', spend: { usd: 0.024, tokens: 6400 }, attempts: 1 });
}
