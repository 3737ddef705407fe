/**
 * A whole local Nightshift: the real Temporal dev server, the real worker (real Docker sandboxes,
 * real gateway, real agent CLI in the image), the real webhook receiver, and local stand-ins for
 * what cannot be reached from here (GitHub, Linear, the model). Used by the integration tests and
 * by the demo.
 */
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { run } from '../activities/exec.js';
import type { Report } from '../workflows/activityTypes.js';
import type { AgentKind } from '../workflows/types.js';
import { parseConfig, type Config, type EnvironmentConfig, type Secrets } from '../worker/config.js';
import { createRootLogger, type Logger } from '../worker/logger.js';
import { startWebhookServer, type WebhookServer } from '../worker/server.js';
import { startDevServer } from '../worker/temporal.js';
import { registerSearchAttributes } from '../worker/searchAttributes.js';
import { createNightshiftWorker, WORKFLOWS_PATH, type NightshiftWorker } from '../worker/worker.js';
import { FakeGitHub } from './github.js';
import { FakeLinear } from './linear.js';
import { FakeSlack } from './slack.js';
import { SlackSigner } from './slackSigner.js';
import { ScriptedModelServer, type Script } from './scriptedModel.js';
import { CALCULATOR_TESTS } from './scripts.js';
import { nightLinearRequester } from './nightTasks.js';
import { repoRoot } from './paths.js';

/** Model prices of the local stack, USD per million tokens. */
export const STACK_PRICES = {
  'claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 },
  'gpt-5.5': { input: 1.25, output: 10, cacheRead: 0.125 },
} as const;

export const WEBHOOK_SECRET = 'lin_wh_local_stack_secret';
export const LINEAR_API_KEY = 'lin_api_local_stack';
export const GITHUB_TOKEN = 'ghp_local_stack_token';
export const GITHUB_REPO = 'acme/calculator';
export const SLACK_BOT_TOKEN = 'xoxb-local-stack-token';
export const SLACK_SIGNING_SECRET = 'slack-local-stack-signing-secret';
export const SLACK_BOT_USER = 'UNIGHTSHIFT';
export const SLACK_BOT_ID = 'BNIGHTSHIFT';

/** Slack of a local stack: FakeSlack as the Web API, the stack's repository as every channel's default. */
export interface LocalSlackOptions {
  /** `slack.roles` (default: anyone is a requester, no approver). */
  roles?: Record<string, { requester?: string[]; approver?: string[]; admin?: string[] }>;
  /** `temporal.webUiUrl`, for the live message's link. */
  webUiUrl?: string;
}

/** Options of {@link LocalStack.start}. */
export interface LocalStackOptions {
  /** The scripted model's behaviour (ignored when `realAnthropicKey` is given). */
  script: Script;
  agent?: AgentKind;
  /** Per-run budget. Default 10 minutes, 2,000,000 tokens, $2. */
  budget?: { minutes: number; tokens: number; usd: number };
  maxAttempts?: number;
  stuck?: Partial<Config['stuck']>;
  escalationWaitHours?: number;
  /** Clone / push URL of the repository (default: the local bare remote the stack makes). */
  repoUrl?: string;
  /** Name of the repository in the configuration, `repos.<name>` (default `calculator`). */
  repoName?: string;
  /**
   * `owner/name` of the repository on the GitHub stand-in (default {@link GITHUB_REPO}). When set,
   * the stand-in's repository is backed by `repoUrl` (a local git path), else by the example remote.
   */
  github?: string;
  /** The repository's test command, `sh -c` (default {@link CALCULATOR_TESTS}). */
  testCommand?: string;
  /** The repository's `environment` (setup, image, dockerfile, env, devcontainer, agentEgress); default: none declared. */
  environment?: Partial<EnvironmentConfig>;
  /** The repository's `validation.testChanges` policy (default: the config's default, `escalate`). */
  testChanges?: 'draft' | 'escalate';
  /** Use Anthropic for real (demo with ANTHROPIC_API_KEY) instead of the scripted model. */
  realAnthropicKey?: string;
  /** Share one dev server between stacks (tests); default: start an in-memory one. */
  temporal?: TestWorkflowEnvironment;
  /** Share one workflow bundle between stacks (tests). */
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** Task queue (unique per stack when sharing a server). */
  taskQueue?: string;
  logger?: Logger;
  /** Start FakeSlack and point the worker and the Bolt app at it (`stack.slack`, `stack.slackSigner`). */
  slack?: LocalSlackOptions | true;
  /** The worker's activity slots (`sandbox.maxConcurrentActivities`; default 4). */
  maxConcurrentActivities?: number;
  /** More `owner/name` repositories on the GitHub stand-in, each backed by the example remote. */
  extraGithubRepos?: string[];
  /** More `owner/name` repositories on the GitHub stand-in, each backed by its own git path (the eval suites' task remotes). */
  githubRemotes?: Record<string, string>;
  /**
   * Edits the configuration object (the file's shape, before zod parses it): more repositories,
   * windows, `queue`, `teams`, `spendCaps`, `digest`, `linear.teams`. `repos[<repoName>]` is the
   * stack's repository, to copy from. Errors of the result are parseConfig's (CONFIG_INVALID).
   */
  configure?: (raw: Record<string, unknown> & { repos: Record<string, Record<string, unknown>> }) => void;
}

/** Creates a bare repository `main` holding the example calculator, like a GitHub remote. */
export async function makeExampleRemote(dir: string): Promise<string> {
  const bare = join(dir, 'remote', 'calculator.git');
  const src = join(dir, 'seed');
  await mkdir(bare, { recursive: true });
  await run('git', ['init', '--quiet', '--bare', '--initial-branch', 'main', bare]);
  await cp(join(repoRoot(), 'examples', 'calculator'), src, { recursive: true });
  const g = (...args: string[]) =>
    run('git', ['-C', src, '-c', 'user.name=Example Dev', '-c', 'user.email=dev@example.com', '-c', 'commit.gpgsign=false', ...args]);
  await g('init', '--quiet', '--initial-branch', 'main');
  await g('add', '-A');
  await g('commit', '--quiet', '-m', 'calculator: initial version');
  await g('push', '--quiet', bare, 'main');
  return bare;
}

/** A running local stack; see the module comment. */
export class LocalStack {
  readonly reports: Report[] = [];
  /** The Slack Web API stand-in, when started with `slack`. */
  slack?: FakeSlack;
  /** Sends signed requests to the stack's `/slack/events`, when started with `slack`. */
  slackSigner?: SlackSigner;

  private constructor(
    readonly dir: string,
    readonly bareRepo: string,
    readonly config: Config,
    readonly secrets: Secrets,
    readonly model: ScriptedModelServer | undefined,
    readonly github: FakeGitHub,
    readonly linear: FakeLinear,
    readonly temporal: TestWorkflowEnvironment,
    private readonly ownsTemporal: boolean,
    readonly worker: NightshiftWorker,
    readonly webhooks: WebhookServer,
    private readonly running: Promise<void>,
  ) {}

  /** The Temporal client of the stack. */
  get client(): Client {
    return this.temporal.client;
  }

  /** URL of the Linear webhook endpoint. */
  get linearWebhookUrl(): string {
    return `${this.webhooks.url}/webhooks/linear`;
  }

  static async start(opts: LocalStackOptions): Promise<LocalStack> {
    const logger = opts.logger ?? createRootLogger(process.env.LOG_LEVEL ?? 'warn');
    const dir = await mkdtemp(join(tmpdir(), 'nightshift-stack-'));
    const bareRepo = await makeExampleRemote(dir);
    const model = opts.realAnthropicKey ? undefined : new ScriptedModelServer({ script: opts.script });
    await model?.start();
    const repoName = opts.repoName ?? 'calculator';
    const githubRepo = opts.github ?? GITHUB_REPO;
    const github = new FakeGitHub(
      { ...Object.fromEntries((opts.extraGithubRepos ?? []).map((r) => [r, bareRepo])), ...(opts.githubRemotes ?? {}), [githubRepo]: opts.github ? (opts.repoUrl ?? bareRepo) : bareRepo },
      { token: GITHUB_TOKEN },
    );
    await github.start();
    const linear = new FakeLinear({ apiKey: LINEAR_API_KEY });
    await linear.start();
    // The user who adds the label in the recorded delivery (labeledIssueDelivery) is a member of
    // the workspace, as in a real one: the access check asks Linear about them.
    linear.addUser(nightLinearRequester());
    const agent = opts.agent ?? 'claude-code';
    const slackOpts = opts.slack === true ? {} : opts.slack;
    const slack = slackOpts ? await FakeSlack.start({ token: SLACK_BOT_TOKEN, botUserId: SLACK_BOT_USER, botId: SLACK_BOT_ID }) : undefined;
    const raw = {
      stateDir: join(dir, 'state'),
      temporal: { taskQueue: opts.taskQueue ?? `nightshift-${Date.now().toString(36)}`, ...(slackOpts?.webUiUrl ? { webUiUrl: slackOpts.webUiUrl } : {}) },
      ...(slack ? { slack: { apiUrl: slack.apiUrl, defaultRepo: repoName, botUserId: SLACK_BOT_USER, botId: SLACK_BOT_ID, roles: slackOpts?.roles ?? {} } } : {}),
      gateway: {
        upstreams: {
          anthropic: model ? model.url : 'https://api.anthropic.com',
          openai: model ? model.url : 'https://api.openai.com',
        },
        prices: STACK_PRICES,
      },
      github: { apiUrl: github.url },
      linear: { apiUrl: linear.apiUrl, triggerLabel: 'nightshift', defaultRepo: repoName },
      http: { port: 0 },
      ...(opts.maxConcurrentActivities ? { sandbox: { maxConcurrentActivities: opts.maxConcurrentActivities } } : {}),
      stuck: opts.stuck ?? {},
      escalationWaitHours: opts.escalationWaitHours ?? 24,
      repos: {
        [repoName]: {
          url: opts.repoUrl ?? bareRepo,
          github: githubRepo,
          defaultBranch: 'main',
          agent,
          models: { 'claude-code': 'claude-sonnet-4-5', codex: 'gpt-5.5' },
          testCommand: opts.testCommand ?? CALCULATOR_TESTS,
          budget: opts.budget ?? { minutes: 10, tokens: 2_000_000, usd: 2 },
          maxBudget: { minutes: 60, tokens: 10_000_000, usd: 20 },
          maxAttempts: opts.maxAttempts ?? 3,
          ...(opts.testChanges ? { validation: { testChanges: opts.testChanges } } : {}),
          ...(opts.environment ? { environment: opts.environment } : {}),
        } as Record<string, unknown>,
      },
    };
    opts.configure?.(raw);
    const config = parseConfig(raw);
    const secrets: Secrets = {
      githubToken: GITHUB_TOKEN,
      linearApiKey: LINEAR_API_KEY,
      linearWebhookSecret: WEBHOOK_SECRET,
      anthropicApiKey: opts.realAnthropicKey,
      ...(slack ? { slackBotToken: SLACK_BOT_TOKEN, slackSigningSecret: SLACK_SIGNING_SECRET } : {}),
    };
    const ownsTemporal = !opts.temporal;
    const temporal = opts.temporal ?? (await startDevServer({}));
    // The run's search attributes (idempotent: a shared server keeps those registered before).
    await registerSearchAttributes(temporal.connection, temporal.namespace ?? 'default');
    const workflowBundle = opts.workflowBundle ?? (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH }));
    const stackRef: { reports?: Report[] } = {};
    const worker = await createNightshiftWorker({
      config,
      secrets,
      connection: temporal.nativeConnection,
      client: temporal.client,
      logger,
      workflowBundle,
      onReport: (r) => stackRef.reports?.push(r),
    });
    const running = worker.run();
    const webhooks = await startWebhookServer({ config, secrets, client: temporal.client, logger });
    const stack = new LocalStack(dir, bareRepo, config, secrets, model, github, linear, temporal, ownsTemporal, worker, webhooks, running);
    stackRef.reports = stack.reports;
    if (slack) {
      stack.slack = slack;
      stack.slackSigner = new SlackSigner(SLACK_SIGNING_SECRET, `${webhooks.url}/slack/events`, () => slack.responseUrl());
    }
    return stack;
  }

  /** Stops the worker (its activities are cancelled), the servers, and removes the stack's files. */
  async stop(opts: { keepFiles?: boolean } = {}): Promise<void> {
    await this.webhooks.close();
    await this.worker.shutdown();
    await this.model?.stop();
    await this.github.stop();
    await this.linear.stop();
    await this.slack?.close();
    if (this.ownsTemporal) await this.temporal.teardown();
    if (!opts.keepFiles) await rm(this.dir, { recursive: true, force: true });
  }

  /**
   * Sends a Linear webhook delivery to the receiver, first making its issue known to the Linear
   * stand-in (as it would be in a real workspace). Returns the HTTP status.
   */
  async sendLinearDelivery(d: { issueId: string; identifier: string; title: string; headers: Record<string, string>; body: string }): Promise<Response> {
    this.linear.addIssue({ id: d.issueId, identifier: d.identifier, title: d.title });
    return fetch(this.linearWebhookUrl, { method: 'POST', headers: d.headers, body: d.body });
  }

  /** Lists the branches of the example remote. */
  async remoteBranches(): Promise<string[]> {
    const { stdout } = await run('git', ['-C', this.bareRepo, 'for-each-ref', '--format=%(refname:short)', 'refs/heads']);
    return stdout.split('\n').filter(Boolean).sort();
  }

  /** A file's content on a branch of the example remote. */
  async fileOnBranch(branch: string, path: string): Promise<string> {
    return (await run('git', ['-C', this.bareRepo, 'show', `${branch}:${path}`])).stdout;
  }
}
