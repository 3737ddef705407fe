/**
 * A run of `agentTask` with the sandbox-bound activities stubbed (scope, workspace, environment,
 * tests, agent, delivery) and the queue side real: the queue timing activities
 * (`admissionTime`, `checkSpendCap`) on a temp SQLite ledger, the ledger activities, the sandbox
 * queue (`requestSandboxSlot` by signalWithStart, the coordinator workflow). Two workers, as the
 * product runs: the run's task queue and its messages queue.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, type NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createAdmissionActivities } from '../../activities/admission.js';
import { createLedgerActivities } from '../../activities/ledger.js';
import { createQueueActivities } from '../../activities/queue.js';
import { openLedger } from '../../ledger/open.js';
import type { Ledger } from '../../ledger/types.js';
import type { Activities, Report, RunPlan } from '../../workflows/activityTypes.js';
import { messagesTaskQueue } from '../../workflows/linearTypes.js';
import { ZERO_SPEND, type AttemptRecord } from '../../workflows/types.js';
import type { Config } from '../../worker/config.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { createHostActivities } from '../../activities/host.js';
import { testHost } from './runWorkers.js';
import type { ClarifyActivities } from '../../activities/clarify.js';

/** The plan the scope stub returns for `repo` (budget from the arguments). */
export function stubPlan(repo: string, budget: RunPlan['budget'], maxAttempts = 3): RunPlan {
  return {
    repo,
    url: '/tmp/none',
    github: `acme/${repo}`,
    defaultBranch: 'main',
    agent: 'claude-code',
    model: 'claude-sonnet-4-5',
    image: 'nightshift/claude-code:latest',
    testCommand: 'python3 -m unittest',
    budget,
    maxAttempts,
    risk: 'low',
    riskReasons: [],
    riskyPaths: [],
    testChangesPolicy: 'escalate',
    slug: `fix-${repo}`,
    escalationWaitMs: 7 * 24 * 3_600_000,
    agentEgress: [],
  };
}

/** What the stubs saw. */
export interface StubLog {
  reports: Report[];
  /** Server time when `prepareWorkspace` was scheduled, per workflow id (epoch ms). */
  preparedAt: Map<string, number>;
  calls: string[];
}

/** Options of the stubbed sandbox side. */
export interface StubOptions {
  plan: (workflowId: string) => RunPlan;
  /** Whether attempt n's tests pass (default: all pass). */
  passes?: (workflowId: string, attempt: number) => boolean;
  /** USD each attempt spends (default 0.5). */
  attemptUsd?: number;
}

/** The sandbox-bound activities, stubbed. */
export function stubActivities(o: StubOptions): { acts: Activities & ClarifyActivities; log: StubLog } {
  const log: StubLog = { reports: [], preparedAt: new Map(), calls: [] };
  const attempt = (n: number): AttemptRecord => ({
    attempt: n,
    end: 'agent_exited',
    agent: 'claude-code',
    model: 'claude-sonnet-4-5',
    finalMessage: `attempt ${n} done`,
    exitCode: 0,
    spend: { ...ZERO_SPEND, tokens: 1000, usd: o.attemptUsd ?? 0.5, requests: 1 },
    durationMs: 1000,
    diffStat: ' calc.py | 2 +-',
    filesChanged: ['calc.py'],
    commands: [],
    lastEvents: [],
  });
  const acts: Activities & ClarifyActivities = {
    scopeTask: async (_req, workflowId) => ({ ok: true, plan: o.plan(workflowId) }),
    prepareWorkspace: async ({ workflowId }) => {
      log.calls.push(`prepare:${workflowId}`);
      log.preparedAt.set(workflowId, Context.current().info.scheduledTimestampMs);
      return { path: '/tmp/ws', gitDir: '/tmp/ws.git', baseSha: 'abc' };
    },
    prepareEnvironment: async () => ({ image: 'env', key: 'k', source: 'config', cached: true, setup: [], seed: [], prepareMs: 1 }),
    warmAgent: async () => ({ warmed: false, reason: 'activity double' }),
    warmTests: async () => ({ warmed: false, reason: 'activity double' }),
    runTests: async (input) => {
      const passed = input.attempt === 0 ? false : (o.passes?.(input.workflowId, input.attempt) ?? true);
      return { passed, exitCode: passed ? 0 : 1, outputTail: passed ? 'OK' : 'FAIL', failingTests: passed ? [] : ['t'], durationMs: 5, command: 'python3 -m unittest' };
    },
    runAgent: async (input) => attempt(input.attempt),
    reviewChanges: async () => ({ files: [{ path: 'calc.py', status: 'modified', added: 1, removed: 1 }], totals: { files: 1, lines: 2 }, findings: [], testChanges: [], treeSha: 'tree' }),
    deliver: async ({ workflowId }) => ({ prUrl: `https://github.com/acme/pr/${workflowId}`, prNumber: 1, branch: 'nightshift/x', commitSha: 'def', created: true }),
    pushWip: async () => ({ branch: 'nightshift/x-wip', commitSha: 'wip' }),
    notify: async (r) => {
      log.reports.push(r);
    },
    cleanup: async () => undefined,
    // The clarifying assessment: off, as without `scope.clarify.model`.
    assessTask: async () => ({ decision: 'skipped', rationale: 'the clarifying assessment is off', disabled: true, spend: ZERO_SPEND }),
  };
  return { acts, log };
}

/** The two workers and the temp ledger. */
export interface QueueRunWorkers {
  ledger: Ledger;
  /** Runs `fn` while both workers poll. */
  runUntil<T>(fn: () => Promise<T>): Promise<T>;
  /** Closes the ledger and removes its directory (always completes). */
  teardown(): Promise<void>;
}

let bundle: WorkflowBundleWithSourceMap | undefined;

/**
 * Starts the workers of a queue run on `taskQueue` (+ its messages queue) over a fresh SQLite
 * ledger; `seed` may write rows first. The coordinator's reclaim runs every 6 hours (time skipping
 * would otherwise run it every minute of skipped time).
 */
export async function startQueueRunWorkers(opts: {
  connection: NativeConnection;
  client: Client;
  namespace?: string;
  taskQueue: string;
  config: Pick<Config, 'repos' | 'teams' | 'linear' | 'spendCaps'>;
  stubs: Activities;
  coordinatorMaxHistoryEvents?: number;
}): Promise<QueueRunWorkers> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-queue-run-'));
  const ledger = await openLedger({ stateDir: dir });
  try {
    bundle ??= await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
    const admission = createAdmissionActivities({ client: opts.client, taskQueue: opts.taskQueue, maxConcurrent: 2, repoCaps: {}, reclaimEveryMs: 6 * 3_600_000 });
    const ledgerActs = createLedgerActivities(ledger);
    const main = await Worker.create({
      connection: opts.connection,
      namespace: opts.namespace,
      taskQueue: opts.taskQueue,
      workflowBundle: bundle,
      activities: { ...opts.stubs, ...admission, ...createQueueActivities({ config: opts.config, ledger }), ...createHostActivities(testHost(opts.taskQueue)) },
    });

    const messages = await Worker.create({
      connection: opts.connection,
      namespace: opts.namespace,
      taskQueue: messagesTaskQueue(opts.taskQueue),
      activities: { notify: opts.stubs.notify, ...ledgerActs, ...admission },
    });
    return {
      ledger,
      runUntil: (fn) => main.runUntil(messages.runUntil(fn)),
      teardown: async () => {
        await ledger.close().catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await ledger.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
