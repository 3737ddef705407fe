/**
 * The two workers of an `agentTask` run in the workflow tests (the run's task queue and its
 * messages queue, `<taskQueue>-messages`, as the product runs them), with one shared set of the
 * activities the tests do not stub themselves: a new activity the workflow calls is added here once.
 *
 * - queue timing (`admissionTime`, `checkSpendCap`): the real activities over an empty queue
 *   configuration (no window, no cap: admitted now);
 * - sandbox slot (`requestSandboxSlot`): a coordinator double that grants at once (the slotGranted
 *   signal to the run); the real coordinator is tested in test/workflow/windows + test/integration;
 * - run ledger (`ledger*`): in memory, recorded in {@link RunSideLog};
 * - Linear run activities: access allowed, issue states disabled, session mirrors recorded;
 * - clarify (`assessTask`): off (`disabled`), as without `scope.clarify.model`; tests of questions give their own.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { type NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ClarifyActivities } from '../../activities/clarify.js';
import { createQueueActivities } from '../../activities/queue.js';
import type { AttemptRow, LedgerActivities, RunPatch, ValidationRow } from '../../ledger/types.js';
import { createHostActivities } from '../../activities/host.js';
import type { Activities, HostClaim } from '../../workflows/activityTypes.js';
import type { Config } from '../../worker/config.js';
import { messagesTaskQueue, type LinearRunActivities, type SessionMirrorInput } from '../../workflows/linearTypes.js';
import { slotGrantedSignal } from '../../workflows/queueCoordinator.js';
import { ZERO_SPEND } from '../../workflows/types.js';
import type { RequestSlotInput, SlotActivities } from '../../workflows/queueSlot.js';

/** What the shared activities saw. */
export interface RunSideLog {
  runs: RunPatch[];
  attempts: AttemptRow[];
  validations: ValidationRow[];
  slots: RequestSlotInput[];
  mirrors: SessionMirrorInput[];
}

/** The shared activities of a run besides the test's own (see the module doc). */
export function runSideActivities(client: Client): { acts: Record<string, (...args: never[]) => Promise<unknown>>; log: RunSideLog } {
  const log: RunSideLog = { runs: [], attempts: [], validations: [], slots: [], mirrors: [] };
  const queue = createQueueActivities({ config: { repos: {}, teams: {}, linear: { teams: {} } as unknown as Config['linear'], spendCaps: { teams: {}, repos: {} } } });
  const ledger: LedgerActivities = {
    ledgerUpsertRun: async (p) => void log.runs.push(p),
    ledgerRecordAttempt: async (a) => void log.attempts.push(a),
    ledgerAppendEvents: async (e) => e.length,
    ledgerRecordValidation: async (v) => void log.validations.push(v),
  };
  const slots: SlotActivities = {
    requestSandboxSlot: async (ask) => {
      log.slots.push(ask);
      await client.workflow.getHandle(ask.workflowId).signal(slotGrantedSignal, { grantedAt: Date.now(), waitedMs: 0, grantSeq: log.slots.length });
    },
  };
  const linear: LinearRunActivities = {
    mirrorLinearSession: async (m) => void log.mirrors.push(m),
    moveLinearIssue: async () => ({ moved: false, reason: 'disabled' }),
    checkLinearAccess: async () => ({ allowed: true }),
  };
  // Off by configuration, as in a deployment without `scope.clarify.model` (tests of the question flow give their own).
  const clarify: ClarifyActivities = {
    assessTask: async () => ({ decision: 'skipped', rationale: 'the clarifying assessment is off', disabled: true, spend: ZERO_SPEND }),
  };
  return { acts: { ...queue, ...ledger, ...slots, ...linear, ...clarify }, log };
}

/** Where the run workers connect, and the workflow code. */
export interface RunWorkersEnv {
  connection: NativeConnection;
  client: Client;
  bundle: WorkflowBundleWithSourceMap;
}

/** Id of the one worker host of a test's workers (workspace affinity: `claimHost` answers it). */
export const TEST_HOST_ID = 'test-host';

/**
 * The test workers' host (workflows/run/host.ts): `claimHost` answers with the test's own task
 * queue as the host queue (its one worker serves every activity, as a single worker's host queue
 * would); host-gone timeout 5 min. test/workflow/hostAffinity.test.ts runs separate host queues.
 */
export function testHost(taskQueue: string): HostClaim {
  return { hostId: TEST_HOST_ID, taskQueue, hostGoneTimeoutMs: 5 * 60_000 };
}

/**
 * Runs `fn(taskQueue)` while a worker polls a fresh task queue (workflows + `acts` + the shared
 * activities, host-bound ones included: see {@link testHost}) and a second its messages queue (the
 * same activities). `acts` override the shared ones. Both workers shut down when `fn` settles.
 */
export async function withRunWorkers<T>(
  env: RunWorkersEnv,
  acts: Partial<Activities> & object,
  fn: (taskQueue: string, log: RunSideLog) => Promise<T>,
): Promise<T> {
  const taskQueue = `wf-${randomUUID()}`;
  const side = runSideActivities(env.client);
  const host = testHost(taskQueue);
  const activities = { ...side.acts, ...createHostActivities(host), ...acts } as Record<string, (...args: never[]) => Promise<unknown>>;
  const worker = await Worker.create({ connection: env.connection, taskQueue, workflowBundle: env.bundle, activities });
  const messages = await Worker.create({ connection: env.connection, taskQueue: messagesTaskQueue(taskQueue), activities });
  return messages.runUntil(worker.runUntil(fn(taskQueue, side.log)));
}
