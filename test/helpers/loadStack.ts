/**
 * The stack of the load test (test/faults/load.test.ts): the real Temporal dev server, the real
 * webhook server (`startWebhookServer`: Linear ingress and Slack through Bolt on one receiver),
 * the Linear and Slack stand-ins (devstack/linear.ts, devstack/slack.ts: they validate every call
 * against the platforms' contracts), and a worker pair running the real `agentTask` workflow.
 *
 * What is real in the runs: the workflow, `scopeTask`, `assessTask` (off, as without
 * `scope.clarify.model`), `notify` and `updateLiveStatus` (the messages to the origin, through the
 * real `LinearClient` and `WebClient` to the stand-ins), the Linear run activities (access check,
 * session mirror), the queue timing activities and the ledger (SQLite in a temp dir), and the sandbox
 * queue (`requestSandboxSlot` + the coordinator workflow, capped at `maxConcurrent`).
 *
 * What is a double (200 sandbox runs would take an hour on 2 cores): the host activities that
 * need Docker, git and GitHub (`prepareWorkspace`, `prepareEnvironment`, `runTests`, `runAgent`,
 * `reviewChanges`, `deliver`, `pushWip`, `cleanup`). The tests before fail, attempt 1's agent works
 * `agentMs` and its tests pass, and `deliver` opens PR number n at once: every run ends `pr_opened`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { WebClient } from '@slack/web-api';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { createAdmissionActivities } from '../../activities/admission.js';
import { createOctokit } from '../../activities/github.js';
import { createActivities } from '../../activities/index.js';
import { createLinearClient } from '../../activities/linear.js';
import { createLinearRunActivities } from '../../activities/linearRun/index.js';
import { createQueueActivities } from '../../activities/queue.js';
import { createHostActivities } from '../../activities/host.js';
import { testHost } from './runWorkers.js';
import type { GatewayPort } from '../../activities/runAgent.js';
import { SandboxManager } from '../../activities/sandbox.js';
import { FakeLinear } from '../../devstack/linear.js';
import { FakeSlack } from '../../devstack/slack.js';
import { SlackSigner } from '../../devstack/slackSigner.js';
import { openLedger } from '../../ledger/open.js';
import type { Ledger } from '../../ledger/types.js';
import { parseConfig, type Config } from '../../worker/config.js';
import { startWebhookServer, type WebhookServer } from '../../worker/server.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import type { Activities } from '../../workflows/activityTypes.js';
import { messagesTaskQueue } from '../../workflows/linearTypes.js';
import { ZERO_SPEND, type AttemptRecord } from '../../workflows/types.js';

const SLACK_SECRET = 'load-slack-signing-secret';
const SLACK_TOKEN = 'xoxb-load';
/** Linear's webhook signing secret of the load stack. */
export const LINEAR_WEBHOOK_SECRET = 'lin_wh_load_secret';
const LINEAR_API_KEY = 'lin_api_load';
/** The repository every load run works on. */
export const LOAD_REPO = 'calculator';
/** The Linear team key of the label deliveries (the constructed fixture's team). */
export const LOAD_TEAM_KEY = 'LIN';
/** The bot's Slack user id (mentions address it). */
export const LOAD_BOT_USER = 'UBOTLOAD';

/** Options of {@link startLoadStack}. */
export interface LoadStackOptions {
  /** `queue.maxConcurrent`: runs holding a sandbox slot at once. */
  maxConcurrent: number;
  /** How long attempt 1's agent double works while holding the slot, ms. */
  agentMs: number;
}

/** What the doubles saw: the queue cap as the sandbox activities experience it. */
export interface SandboxLog {
  /** Runs between the start of `prepareWorkspace` and the end of `deliver` now. */
  inFlight: number;
  /** Most runs ever in that span at once. */
  maxInFlight: number;
  /** PR number per workflow id (one `deliver` per run). */
  prs: Map<string, number>;
  /** Per run: when `prepareWorkspace` started and `deliver` ended (epoch ms): the slot as the sandbox sees it. */
  held: Map<string, { from: number; to?: number }>;
}

/** A running load stack; {@link LoadStack.stop} always completes. */
export interface LoadStack {
  temporal: TestWorkflowEnvironment;
  config: Config;
  taskQueue: string;
  linear: FakeLinear;
  slack: FakeSlack;
  signer: SlackSigner;
  /** Base URL of the webhook server. */
  url: string;
  sandbox: SandboxLog;
  /** The PR link `deliver` gives a run (also in its final message). */
  prUrl(workflowId: string): string | undefined;
  stop(): Promise<void>;
}

/** The host activities as doubles (see the module comment). */
function sandboxDoubles(log: SandboxLog, agentMs: number): Pick<Activities, 'prepareWorkspace' | 'prepareEnvironment' | 'runTests' | 'runAgent' | 'reviewChanges' | 'deliver' | 'pushWip' | 'cleanup'> {
  const attempt = (n: number): AttemptRecord => ({
    attempt: n, end: 'agent_exited', agent: 'claude-code', model: 'claude-sonnet-4-5', finalMessage: 'fixed add()', exitCode: 0,
    spend: { ...ZERO_SPEND, tokens: 1000, usd: 0.01, requests: 2 }, durationMs: agentMs, diffStat: ' calc.py | 2 +-', filesChanged: ['calc.py'], commands: [], lastEvents: ['Edit calc.py'],
  });
  return {
    async prepareWorkspace({ workflowId }) {
      if (!log.held.has(workflowId)) log.held.set(workflowId, { from: Date.now() });
      log.inFlight++;
      log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
      return { path: '/tmp/load-ws', gitDir: '/tmp/load-ws.git', baseSha: 'abc' };
    },
    prepareEnvironment: async () => ({ image: 'img', key: 'k', source: 'default', cached: true, setup: [], seed: [], prepareMs: 1 }),
    async runTests(input) {
      const passed = input.attempt > 0;
      return { passed, exitCode: passed ? 0 : 1, outputTail: passed ? 'OK' : 'FAIL: test_add', failingTests: passed ? [] : ['test_add'], durationMs: 5, command: 'python3 -m unittest', treeSha: 'tree1' };
    },
    async runAgent(input) {
      await new Promise((r) => setTimeout(r, agentMs));
      return attempt(input.attempt);
    },
    reviewChanges: async () => ({ files: [{ path: 'calc.py', status: 'modified', added: 1, removed: 1 }], totals: { files: 1, lines: 2 }, findings: [], testChanges: [], treeSha: 'tree1' }),
    async deliver({ workflowId }) {
      // A retried deliver of the same run answers the same PR, as openPullRequest finds the open one.
      const created = !log.prs.has(workflowId);
      if (created) {
        log.prs.set(workflowId, log.prs.size + 1);
        log.inFlight--;
        const held = log.held.get(workflowId);
        if (held) held.to = Date.now();
      }
      const n = log.prs.get(workflowId)!;
      return { prUrl: `https://github.test/acme/${LOAD_REPO}/pull/${n}`, prNumber: n, branch: `nightshift/load-${n}`, commitSha: 'def', created };
    },
    pushWip: async () => ({ branch: 'nightshift/load-wip', commitSha: 'wip' }),
    cleanup: async () => undefined,
  };
}

/** A gateway that no activity of the load test may use (the agent is a double). */
const NO_GATEWAY: GatewayPort = {
  openRun: () => {
    throw new Error('the load test has no model gateway');
  },
  spend: () => ZERO_SPEND,
  breach: () => undefined,
  lastUpstreamError: () => undefined,
  closeRun: () => ZERO_SPEND,
};

/**
 * Starts the load stack. On failure, whatever was started is stopped before the error is rethrown.
 */
export async function startLoadStack(opts: LoadStackOptions): Promise<LoadStack> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-load-'));
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const taskQueue = `load-${Date.now()}`;
  const stops: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    // Last started, first stopped; each step runs whatever the one before did.
    for (const s of stops.splice(0).reverse()) await s().catch((err: unknown) => logger.warn({ err }, 'load stack: a teardown step failed'));
  };
  try {
    const temporal = await startDevServer({});
    stops.push(() => temporal.teardown());
    const linear = new FakeLinear({ apiKey: LINEAR_API_KEY });
    await linear.start();
    stops.push(() => linear.stop());
    const slack = await FakeSlack.start({ token: SLACK_TOKEN, botUserId: LOAD_BOT_USER, botId: 'BBOTLOAD' });
    stops.push(() => slack.close());
    const config = parseConfig({
      stateDir: join(dir, 'state'),
      temporal: { taskQueue },
      gateway: { prices: { 'claude-sonnet-4-5': { input: 3, output: 15 } } },
      http: { port: 0 },
      queue: { maxConcurrent: opts.maxConcurrent },
      // Issue states are covered by their own tests; here they would only spend Linear's request budget.
      linear: { apiUrl: linear.apiUrl, teams: { [LOAD_TEAM_KEY]: LOAD_REPO }, defaultRepo: LOAD_REPO, issueStates: false },
      repos: { [LOAD_REPO]: { url: '/tmp/none.git', github: `acme/${LOAD_REPO}`, testCommand: 'python3 -m unittest', budget: { minutes: 30, tokens: 1_000_000, usd: 5 } } },
      slack: { apiUrl: slack.apiUrl, defaultRepo: LOAD_REPO, botUserId: LOAD_BOT_USER, botId: 'BBOTLOAD' },
    }, dir);
    const ledger: Ledger = await openLedger(config);
    stops.push(() => ledger.close());
    const secrets = { linearApiKey: LINEAR_API_KEY, slackBotToken: SLACK_TOKEN, slackSigningSecret: SLACK_SECRET, linearWebhookSecret: LINEAR_WEBHOOK_SECRET };
    const linearClient = createLinearClient({ apiKey: LINEAR_API_KEY, apiUrl: linear.apiUrl, budget: {} });
    const slackClient = new WebClient(SLACK_TOKEN, { slackApiUrl: slack.apiUrl });
    // A SandboxManager that never reaches Docker: only the doubles would use it.
    const sandbox = new SandboxManager(new Docker(), { ...config.sandbox, owner: `load/${taskQueue}`, setupNetwork: config.environments.network }, logger);
    const real = createActivities({
      config, secrets, sandbox, gateway: NO_GATEWAY, gatewayUrl: 'http://127.0.0.1:9', logger, ledger,
      octokit: createOctokit({ token: '', apiUrl: 'http://127.0.0.1:9', logger }), linear: linearClient, slack: slackClient,
    });
    const sandboxLog: SandboxLog = { inFlight: 0, maxInFlight: 0, prs: new Map(), held: new Map() };
    const admission = createAdmissionActivities({ client: temporal.client, taskQueue, maxConcurrent: config.queue.maxConcurrent, repoCaps: {}, reclaimEveryMs: config.queue.reclaimEverySeconds * 1000 });
    // One worker host: claimHost answers the test's own task queue, whose worker serves the host-bound doubles.
    const activities = { ...real, ...sandboxDoubles(sandboxLog, opts.agentMs), ...admission, ...createQueueActivities({ config, ledger }), ...createHostActivities(testHost(taskQueue)) };
    const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
    const worker = await Worker.create({ connection: temporal.nativeConnection, taskQueue, workflowBundle: bundle, activities, shutdownGraceTime: '5s' });
    const messagesWorker = await Worker.create({
      connection: temporal.nativeConnection,
      taskQueue: messagesTaskQueue(taskQueue),
      activities: {
        notify: real.notify, updateLiveStatus: real.updateLiveStatus,
        ledgerUpsertRun: real.ledgerUpsertRun, ledgerRecordAttempt: real.ledgerRecordAttempt, ledgerAppendEvents: real.ledgerAppendEvents, ledgerRecordValidation: real.ledgerRecordValidation,
        ...createLinearRunActivities({ config, linear: linearClient, logger }),
        ...admission,
      },
      maxConcurrentActivityTaskExecutions: 20,
      shutdownGraceTime: '5s',
    });
    const running = Promise.all([worker.run(), messagesWorker.run()]);
    // Workers stop before the dev server they poll goes away.
    stops.push(async () => {
      worker.shutdown();
      messagesWorker.shutdown();
      await running;
    });
    const server: WebhookServer = await startWebhookServer({ config, secrets, client: temporal.client, logger, slackWebApiRetries: 0 });
    stops.push(() => server.close());
    const signer = new SlackSigner(SLACK_SECRET, `${server.url}/slack/events`, () => slack.responseUrl());
    return {
      temporal, config, taskQueue, linear, slack, signer, url: server.url, sandbox: sandboxLog,
      prUrl: (id) => (sandboxLog.prs.has(id) ? `https://github.test/acme/${LOAD_REPO}/pull/${sandboxLog.prs.get(id)}` : undefined),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
