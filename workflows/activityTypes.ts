/**
 * The contract between the `agentTask` workflow and its activities.
 *
 * Workflows import only these types; `activities/index.ts` implements them. No side effects here.
 */
import type {
  AgentKind,
  AttemptRecord,
  Budget,
  RunOutcomeKind,
  RunPhase,
  Spend,
  TaskRequest,
  TaskSource,
  ValidationResult,
} from './types.js';
import type { RoutingDecision } from './routing.js';

/** What scoping decided: everything later steps need, resolved from configuration. */
export interface RunPlan {
  /** Repository name (configuration key). */
  repo: string;
  /** Git URL to clone and push. */
  url: string;
  /** `owner/name` on GitHub. */
  github: string;
  defaultBranch: string;
  agent: AgentKind;
  model: string;
  /** Sandbox image for the agent and for validation: the agent image until the environment is prepared, then the environment's image. */
  image: string;
  /** The prepared environment (set by the workflow once it is ready; its seed is copied into each test export). */
  environment?: PreparedEnvironment;
  testCommand: string;
  /** The budget of one tranche (the run starts with one; each human guidance adds one). */
  budget: Budget;
  maxAttempts: number;
  risk: 'low' | 'high';
  /** Why the risk is high: the risky paths the task names. */
  riskReasons: string[];
  /** The repository's risky paths (config); the diff gate adds its built-in ones. */
  riskyPaths: string[];
  /** Size policy of one change: more files or lines changed than this needs an approval. */
  maxChangedFiles?: number;
  maxChangedLines?: number;
  /** What a change to the test definitions (or CI) leads to: a draft PR, or an escalation. */
  testChangesPolicy: 'draft' | 'escalate';
  /** Branch name part: the PR goes to `nightshift/<slug>`, partial work to `nightshift/<slug>-wip`. */
  slug: string;
  /** Run window, UTC hours; absent: run at once. */
  window?: { startHourUtc: number; endHourUtc: number };
  /** How long an escalated run waits for a human, in ms. */
  escalationWaitMs: number;
  /** Registry hosts the agent may reach through the gateway's egress proxy (empty: none). */
  agentEgress: string[];
  /** Scope asks the run to classify the task and route its model (patch `model-routing`); absent in older plans. */
  classify?: boolean;
  /**
   * The clarifying assessment is on (`scope.clarify`): false, the run does not call `assessTask`;
   * absent in older plans (the run asks it, as they did).
   */
  assess?: boolean;
  /** Classification and model routing (patch `model-routing`): `model` is then the routed model of attempt 1. */
  routing?: RoutingDecision;
}

/** Where a repository's environment was declared. */
export type EnvironmentSource = 'config' | 'devcontainer' | 'default';

/**
 * A repository's environment, prepared (or found in the cache) for one run: the image the agent
 * and the tests run in, built from a base + the agent layer + the setup's result.
 */
export interface PreparedEnvironment {
  /** Image (id or tag) the agent and the test runs start from. */
  image: string;
  /** Cache key: sha256 (hex) of the base image id, agent image id, setup commands, env and lock files. */
  key: string;
  source: EnvironmentSource;
  /** True when the image came from the cache (no setup ran for this run). */
  cached: boolean;
  /** Setup commands, as run. */
  setup: string[];
  /**
   * Paths (relative to /workspace, e.g. `node_modules`) that setup created in the work tree; the
   * image keeps them under /opt/nightshift/seed and they are copied into every workspace and test
   * export. Never committed (excluded from staging).
   */
  seed: string[];
  /** Time to prepare (build or find) the environment, ms. */
  prepareMs: number;
}

/**
 * Result of the `scopeTask` activity. A refusal may carry `repoUnknown` (the task names no
 * configured repository, the clarifying assessment is on and several repositories are configured):
 * the run then asks which one instead of rejecting (workflows/run/clarify.ts `askRepository`).
 */
export type ScopeResult = { ok: true; plan: RunPlan } | { ok: false; reason: string; repoUnknown?: RepoUnknown };

/** Why scope could not choose a repository, and what to ask instead. */
export interface RepoUnknown {
  /** The configured repository names (the question's options), in configuration order. */
  repos: string[];
  /** How long the question waits for an answer (`escalationWaitHours`), ms. */
  answerWaitMs: number;
}

/** A prepared host workspace. */
export interface Workspace {
  /** Host path of the work tree, mounted at /workspace in sandboxes. */
  path: string;
  /** Host-only git directory of the run (never mounted; the sandbox cannot write it). */
  gitDir: string;
  /** Commit the run started from. */
  baseSha: string;
}

/** One changed path of a change under review. */
export interface ChangedFileSummary {
  path: string;
  status: 'added' | 'modified' | 'deleted' | 'renamed' | 'type_changed';
  /** Lines added and removed; -1 for a binary file. */
  added: number;
  removed: number;
}

/** One reason the diff gate stops a change until a human approves it. */
export type GateFinding =
  | { kind: 'risky_path'; path: string; rule: string }
  | { kind: 'size'; rule: string };

/** A change to what "passing" means: the test command's definition, existing test cases, or CI. */
export interface TestDefinitionChange {
  path: string;
  kind: string;
  /** One line a human reads, e.g. `package.json: scripts.test changed from "node --test" to "node -e 0"`. */
  description: string;
}

/** What the `reviewChanges` activity found in a change before it is pushed. */
export interface ChangeReview {
  files: ChangedFileSummary[];
  /** Files and lines (added + removed) changed. */
  totals: { files: number; lines: number };
  /** Risky paths and size findings: any of them means the change waits for an approval. */
  findings: GateFinding[];
  /** Changes to the test definitions or CI: the run needs a human (draft PR or escalation, per policy). */
  testChanges: TestDefinitionChange[];
  /** Tree object of the reviewed change: delivery refuses a commit whose tree differs. */
  treeSha: string;
}

/** Input of the `runAgent` activity. */
export interface RunAgentInput {
  workflowId: string;
  attempt: number;
  plan: RunPlan;
  workspace: Workspace;
  prompt: string;
  /** What is left of the run's budget for this attempt. */
  limits: Budget;
  /** The run came from a Linear agent session: the attempt's tool calls are streamed to it as activities. */
  linearSession?: { agentSessionId: string };
  /**
   * `warmAgent` was asked to boot this attempt's agent in advance (patch `agent-warm-start`): the
   * activity takes the warm sandbox when its worker holds a matching one, else starts cold.
   */
  warm?: boolean;
}

/**
 * Input of the `warmAgent` activity: the attempt's agent, booted before its prompt is known (the
 * container started, the CLI waiting on stdin), while the tests before any change run.
 */
export interface WarmAgentInput {
  workflowId: string;
  attempt: number;
  /** The attempt's plan (agent, model, image), as `runAgent` will get it. */
  plan: RunPlan;
  /** The prepared workspace; absent before it is prepared (patch `agent-warm-early`): the run's work tree directory, made now. */
  workspace?: Workspace;
  /** The attempt's budget (tokens and USD are opened at the gateway now). */
  limits: Budget;
}

/** Input of the `warmTests` activity: the sandbox that will validate `attempt`, started while its agent works. */
export interface WarmTestsInput {
  workflowId: string;
  /** The attempt whose validation this sandbox will run. */
  attempt: number;
  /** The run's plan (image, test command, environment seed), as `runTests` will get it. */
  plan: RunPlan;
  workspace: Workspace;
}

/** Input of the `runTests` activity. */
export interface RunTestsInput {
  workflowId: string;
  plan: RunPlan;
  workspace: Workspace;
  /** `before` (at the base commit) or `attempt N`. */
  label: string;
  /** The attempt validated; 0 for the run before any change. */
  attempt: number;
}

/** Input of the `deliver` activity. */
export interface DeliverInput {
  workflowId: string;
  plan: RunPlan;
  workspace: Workspace;
  /** PR title and commit subject. */
  title: string;
  /** PR body, Markdown. */
  body: string;
  /** Tree the diff gate reviewed; the commit pushed must have exactly this tree. */
  reviewedTree: string;
  /** Open the PR as a draft (the change needs a human before it can merge). */
  draft?: boolean;
}

/** Result of `deliver`. */
export interface Delivery {
  prUrl: string;
  prNumber: number;
  branch: string;
  commitSha: string;
  /** False when the PR already existed (a retried delivery). */
  created: boolean;
}

/** A message to the origin of a run. */
export interface Report {
  workflowId: string;
  source: TaskSource;
  /** Kind of message, for logs and front ends. */
  kind:
    | 'accepted'
    | 'pr_opened'
    | 'escalation'
    | 'approval_needed'
    | 'environment_failed'
    | 'rejected'
    | 'cancelled'
    | 'handed_over'
    | 'timed_out'
    | 'failed'
    /** A reply sent while the run works was queued for the next attempt (patch `reply-during-work`). */
    | 'reply_noted'
    /** A clarifying question at scope (patch `clarify-at-scope`); `options` are the choices offered. */
    | 'question'
    /** The run was asked for again while open (Linear label re-added): where it is. */
    | 'duplicate_request'
    /** A spend cap is reached: the run waits for the cap's next period (the message says which cap and when). */
    | 'deferred'
    /** The run's worker host was gone: it goes on on another host (patch `host-affinity`). */
    | 'host_moved';
  /** For `question`: the choices offered (Linear: an elicitation with `signal: select`). */
  options?: string[];
  /** Linear / GitHub Markdown. */
  markdown: string;
  /** Slack mrkdwn. */
  mrkdwn: string;
  /**
   * The report's identity (UUID v4, made by the workflow, the same on every retry of `notify`):
   * Linear gets it as the comment / activity id, Slack as message metadata, so a retried
   * delivery never posts twice.
   */
  reportId?: string;
}

/**
 * The last pushed state a workspace is re-prepared from on another worker host: the run's WIP
 * branch at the commit it pushed (a squash commit whose parent is the run's base commit).
 */
export interface WorkspaceSource {
  /** `nightshift/<slug>-wip`. */
  branch: string;
  /** The commit the run pushed there (40 hex); the branch must still point at it. */
  sha: string;
}

/** The worker host that holds a run's workspace (workspace affinity, workflows/run/host.ts). */
export interface HostClaim {
  /** Stable id of the worker host (config `worker.hostId`, default the host name). */
  hostId: string;
  /** The host's own task queue, `<taskQueue>@<hostId>`: its host-bound activities. */
  taskQueue: string;
  /** A host-bound task that waits longer than this (ms) in the host's queue means the host is gone. */
  hostGoneTimeoutMs: number;
}

/** The shared-queue activity that hands a run to a worker host. */
export interface HostActivities {
  /**
   * Answers with the host of the worker that picked the task up: any live worker polling the
   * shared queue (a host that came back, e.g. restarted with the same id, may answer again).
   */
  claimHost(input: { workflowId: string }): Promise<HostClaim>;
}

/** Every activity the workflow calls. */
export interface Activities {
  /** Resolves the repository and policy; rejects tasks that are not bounded and verifiable. */
  scopeTask(req: TaskRequest, workflowId: string): Promise<ScopeResult>;
  /**
   * Clones the repository at its default branch into a fresh host workspace; with `from`, the
   * base is the parent of `from.sha` and the work tree holds the pushed partial work, uncommitted
   * (a run re-prepared on another worker host). Throws WIP_MOVED (not retryable) when the branch
   * no longer points at `from.sha`.
   */
  prepareWorkspace(input: { workflowId: string; plan: RunPlan; from?: WorkspaceSource }): Promise<Workspace>;
  /**
   * Prepares (or finds in the cache) the repository's environment at the base commit and seeds the
   * workspace with what its setup made. Throws ENV_INVALID / ENV_BUILD_FAILED / ENV_SETUP_FAILED
   * (not retryable) when the declared environment cannot be made.
   */
  prepareEnvironment(input: { workflowId: string; plan: RunPlan; workspace: Workspace }): Promise<PreparedEnvironment>;
  /** Runs the repository's test command in a fresh sandbox on the workspace. */
  runTests(input: RunTestsInput): Promise<ValidationResult>;
  /** Runs one attempt of the agent in a sandbox, metered by the gateway, watched for stuck loops. */
  runAgent(input: RunAgentInput): Promise<AttemptRecord>;
  /**
   * Boots the attempt's agent in a sandbox that waits for its prompt on stdin (activities/warmAgent.ts);
   * `runAgent` on the same worker then only sends the prompt. `warmed: false` (with why) when it
   * did not (disabled by `sandbox.warmStart`, an agent without stdin prompts): nothing to undo.
   */
  warmAgent(input: WarmAgentInput): Promise<{ warmed: boolean; reason?: string }>;
  /**
   * Starts the sandbox that will validate the attempt, on its (empty) export directory, waiting on
   * stdin (activities/validate/warmTests.ts); `runTests` for the attempt on the same worker exports
   * the tree there and starts the tests. `warmed: false` (with why) when it did not.
   */
  warmTests(input: WarmTestsInput): Promise<{ warmed: boolean; reason?: string }>;
  /** Stages the work tree in the host git directory and reviews the change: diff gate findings and test-definition changes. */
  reviewChanges(input: { workflowId: string; plan: RunPlan; workspace: Workspace; taskText: string }): Promise<ChangeReview>;
  /** Commits, pushes `nightshift/<slug>` and opens (or finds) the PR. */
  deliver(input: DeliverInput): Promise<Delivery>;
  /** Commits whatever the workspace holds and pushes it to `nightshift/<slug>-wip`; undefined when nothing changed. */
  pushWip(input: { workflowId: string; plan: RunPlan; workspace: Workspace; title: string; reviewedTree: string }): Promise<{ branch: string; commitSha: string } | undefined>;
  /** Posts a message to the run's origin (Linear issue, Slack thread, CLI log). */
  notify(report: Report): Promise<void>;
  /**
   * Removes any container left with the run's label and the run's workspace: the one given, else
   * the one its preparation would have made on this worker; none when `keepWorkspace` (partial work
   * that could not be pushed stays on disk).
   */
  cleanup(input: { workflowId: string; workspace?: Workspace; keepWorkspace?: boolean }): Promise<void>;
}

/**
 * Input of `updateLiveStatus`: a snapshot of a Slack run for its live message (`chat.update` of
 * `ts` in `channel`, https://docs.slack.dev/reference/methods/chat.update). Small on purpose: it
 * goes into workflow history at each update.
 */
export interface LiveStatusInput {
  workflowId: string;
  channel: string;
  /** Timestamp of the message to keep current. */
  ts: string;
  requester: string;
  repo: string;
  title: string;
  phase: RunPhase;
  attempt: number;
  maxAttempts: number;
  spend: Spend;
  budget?: Budget;
  /** Time since the run started (workflow clock), ms. */
  elapsedMs: number;
  /** The last few agent events (at most 5, each at most 200 characters), most recent last. */
  lastEvents: string[];
  /** Set once the run has ended. */
  outcome?: { kind: RunOutcomeKind; prUrl?: string; branch?: string; wipBranch?: string; reason?: string; draft?: boolean };
  /** Increases with each snapshot of the run: the worker drops a snapshot older than one it already showed. */
  seq: number;
}

/**
 * Activities of the Slack live message, apart from {@link Activities} so that workers and test
 * doubles without Slack need not implement them (only Slack runs call them).
 */
export interface LiveStatusActivities {
  /** Renders the snapshot and updates the live message (at most one update a second per message). */
  updateLiveStatus(input: LiveStatusInput): Promise<void>;
}

/** Spend a test or a report adds up. */
export type { Spend };
