/**
 * `nightshift.config.yaml`: schema, loading and validation.
 *
 * The file holds no secrets: tokens come from the environment only (see {@link Secrets}).
 * Errors name the bad key, e.g. `repos.example.budget.usd: Too small: expected number to be >0`.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ledgerConfigSchema } from '../ledger/config.js';
import { digestSchema, spendCapsSchema, teamSchema, windowConfigSchema } from '../queue/configSchema.js';
import { prTrackingSchema, reportSchema } from '../calibration/configSchema.js';
import { resolvePrice } from './gateway/priceTable.js';
import { classificationSchema, modelsSchema, routingSchema } from './routingConfig.js';

const positiveInt = z.number().int().positive();

/** Budget limits; see `Budget` in workflows/types.ts for units. */
const budgetSchema = z.strictObject({
  /** Wall-clock minutes of agent work for the whole run. */
  minutes: z.number().positive(),
  tokens: positiveInt,
  usd: z.number().positive(),
});

const agentSchema = z.enum(['claude-code', 'codex']);

/** A host name (no scheme, port or path), lower-cased: `registry.npmjs.org`, `*.pythonhosted.org`. */
const hostPattern = z
  .string()
  .regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i, 'expected a host name such as registry.npmjs.org or *.pythonhosted.org')
  .transform((h) => h.toLowerCase());

/**
 * A repository's environment: what its tests and the agent run in. Precedence: these keys when
 * `image`, `dockerfile` or `setup` is set; else the repository's `.devcontainer/devcontainer.json`
 * (unless `devcontainer: false`); else the universal image (Node, Python, Go, C) with no setup.
 */
const environmentSchema = z
  .strictObject({
    /** Base image (local, or pullable where a registry is reachable); Nightshift layers the agent on it. */
    image: z.string().min(1).optional(),
    /** A Dockerfile in the repository (path from its root), built at the base commit. */
    dockerfile: z.string().min(1).optional(),
    /** Build context of `dockerfile`, a directory from the repository root; default: the Dockerfile's directory. */
    context: z.string().min(1).optional(),
    /**
     * Setup commands (`sh -c` each, in order, in /workspace, as the sandbox user) run once per
     * environment with package-registry egress and no secrets, e.g. `npm ci`,
     * `pip install -r requirements.txt`, `go mod download`. Their result is cached.
     */
    setup: z.array(z.string().min(1)).default([]),
    /** Non-secret environment variables for setup, the agent and the tests. */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'), z.string()).default({}),
    /** Longest the whole setup may take, minutes. */
    setupTimeoutMinutes: z.number().positive().default(20),
    /** Read `.devcontainer/devcontainer.json` when none of image/dockerfile/setup is set. */
    devcontainer: z.boolean().default(true),
    /** Package-registry hosts the agent may reach through the gateway's allow-listing proxy (default none). */
    agentEgress: z.array(hostPattern).default([]),
  })
  .refine((e) => !(e.image && e.dockerfile), { message: 'set either image or dockerfile, not both' })
  .prefault({});

/** One repository Nightshift may work on. */
const repoSchema = z.strictObject({
  /** Git URL to clone and push (https URL, or a local path / file:// URL for tests). */
  url: z.string().min(1),
  /** `owner/name` on GitHub, for the pull request. */
  github: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected "owner/name"'),
  defaultBranch: z.string().min(1).default('main'),
  agent: agentSchema.default('claude-code'),
  /**
   * Model name per agent: the model when no routing rule matches (else the default tier's model of
   * `models.tiers`); priced from `gateway.prices`, else the bundled price table.
   */
  models: z
    .strictObject({ 'claude-code': z.string().min(1), codex: z.string().min(1) })
    .partial()
    .default({}),
  /** Sandbox image per agent. */
  images: z
    .strictObject({ 'claude-code': z.string().min(1), codex: z.string().min(1) })
    .partial()
    .default({}),
  /** The command Nightshift runs (in the sandbox image, `sh -c`) to validate a change. */
  testCommand: z.string().min(1),
  /** Default budget of a run. */
  budget: budgetSchema,
  /** Policy maximum: a per-request override above it is refused. */
  maxBudget: budgetSchema.optional(),
  maxAttempts: positiveInt.max(10).default(3),
  /**
   * Paths whose change needs a human's approval before it is pushed (PR or partial work): a
   * directory prefix (`migrations/`), a path, or a glob (`*`, `**`). Built-in ones are added (CI
   * definitions, git configuration files, Dockerfiles, lock files unless the task asks for a
   * dependency change). A task that names one is high-risk.
   */
  riskyPaths: z.array(z.string().min(1)).default([]),
  /** A change of more files than this waits for an approval before it is pushed. */
  maxChangedFiles: positiveInt.default(50),
  /** A change of more lines (added + removed) than this waits for an approval before it is pushed. */
  maxChangedLines: positiveInt.default(2000),
  validation: z
    .strictObject({
      /**
       * A change to the test command's definition, to existing test cases, or to CI makes the run
       * need a human: `escalate` (default) asks at the origin; `draft` delivers a draft PR whose body
       * lists exactly what changed in the tests.
       */
      testChanges: z.enum(['draft', 'escalate']).default('escalate'),
    })
    .prefault({}),
  /** The repository's environment (toolchain, dependencies); see {@link environmentSchema}. */
  environment: environmentSchema,
  /**
   * Run window (IANA zone, local times, days; or the old UTC-hour form): a run starts only when it
   * can finish (its time budget) before the window closes. Absent: run at once. See queue/window.ts.
   */
  window: windowConfigSchema.optional(),
  /** The team (key of `teams`, `spendCaps.teams`, `digest.teams`) the repository belongs to; default: the Linear team mapped to it. */
  team: z.string().min(1).optional(),
  /** At most this many of the repository's runs hold a sandbox at once (the queue; absent: only the global cap). */
  maxConcurrent: positiveInt.optional(),
  /** This repository's routing policy (keys over the default `routing`); see worker/routingConfig.ts. */
  routing: routingSchema.optional(),
});

/** One price tier, USD per million tokens. */
const priceTierShape = {
  /** USD per million input tokens. */
  input: z.number().nonnegative(),
  /** USD per million output tokens. */
  output: z.number().nonnegative(),
  /** USD per million cache-read tokens (default: input price). */
  cacheRead: z.number().nonnegative().optional(),
  /** USD per million 5-minute cache-write tokens (default: 1.25 × input). */
  cacheWrite: z.number().nonnegative().optional(),
  /** USD per million 1-hour cache-write tokens (default: 2 × input). */
  cacheWrite1h: z.number().nonnegative().optional(),
};

const priceSchema = z.strictObject({
  ...priceTierShape,
  /**
   * Long-context tier: a request whose input (uncached + cache read + cache write) exceeds
   * `thresholdTokens` is billed wholly at these prices (e.g. Anthropic above 200k tokens).
   */
  longContext: z.strictObject({ thresholdTokens: positiveInt, ...priceTierShape }).optional(),
});

/** Stuck-detection thresholds. */
const stuckSchema = z.strictObject({
  /** Same tool call (tool + normalized input) failing this many times. */
  repeatedFailingCall: positiveInt.default(3),
  /** Same error text from different calls this many times. */
  repeatedError: positiveInt.default(3),
  /** A-B alternations (A,B counts one) with no file change. */
  alternatingCycles: positiveInt.default(3),
  /** Tool calls with no file change while the tests keep failing. */
  noProgressCalls: positiveInt.default(8),
  /** No event from the agent for this long, in seconds. */
  silenceSeconds: z.number().positive().default(300),
  /** Read-only calls (reads, searches, `cat`/`grep`/`git diff`…) with no file change while the tests keep failing. */
  readOnlyCalls: positiveInt.default(30),
  /** Longest one tool call may run, in seconds; while it runs the agent is not silent. Default 15 minutes (the validation limit). */
  toolCallSeconds: z.number().positive().default(900),
});

/** Slack roles of one repository: ids of users (`U…`/`W…`) and user groups (`S…`). */
const slackRolesSchema = z.strictObject({
  requester: z.array(z.string().min(1)).optional(),
  approver: z.array(z.string().min(1)).default([]),
  admin: z.array(z.string().min(1)).default([]),
});

export const configSchema = z.strictObject({
  /** Directory for workspaces, the dev server's database and logs. Relative to the config file. */
  stateDir: z.string().default('.nightshift'),
  /** The run ledger: embedded SQLite in `stateDir` by default, or PostgreSQL (`url`); see ledger/config.ts. */
  ledger: ledgerConfigSchema,
  /**
   * This worker host (workspace affinity, workflows/run/host.ts). `hostId`: stable across restarts
   * (a restarted worker with the same id resumes its runs' workspaces); default: the host name.
   * The worker also polls `<temporal.taskQueue>@<hostId>` for the activities bound to its disk,
   * Docker and gateway. `hostGoneTimeoutMs`: a host-bound task no worker of the host starts within
   * this long (ms) means the host is gone, and the run re-prepares on another host.
   */
  worker: z
    .strictObject({
      hostId: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'a host id is 1-63 letters, digits, ".", "_" or "-" (it names a task queue)')
        .optional(),
      hostGoneTimeoutMs: z.number().int().min(1000).default(5 * 60_000),
    })
    .prefault({}),
  temporal: z
    .strictObject({
      /** `host:port` of a Temporal frontend. Absent: `nightshift dev` starts the CLI dev server. */
      address: z.string().optional(),
      namespace: z.string().default('default'),
      taskQueue: z.string().default('nightshift'),
      /** Port of the dev server started by `nightshift dev`. */
      devServerPort: positiveInt.default(7233),
      /** Path of the `temporal` CLI binary; default: `~/go/bin/temporal`, then the SDK's download. */
      cliPath: z.string().optional(),
      /**
       * TLS to the Temporal frontend: `true` (system roots, e.g. Temporal Cloud with an API key from
       * $TEMPORAL_API_KEY), or files (PEM) relative to the config file: the server's CA, and a client
       * certificate and key for mutual TLS; `serverName` overrides the name checked in the server's
       * certificate. Absent: plain gRPC (the local dev server).
       */
      tls: z
        .union([
          z.boolean(),
          z.strictObject({
            caFile: z.string().min(1).optional(),
            certFile: z.string().min(1).optional(),
            keyFile: z.string().min(1).optional(),
            serverName: z.string().min(1).optional(),
          }).refine((t) => !t.certFile === !t.keyFile, { message: 'certFile and keyFile go together (mutual TLS)' }),
        ])
        .optional(),
      /** Base URL of the Temporal Web UI (e.g. `http://localhost:8233`); when set, Slack links each run to it. */
      webUiUrl: z.url().optional(),
      /**
       * Workflow executions the worker keeps in memory (its sticky cache). Past it the least recently
       * used is evicted and replayed from history when it next has work, so waiting runs cost no
       * worker memory (~0.2 MB each when cached). 0 disables the cache (every task replays).
       * https://typescript.temporal.io/api/interfaces/worker.WorkerOptions#maxcachedworkflows
       */
      maxCachedWorkflows: z.number().int().min(0).default(100),
    })
    .prefault({}),
  gateway: z
    .strictObject({
      /** Port on the sandbox network's gateway address (0: any free port). */
      port: z.number().int().min(0).max(65535).default(0),
      /** Bind address; default: the sandbox network's gateway address. */
      host: z.string().optional(),
      upstreams: z
        .strictObject({
          anthropic: z.url().default('https://api.anthropic.com'),
          openai: z.url().default('https://api.openai.com'),
        })
        .prefault({}),
      /**
       * Price overrides per model name, USD per million tokens: they win over the price table
       * bundled with `@pydantic/genai-prices` (worker/gateway/priceTable.ts), which prices the rest.
       */
      prices: z.record(z.string(), priceSchema).default({}),
      /** Model requests one run may have in flight at once; above it the gateway answers 429. */
      maxInFlightPerRun: positiveInt.default(4),
      /**
       * Features refused by default that an operator may enable, each only with what meters it.
       * `longContext`: forward Anthropic's `context-1m-*` beta, for models whose price has a
       * `longContext` tier only.
       */
      allow: z.strictObject({ longContext: z.boolean().default(false) }).prefault({}),
    })
    .prefault({}),
  sandbox: z
    .strictObject({
      /** Name of the internal Docker network the sandboxes join. */
      network: z.string().default('nightshift-sandbox'),
      /** Subnet of that network. */
      subnet: z.string().default('172.29.0.0/24'),
      cpus: z.number().positive().default(1),
      memoryMb: positiveInt.default(2048),
      pids: positiveInt.default(512),
      /** User the container runs as. */
      user: z.string().default('1000:1000'),
      /** Activities (sandboxes included) one worker runs at once: Temporal's activity slots. */
      maxConcurrentActivities: positiveInt.default(4),
      /**
       * Start sandboxes ahead of their use: the first attempt's agent (container and CLI, waiting
       * for its prompt) while the tests before any change run (activities/warmAgent.ts), and each
       * attempt's validation sandbox while its agent works (activities/validate/warmTests.ts);
       * false: each starts when it is needed.
       */
      warmStart: z.boolean().default(true),
    })
    .prefault({}),
  github: z
    .strictObject({
      apiUrl: z.url().default('https://api.github.com'),
      /** Link back to the origin in PR bodies uses this for CLI runs. */
      botName: z.string().default('nightshift[bot]'),
      botEmail: z.string().default('nightshift-bot@users.noreply.github.com'),
    })
    .prefault({}),
  linear: z
    .strictObject({
      apiUrl: z.url().default('https://api.linear.app/graphql'),
      /** Adding this label to an issue starts a run. */
      triggerLabel: z.string().default('nightshift'),
      /** Linear team key → repository name. */
      teams: z.record(z.string(), z.string()).default({}),
      /** Repository used when the team has none. */
      defaultRepo: z.string().optional(),
      /** The app's own Linear user id (actor=app): its comments never reach a run. Also learned from agent session events. */
      appUserId: z.string().min(1).optional(),
      /** Team keys whose members may start runs; empty: any member of the workspace (not guests, not apps). */
      allowedTeams: z.array(z.string().min(1)).default([]),
      /** Move issues along (first `started` state at the start, the review state on a PR); per team in `teamSettings`. */
      issueStates: z.boolean().default(true),
      /**
       * Per team key: `reviewState` names the state a PR moves the issue to (default: a `started`
       * state named like "review"); `issueStates: false` leaves that team's issues where they are.
       */
      teamSettings: z.record(z.string(), z.strictObject({ reviewState: z.string().min(1).optional(), issueStates: z.boolean().optional() })).default({}),
      /** Least time between two live-activity posts of one attempt to its agent session, seconds (actions coalesced in between). */
      activityIntervalSeconds: z.number().int().min(1).max(3600).default(20),
      /**
       * Linear requests an hour this process allows itself per API key (Linear's limit is about 5,000,
       * shared by every run of the workspace); final messages (responses, errors, comments) keep a reserve.
       */
      requestsPerHour: z.number().int().min(60).max(5000).default(4500),
    })
    .prefault({}),
  slack: z
    .strictObject({
      apiUrl: z.url().default('https://slack.com/api/'),
      defaultRepo: z.string().optional(),
      /** `http`: events at `/slack/events` on the HTTP server (signing secret); `socket`: Socket Mode (SLACK_APP_TOKEN). */
      mode: z.enum(['http', 'socket']).default('http'),
      /** The slash command's name as created in the Slack app. */
      command: z.string().regex(/^\/[\w-]+$/, 'expected a slash command such as /nightshift').default('/nightshift'),
      /** Per channel id (`C…`): the repository `/nightshift run` and @mentions use when none is named. */
      channels: z.record(z.string(), z.strictObject({ repo: z.string().min(1) })).default({}),
      /**
       * Roles per repository name (`*`: every repository), each a list of Slack user ids (`U…`, `W…`)
       * and user-group ids (`S…`). `requester` absent: everyone may start runs; approvers must be named.
       */
      roles: z.record(z.string(), slackRolesSchema).default({}),
      /** The bot's user id and bot id; absent: learnt with `auth.test` at the first event. */
      botUserId: z.string().optional(),
      botId: z.string().optional(),
    })
    .prefault({}),
  http: z
    .strictObject({
      /** Port of the webhook receiver (`/webhooks/linear`, `/slack/events`). */
      port: z.number().int().min(0).max(65535).default(3000),
      host: z.string().default('127.0.0.1'),
    })
    .prefault({}),
  stuck: stuckSchema.prefault({}),
  /** Prepared environments: where setup runs and how the cache of environment images is kept. */
  environments: z
    .strictObject({
      /** Docker network of setup containers: a bridge with egress (registries), no host ports. */
      network: z.string().default('nightshift-setup'),
      /** Subnet of that network. */
      subnet: z.string().default('172.30.0.0/24'),
      /**
       * CA bundle (PEM) mounted into setup containers (and agents with egress), for registries
       * reached through TLS interception. Default: $SSL_CERT_FILE, else
       * /etc/ssl/certs/ca-certificates.crt when it exists.
       */
      caBundle: z.string().optional(),
      /** Proxy for setup containers; default: the worker's HTTP(S)_PROXY / NO_PROXY. */
      proxy: z.strictObject({ http: z.string().optional(), https: z.string().optional(), noProxy: z.string().optional() }).optional(),
      /**
       * Non-public address ranges (CIDR) setup and repository Dockerfile builds may reach, e.g. an
       * internal registry mirror; every other private, link-local or metadata address is dropped.
       */
      allowNetworks: z.array(z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'expected an IPv4 CIDR such as 10.1.2.0/24')).default([]),
      /** Cached environment images are pruned, least recently used first, above this total size (GB). */
      maxTotalGb: z.number().positive().default(20),
      /** Cached environment images unused for this many days are pruned. */
      maxAgeDays: z.number().positive().default(30),
    })
    .prefault({}),
  /** Teams by key (the Linear team key): each team's run window. */
  teams: z.record(z.string(), teamSchema).default({}),
  /** Daily and monthly spend caps (USD) per team and per repository; see queue/spendCaps.ts. */
  spendCaps: spendCapsSchema,
  /** The morning digest per team (a Temporal Schedule each); see digest/. */
  digest: digestSchema,
  /** The weekly calibration report (calibration/): its Schedule, look-back and routing thresholds. */
  report: reportSchema,
  /** Following agent-authored PRs (activities/prTracking.ts): polling Schedule and bot identities. */
  prTracking: prTrackingSchema,
  /**
   * The sandbox queue (workflows/queueCoordinator.ts): at most `maxConcurrent` runs hold a sandbox
   * at once across the namespace, independently of activity slots; closed holders are reclaimed
   * every `reclaimEverySeconds`.
   */
  queue: z
    .strictObject({
      maxConcurrent: positiveInt.default(4),
      reclaimEverySeconds: z.number().positive().default(60),
    })
    .prefault({}),
  /**
   * Scoping. `clarify`: the clarifying assessment after scope (activities/clarify.ts): a cheap
   * Anthropic model (priced in gateway.prices) called through the gateway; on by default when
   * `model` is set.
   */
  scope: z
    .strictObject({
      clarify: z.strictObject({ enabled: z.boolean().optional(), model: z.string().min(1).optional() }).prefault({}),
    })
    .prefault({}),
  /** Model tiers per agent (`models.tiers.claude-code|codex.small|medium|large`); see worker/routingConfig.ts. */
  models: modelsSchema,
  /** The default routing policy (classification → tier); a repository's `routing` overrides it key by key. */
  routing: routingSchema.optional(),
  /** Task classification at scope (cheap model, labels); see worker/routingConfig.ts. */
  classification: classificationSchema,
  /** How long an escalated run waits for a human reply, in hours. */
  escalationWaitHours: z.number().positive().default(24 * 7),
  repos: z.record(z.string().regex(/^[\w.-]+$/), repoSchema).refine((r) => Object.keys(r).length > 0, {
    message: 'at least one repository is required',
  }),
});

/** The validated configuration. */
export type Config = z.infer<typeof configSchema>;
/** One repository's validated configuration. */
export type RepoConfig = z.infer<typeof repoSchema>;
export type PriceTable = Config['gateway']['prices'];
export type StuckThresholds = z.infer<typeof stuckSchema>;
/** A repository's environment configuration. */
export type EnvironmentConfig = RepoConfig['environment'];
/** Settings of environment preparation and its cache. */
export type EnvironmentsSettings = Config['environments'];
/** Slack settings. */
export type SlackConfig = Config['slack'];
/** Slack roles of one repository. */
export type SlackRolesConfig = z.infer<typeof slackRolesSchema>;

/** Thrown when the configuration is unreadable or invalid. `issues` name each bad key. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(
    message: string,
    readonly issues: string[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/**
 * Validates a parsed configuration object.
 * @throws ConfigError naming every bad key (`a.b.c: reason`).
 */
export function parseConfig(raw: unknown, baseDir = process.cwd()): Config {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${issues.join('\n  ')}`, issues);
  }
  const config = result.data;
  config.stateDir = resolve(baseDir, config.stateDir);
  const tls = config.temporal.tls;
  if (tls && typeof tls === 'object') {
    for (const k of ['caFile', 'certFile', 'keyFile'] as const) if (tls[k]) tls[k] = resolve(baseDir, tls[k]);
  }
  if (config.gateway.allow.longContext && !Object.values(config.gateway.prices).some((p) => p.longContext)) {
    const issue = 'gateway.allow.longContext: no model in gateway.prices has a longContext price, so long context could not be metered';
    throw new ConfigError(`invalid configuration: ${issue}`, [issue]);
  }
  for (const [name, repo] of Object.entries(config.repos)) {
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(repo.url) && !repo.url.includes('@')) {
      repo.url = resolve(baseDir, repo.url);
    }
    for (const agent of agentSchema.options) {
      const model = repo.models[agent];
      if (model && !resolvePrice(config.gateway.prices, model, agent === 'codex' ? 'openai' : 'anthropic')) {
        throw new ConfigError(`invalid configuration: repos.${name}.models.${agent}: no price for "${model}" in gateway.prices nor in the price table`, [
          `repos.${name}.models.${agent}: no price for "${model}" in gateway.prices nor in the price table`,
        ]);
      }
    }
  }
  return config;
}

/**
 * Reads and validates a YAML configuration file.
 * @throws ConfigError when the file cannot be read, is not YAML, or is invalid.
 */
export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read configuration file ${path}`, [`(file): cannot read ${path}`], { cause });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    throw new ConfigError(`configuration file ${path} is not valid YAML`, [`(file): not valid YAML`], { cause });
  }
  return parseConfig(raw, dirname(resolve(path)));
}

/** Secrets, read from the environment only, never from the configuration file. */
export interface Secrets {
  githubToken?: string;
  linearApiKey?: string;
  linearWebhookSecret?: string;
  /** Secret of the GitHub webhook (`POST /webhooks/github`, X-Hub-Signature-256). */
  githubWebhookSecret?: string;
  slackBotToken?: string;
  slackSigningSecret?: string;
  /** API key of the Temporal namespace (Temporal Cloud, or a self-hosted server with an authorizer); sent as `Authorization: Bearer`. */
  temporalApiKey?: string;
  /** Socket Mode app-level token (`xapp-…`, scope `connections:write`). */
  slackAppToken?: string;
  anthropicApiKey?: string;
  openaiApiKey?: string;
}

/** Reads {@link Secrets} from an environment (default `process.env`). */
export function secretsFromEnv(env: NodeJS.ProcessEnv = process.env): Secrets {
  const pick = (k: string): string | undefined => {
    const v = env[k];
    return v && v.length > 0 ? v : undefined;
  };
  return {
    githubToken: pick('GITHUB_TOKEN'),
    linearApiKey: pick('LINEAR_API_KEY'),
    linearWebhookSecret: pick('LINEAR_WEBHOOK_SECRET'),
    githubWebhookSecret: pick('GITHUB_WEBHOOK_SECRET'),
    slackBotToken: pick('SLACK_BOT_TOKEN'),
    slackSigningSecret: pick('SLACK_SIGNING_SECRET'),
    temporalApiKey: pick('TEMPORAL_API_KEY'),
    slackAppToken: pick('SLACK_APP_TOKEN'),
    anthropicApiKey: pick('ANTHROPIC_API_KEY'),
    openaiApiKey: pick('OPENAI_API_KEY'),
  };
}
