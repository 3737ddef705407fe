/**
 * The worker process: the model gateway, the sandbox network, and three Temporal workers: one runs
 * the `agentTask` workflow and its activities on the configured task queue; one serves the
 * message activities (`notify`, Slack's live message, the Linear session / issue state / access
 * activities) on `<taskQueue>-messages` with its own activity slots, so that a message never
 * waits behind agent runs (a Linear session's first thought is due within 10 s); one serves this
 * host's queue `<taskQueue>@<hostId>`: the activities bound to its disk, Docker and gateway
 * (workspace affinity, workflows/run/host.ts).
 */
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { WebClient } from '@slack/web-api';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { chownForSandbox, createActivities, sandboxUser, trustedImage } from '../activities/index.js';
import { WarmTests } from '../activities/validate/warmTests.js';
import { createOctokit } from '../activities/github.js';
import { budgetSettingsFor, createLinearClient } from '../activities/linear.js';
import { createLinearRunActivities } from '../activities/linearRun/index.js';
import { redactDeep, registerSecrets } from './redact.js';
import { SandboxManager } from '../activities/sandbox.js';
import { WarmAgents } from '../activities/warmAgent.js';
import { runners as agentRunners } from '../activities/agents/runner.js';
import type { Activities, HostClaim, Report } from '../workflows/activityTypes.js';
import { attemptProgressSignal } from '../workflows/index.js';
import { messagesTaskQueue } from '../workflows/linearTypes.js';
import type { Config, Secrets } from './config.js';
import { ModelGateway } from './gateway/index.js';
import type { Logger } from './logger.js';
import { openLedger } from '../ledger/open.js';
import { createQueueActivities } from '../activities/queue.js';
import { createDigestActivities } from '../activities/digest.js';
import { createAdmissionActivities } from '../activities/admission.js';
import { createHostActivities, hostClaimOf } from '../activities/host.js';
import { ensureDigestSchedules } from './schedules.js';
import { ensureReportSchedules } from './reportSchedules.js';
import { createCalibrationActivities } from '../activities/calibration.js';
import { createPrTrackingActivities } from '../activities/prTracking.js';
import { ensureWorkflowBundle } from './workflowBundle.js';
import type { Ledger } from '../ledger/types.js';

/** Path of the compiled workflow entry point, for bundling. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.js', import.meta.url));

/** A running worker and what it owns. */
export interface NightshiftWorker {
  worker: Worker;
  /** The worker of the message activities, on `<taskQueue>-messages`. */
  messagesWorker: Worker;
  /** The worker of this host's queue `<taskQueue>@<hostId>` (host-bound activities). */
  hostWorker: Worker;
  /** This worker's host id and host queue. */
  host: HostClaim;
  gateway: ModelGateway;
  sandbox: SandboxManager;
  /** Base URL of the gateway as sandboxes see it. */
  gatewayUrl: string;
  /** Agent sandboxes booted ahead of their attempt, waiting for their prompt (removed by `shutdown()`). */
  warm: WarmAgents;
  /** Validation sandboxes started while their attempt's agent works, waiting for their tree (removed by `shutdown()`). */
  warmTests: WarmTests;
  /** The run ledger the activities write (closed by `shutdown()` when the worker opened it). */
  ledger: Ledger;
  /** Runs the worker until `shutdown()`; resolves when it has stopped. */
  run(): Promise<void>;
  /** Stops polling, waits for running activities to be cancelled, stops the gateway. */
  shutdown(): Promise<void>;
}

/** Options of {@link createNightshiftWorker}. */
export interface WorkerOptions {
  config: Config;
  secrets: Secrets;
  connection: NativeConnection;
  /** Used to sweep containers of runs that are no longer open. */
  client?: Client;
  logger: Logger;
  /** A prebuilt workflow bundle (tests build it once); default: bundle WORKFLOWS_PATH. */
  workflowBundle?: WorkflowBundleWithSourceMap;
  onReport?: (report: Report) => void;
  docker?: Docker;
  /** An open ledger (the caller closes it); default: `openLedger(config)`, closed at shutdown. */
  ledger?: Ledger;
}

/** Activity slots of the messages worker (each holds one short Linear / Slack call). */
export const MESSAGE_ACTIVITY_SLOTS = 20;

/**
 * Builds the worker: ensures the sandbox network, starts the gateway on its gateway address,
 * removes containers left by runs that are no longer open, and creates the Temporal worker.
 */
export async function createNightshiftWorker(opts: WorkerOptions): Promise<NightshiftWorker> {
  const { config, secrets, logger } = opts;
  // Every secret of this process is redacted by value from errors, logs and reports.
  registerSecrets({ ...secrets });
  const docker = opts.docker ?? new Docker();
  const sandbox = new SandboxManager(
    docker,
    {
      ...config.sandbox,
      user: sandboxUser(config.sandbox.user),
      owner: `${config.temporal.namespace}/${config.temporal.taskQueue}`,
      setupNetwork: config.environments.network,
    },
    logger,
  );
  const net = await sandbox.ensureNetwork();
  const gateway = new ModelGateway({
    host: config.gateway.host ?? net.gatewayIp,
    port: config.gateway.port,
    upstreams: config.gateway.upstreams,
    upstreamKeys: { anthropic: secrets.anthropicApiKey, openai: secrets.openaiApiKey },
    prices: config.gateway.prices,
    maxInFlightPerRun: config.gateway.maxInFlightPerRun,
    allow: config.gateway.allow,
    logger: logger.child({ component: 'gateway' }),
  });
  await gateway.start();
  const gatewayUrl = gateway.url;
  // Fails closed: when the rules cannot be installed, the worker still runs (so that every run can
  // tell its origin), but `runAgent` refuses to start an agent (SANDBOX_ISOLATION).
  const unisolate = await sandbox.isolateHost(net.gatewayIp, Number(new URL(gatewayUrl).port));

  if (opts.client) await sweepOrphans(sandbox, opts.client, logger);

  const ledger = opts.ledger ?? (await openLedger(config));
  const host = hostClaimOf(config);
  const closeLedger = opts.ledger ? async () => undefined : () => ledger.close();

  const linear = secrets.linearApiKey ? createLinearClient({ apiKey: secrets.linearApiKey, apiUrl: config.linear.apiUrl, budget: budgetSettingsFor(config.linear.requestsPerHour) }) : undefined;
  const slack = secrets.slackBotToken ? new WebClient(secrets.slackBotToken, { slackApiUrl: config.slack.apiUrl }) : undefined;
  const octokit = createOctokit({ token: secrets.githubToken ?? '', apiUrl: config.github.apiUrl, logger });
  // Sandboxes started ahead of their use (removed at shutdown): agents waiting for their prompt, validations for their tree.
  const warm = new WarmAgents({ sandbox, gateway, gatewayUrl, runners: agentRunners, environments: config.environments, logger, enabled: config.sandbox.warmStart, trusted: trustedImage(config) });
  const warmTests = new WarmTests({ sandbox, logger, stateDir: config.stateDir, chown: (dir) => chownForSandbox(sandbox.settings.user, dir), enabled: config.sandbox.warmStart, trusted: trustedImage(config) });
  const activities = createActivities({
    config,
    secrets,
    sandbox,
    gateway,
    gatewayUrl,
    warm,
    warmTests,
    octokit,
    linear,
    slack,
    logger,
    onReport: opts.onReport,
    ledger,
    reportProgress: opts.client
      ? (workflowId, progress) => opts.client!.workflow.getHandle(workflowId).signal(attemptProgressSignal, redactDeep(progress))
      : undefined,
  });
  // The sandbox queue (workflows/queueCoordinator.ts): runs ask for a slot and the coordinator's reclaim check. Needs a client.
  const admission = opts.client
    ? createAdmissionActivities({
        client: opts.client,
        taskQueue: config.temporal.taskQueue,
        maxConcurrent: config.queue.maxConcurrent,
        repoCaps: Object.fromEntries(Object.entries(config.repos).flatMap(([name, r]) => (r.maxConcurrent !== undefined ? [[name, r.maxConcurrent]] : []))),
        reclaimEveryMs: config.queue.reclaimEverySeconds * 1000,
      })
    : {};
  // The workflow code: the caller's bundle, else the bundle cached on disk (built by a child process
  // when stale, so webpack's memory never stays in this process), else bundling here.
  const workflowCode = opts.workflowBundle
    ? { workflowBundle: opts.workflowBundle }
    : await ensureWorkflowBundle({ entry: WORKFLOWS_PATH }).then(
        ({ codePath }) => ({ workflowBundle: { codePath } }),
        (err: unknown) => {
          logger.warn({ err }, 'cannot use the cached workflow bundle; bundling in the worker');
          return { workflowsPath: WORKFLOWS_PATH };
        },
      );
  const worker = await Worker.create({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...workflowCode,
    // Waiting runs are evicted past this many and replayed when they next have work (temporal.maxCachedWorkflows).
    maxCachedWorkflows: config.temporal.maxCachedWorkflows,
    // The queue's timing (windows, spend caps) and the morning digest (digestWorkflow's activity).
    activities: {
      ...activities,
      ...admission,
      ...createQueueActivities({ config, ledger }),
      ...createDigestActivities({ config, ledger, slack }),
      // The weekly calibration report and PR tracking (their Schedules: reportSchedules.ts).
      ...createCalibrationActivities({ config, ledger, slack }),
      ...createPrTrackingActivities({ config, ledger, octokit, logger }),
      // Workspace affinity: which host a run's workspace goes to (run/host.ts).
      ...createHostActivities(host),
    },
    // Sandboxes are capped by the worker's activity slots.
    maxConcurrentActivityTaskExecutions: config.sandbox.maxConcurrentActivities,
    // A cancel reaches a running activity with the answer to its next heartbeat, which the SDK
    // throttles to 0.8 × heartbeatTimeout (24 s for runAgent): at most 2 s, so that a stop lands in seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
    shutdownGraceTime: '10s',
  });
  // Runs started before the messages queue (patch `messages-queue`) still send `notify` to the
  // main queue, whose worker keeps serving it.
  const messagesWorker = await Worker.create({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: messagesTaskQueue(config.temporal.taskQueue),
    activities: {
      notify: activities.notify,
      updateLiveStatus: activities.updateLiveStatus,
      // Ledger writes are short: the workflow may send them here so they never wait behind sandboxes.
      ledgerUpsertRun: activities.ledgerUpsertRun,
      ledgerRecordAttempt: activities.ledgerRecordAttempt,
      ledgerAppendEvents: activities.ledgerAppendEvents,
      ledgerRecordValidation: activities.ledgerRecordValidation,
      ...createLinearRunActivities({ config, linear, logger }),
      // Asking for a sandbox slot never waits behind the sandboxes it is waiting for.
      ...admission,
    },
    maxConcurrentActivityTaskExecutions: MESSAGE_ACTIVITY_SLOTS,
    shutdownGraceTime: '10s',
  });
  // This host's queue: what touches its workspaces, git directories, Docker and gateway. Runs since
  // patch `host-affinity` send them here once `claimHost` (above, on the shared queue) gave them this host.
  const hostWorker = await Worker.create({
    connection: opts.connection,
    namespace: config.temporal.namespace,
    taskQueue: host.taskQueue,
    activities: hostBound(activities),
    maxConcurrentActivityTaskExecutions: config.sandbox.maxConcurrentActivities,
    maxHeartbeatThrottleInterval: '2 seconds',
    shutdownGraceTime: '10s',
  });
  logger.info({ hostId: host.hostId, hostQueue: host.taskQueue }, 'worker host');
  // One morning-digest Schedule per configured team, created or brought up to date.
  if (opts.client && Object.keys(config.digest.teams).length > 0) {
    await ensureDigestSchedules(opts.client, config, config.temporal.taskQueue).then(
      (ids) => logger.info({ schedules: ids }, 'digest schedules ready'),
      (err: unknown) => logger.warn({ err }, 'cannot create or update the digest schedules (no morning digest until the next start)'),
    );
  }
  // The weekly calibration report and the PR-tracking poll, when configured.
  if (opts.client && (config.report.schedule || config.prTracking.poll)) {
    await ensureReportSchedules(opts.client, config, config.temporal.taskQueue).then(
      (ids) => logger.info({ schedules: ids }, 'report and PR-tracking schedules ready'),
      (err: unknown) => logger.warn({ err }, 'cannot create or update the report and PR-tracking schedules (until the next start)'),
    );
  }
  let running: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  return {
    worker,
    messagesWorker,
    hostWorker,
    host,
    gateway,
    sandbox,
    gatewayUrl,
    warm,
    warmTests,
    ledger,
    run() {
      // When one worker fails, the others are stopped too; the first failure is rethrown.
      const all = [worker, messagesWorker, hostWorker];
      const stopOthers = (self: Worker) => (err: unknown) => {
        for (const other of all) if (other !== self && other.getState() === 'RUNNING') other.shutdown();
        throw err;
      };
      running ??= Promise.allSettled(all.map((w) => w.run().catch(stopOthers(w)))).then((rs) => {
        const failed = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      });
      return running;
    },
    shutdown() {
      // Idempotent: a signal handler and the command's own epilogue may both call it.
      stopping ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        if (messagesWorker.getState() === 'RUNNING') messagesWorker.shutdown();
        if (hostWorker.getState() === 'RUNNING') hostWorker.shutdown();
        await running;
        // Warm sandboxes no run took: removed before their gateway goes.
        await Promise.all([warm.disposeAll(), warmTests.disposeAll()]);
        await gateway.stop();
        await unisolate();
        await closeLedger();
      })();
      return stopping;
    },
  };
}

/** The activities bound to a host's disk, Docker and gateway: what its host queue serves. */
export function hostBound(a: Activities): Pick<Activities, HostBoundActivity> {
  return Object.fromEntries(HOST_BOUND.map((name) => [name, a[name]])) as Pick<Activities, HostBoundActivity>;
}

/** Names of the host-bound activities (workflows/run/host.ts sends them to the run's host queue). */
export const HOST_BOUND = ['prepareWorkspace', 'prepareEnvironment', 'runTests', 'runAgent', 'warmAgent', 'warmTests', 'reviewChanges', 'deliver', 'pushWip', 'cleanup'] as const;
type HostBoundActivity = (typeof HOST_BOUND)[number];

/**
 * Removes this worker's sandbox containers (same namespace and task queue) whose run is no longer
 * open, or unknown to the server: what a crash left behind. Containers of other Nightshifts
 * sharing the Docker engine are left alone.
 */
export async function sweepOrphans(sandbox: SandboxManager, client: Client, logger: Logger): Promise<number> {
  let removed = 0;
  const closed = new Map<string, boolean>();
  for (const c of await sandbox.listOwned()) {
    if (!closed.has(c.workflowId)) {
      let isClosed = false;
      try {
        const d = await client.workflow.getHandle(c.workflowId).describe();
        isClosed = d.status.name !== 'RUNNING';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) isClosed = true;
        else logger.warn({ workflowId: c.workflowId, err }, 'cannot describe the run of a sandbox container; leaving it');
      }
      closed.set(c.workflowId, isClosed);
    }
    if (closed.get(c.workflowId)) removed += await sandbox.removeRunContainers(c.workflowId);
  }
  return removed;
}
