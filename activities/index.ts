/**
 * The activities of the `agentTask` workflow, bound to their dependencies.
 * Each activity converts Nightshift's typed errors into Temporal ApplicationFailures (type = code,
 * nonRetryable as classified), so that the retry policy and the workflow can act on the code.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CancelledFailure, Context } from '@temporalio/activity';
import type { WebClient } from '@slack/web-api';
import type { Octokit } from '@octokit/rest';
import type { LinearClient } from '@linear/sdk';
import type { Activities, Delivery, LiveStatusActivities, Report, RunPlan, Workspace } from '../workflows/activityTypes.js';
import type { AttemptProgress } from '../workflows/types.js';
import type { Config, Secrets } from '../worker/config.js';
import { runLogger, type Logger } from '../worker/logger.js';
import { redact, redactDeep } from '../worker/redact.js';
import { runners as defaultRunners, type AgentRunner } from './agents/runner.js';
import { asFailure, NightshiftError } from './errors.js';
import { run } from './exec.js';
import { commitSquashed, emptyRepo, exportTree, hostGit, prepareRepo, pushBranch, removeRepo, withIndex, type RepoPaths } from './git.js';
import { reviewChanges } from './gate/review.js';
import { WarmAgents } from './warmAgent.js';
import { WarmTests } from './validate/warmTests.js';
import { openPullRequest } from './github.js';
import { linearEntityExists, postAgentActivity, postIssueComment } from './linear.js';
import { sessionActivitySignal, sessionActivityType } from './linearRun/outcome.js';
import { runAgentAttempt, type GatewayPort } from './runAgent.js';
import type { SandboxManager } from './sandbox.js';
import { agentImageOf, scope } from './scope.js';
import { assessTask, type ClarifyActivities } from './clarify.js';
import { classifyTask, type ClassifyActivities } from './classify.js';
import { createSlackActivities, postSlackReport } from './slack/index.js';
import { runRepoTests } from './validate/run.js';
import { prepareEnvironment, seedWorkspace } from './environment/prepare.js';
import { classifyPreflight } from './environment/preflight.js';
import { isDependencyFile } from './environment/cacheKey.js';
import type { TestReport } from './validate/testReport.js';
import type { Ledger, LedgerActivities } from '../ledger/types.js';
import { createLedgerActivities } from './ledger.js';

/** Everything the activities need; built once per worker process. */
export interface ActivityDeps {
  config: Config;
  secrets: Secrets;
  sandbox: SandboxManager;
  gateway: GatewayPort;
  /** Gateway base URL as sandboxes see it. */
  gatewayUrl: string;
  octokit: Octokit;
  /** Absent when no LINEAR_API_KEY is set: Linear reports then fail loudly. */
  linear?: LinearClient;
  /** Absent when no SLACK_BOT_TOKEN is set. */
  slack?: WebClient;
  logger: Logger;
  runners?: Record<string, AgentRunner>;
  /** Called with every report after it was posted (the CLI and tests watch reports through it). */
  onReport?: (report: Report) => void;
  /** Sends a running attempt's progress to its run (the worker signals the workflow). */
  reportProgress?: (workflowId: string, progress: AttemptProgress) => Promise<void>;
  /** The run ledger (opened by the worker); absent: the ledger activities write nothing. */
  ledger?: Ledger;
  /** The worker's warm agent sandboxes (it removes them at shutdown); default: a new set, per `sandbox.warmStart`. */
  warm?: WarmAgents;
  /** The worker's warm validations (it removes them at shutdown); default: a new set, per `sandbox.warmStart`. */
  warmTests?: WarmTests;
}

/** `uid:gid` the sandbox runs as; when we are not root, our own (so that we can share files). */
export function sandboxUser(configured: string): string {
  const uid = process.getuid?.();
  if (uid === undefined || uid === 0) return configured;
  return `${uid}:${process.getgid?.() ?? uid}`;
}

/**
 * Gives `path` (recursively) to the sandbox user `user` (`uid:gid`); a no-op unless the worker runs
 * as root (then the sandbox runs as the worker's own user, see {@link sandboxUser}).
 * @throws NightshiftError SANDBOX_FAILED
 */
export async function chownForSandbox(user: string, path: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  await run('chown', ['-R', user, path], { code: 'SANDBOX_FAILED' });
}

/** Whether a plan's image is the operator's agent image for its repository (a sandbox in it may be started ahead: activities/warmAgent.ts). */
export function trustedImage(config: Pick<Config, 'repos'>): (plan: Pick<RunPlan, 'repo' | 'agent' | 'image'>) => boolean {
  return (plan) => plan.image === agentImageOf(config, plan.repo, plan.agent);
}

/** Creates the activity implementations (Slack's live message included). */
export function createActivities(deps: ActivityDeps): Activities & LiveStatusActivities & LedgerActivities & ClarifyActivities & ClassifyActivities {
  const { config, logger } = deps;
  const warm = deps.warm ?? new WarmAgents({ sandbox: deps.sandbox, gateway: deps.gateway, gatewayUrl: deps.gatewayUrl, runners: deps.runners ?? defaultRunners, environments: config.environments, logger, enabled: config.sandbox.warmStart, trusted: trustedImage(config) });
  const workspacesDir = join(config.stateDir, 'workspaces');
  const user = deps.sandbox.settings.user;
  const chownWorkspace = (path: string): Promise<void> => chownForSandbox(user, path);
  const warmTests = deps.warmTests ?? new WarmTests({ sandbox: deps.sandbox, logger, stateDir: config.stateDir, chown: chownWorkspace, enabled: config.sandbox.warmStart, trusted: trustedImage(config) });
  const ctxLog = (workflowId: string, attempt = 0): Logger => {
    const info = Context.current().info;
    return runLogger({ workflowId, runId: info.workflowExecution?.runId ?? '', attempt, activityAttempt: info.attempt }, logger);
  };
  // Every activity's result and failure leave the process redacted of every registered secret
  // (they go into workflow history, the Web UI and reports).
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return redactDeep(await fn(...args));
      } catch (err) {
        return asFailure(err);
      }
    };
  /**
   * Runs `fn` while heartbeating every 5 s: the git activities declare a heartbeat timeout, and a
   * clone, push or ownership change can take longer than it. A heartbeat also lets the activity
   * learn of a cancellation.
   */
  const beating =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const ctx = Context.current();
      ctx.heartbeat();
      const timer = setInterval(() => ctx.heartbeat(), 5000);
      try {
        return await fn(...args);
      } finally {
        clearInterval(timer);
      }
    };
  /**
   * Posts once: on a retry, not when the id already exists; and a create that fails on a retry
   * counts as done when the id exists after all (the first try's post, whose answer was lost).
   */
  const idempotent = async (retried: boolean, id: string | undefined, exists: (id: string) => Promise<boolean>, post: () => Promise<unknown>): Promise<void> => {
    // A lookup that fails (or finds nothing: Linear answers an unknown id with an error) counts
    // as "not posted": posting again with the same id is what Linear deduplicates.
    const posted = async (): Promise<boolean> => {
      if (!retried || !id) return false;
      return exists(id).catch((err: unknown) => {
        logger.info({ err: redact(String(err)), reportId: id }, 'report lookup found nothing (or failed); posting');
        return false;
      });
    };
    if (await posted()) return;
    try {
      await post();
    } catch (err) {
      if (await posted()) return;
      throw err;
    }
  };
  const repoOf = (ws: Workspace): RepoPaths => ({ gitDir: ws.gitDir, workTree: ws.path });
  /** Where a run's repository lives on this worker (the same for every try and for cleanup). */
  const pathsOf = (workflowId: string): RepoPaths => {
    const id = workflowId.replace(/[^\w.-]/g, '_');
    return { workTree: join(workspacesDir, id), gitDir: join(config.stateDir, 'gitdirs', `${id}.git`) };
  };
  /**
   * Commits the reviewed change on `branch` in the host git directory and checks that the commit
   * holds exactly the tree the diff gate reviewed.
   * @throws NightshiftError DIFF_GATE when the work tree changed after the review (not retryable)
   */
  const commitReviewed = (ws: Workspace, branch: string, workflowId: string, subject: string, reviewedTree: string, body?: string) =>
    commitSquashed(repoOf(ws), { branch, baseSha: ws.baseSha, subject, body, workflowId, bot: { name: config.github.botName, email: config.github.botEmail }, tree: reviewedTree });

  const slackActs = createSlackActivities({ config, slack: deps.slack, logger });
  const ledgerActs = deps.ledger ? createLedgerActivities(deps.ledger) : undefined;
  return {
    ledgerUpsertRun: wrap(async (patch) => ledgerActs?.ledgerUpsertRun(patch)),
    ledgerRecordAttempt: wrap(async (row) => ledgerActs?.ledgerRecordAttempt(row)),
    ledgerAppendEvents: wrap(async (events) => (ledgerActs ? ledgerActs.ledgerAppendEvents(events) : 0)),
    ledgerRecordValidation: wrap(async (row) => ledgerActs?.ledgerRecordValidation(row)),
    updateLiveStatus: wrap(slackActs.updateLiveStatus),

    // Heartbeats: the workflow declares a heartbeat timeout, so a worker killed mid-assessment has it retried in seconds, not at its start-to-close timeout.
    assessTask: wrap(beating(async (input) => assessTask({ config, gateway: deps.gateway, gatewayUrl: deps.gatewayUrl, logger }, input))),
    classifyTask: wrap(async (input) => classifyTask({ config, gateway: deps.gateway, gatewayUrl: deps.gatewayUrl, logger }, input)),
    scopeTask: wrap(async (req, workflowId) => {
      const result = scope(config, req, workflowId);
      ctxLog(workflowId).info({ ok: result.ok, repo: req.repo }, 'scoped');
      return result;
    }),

    prepareWorkspace: wrap(beating(async ({ workflowId, plan, from }) => {
      const paths = pathsOf(workflowId);
      // A retried or repeated preparation starts from a clean clone, in the same work tree
      // directory (a warm agent may have it mounted already).
      await mkdir(workspacesDir, { recursive: true });
      await emptyRepo(paths);
      await mkdir(join(config.stateDir, 'gitdirs'), { recursive: true, mode: 0o700 });
      try {
        // `from`: the run moved from a lost worker host; its pushed partial work comes back uncommitted.
        const baseSha = await prepareRepo(plan.url, plan.defaultBranch, paths, deps.secrets.githubToken, from);
        // The work tree (and the sandbox's own .git) belong to the sandbox user; the host git
        // directory stays the worker's.
        await chownWorkspace(paths.workTree);
        ctxLog(workflowId).info({ repo: plan.repo, baseSha, ...(from ? { from: from.branch, fromSha: from.sha } : {}) }, 'workspace ready');
        return { path: paths.workTree, gitDir: paths.gitDir, baseSha };
      } catch (err) {
        // A clone that failed half-way leaves nothing in the work tree (the directory stays: see above).
        await emptyRepo(paths);
        throw err;
      }
    })),

    prepareEnvironment: wrap(async ({ workflowId, plan, workspace }) => {
      const ctx = Context.current();
      let last = '';
      const beat = setInterval(() => ctx.heartbeat({ progress: last.slice(0, 200) }), 5000);
      try {
        const repoConfig = config.repos[plan.repo];
        if (!repoConfig) throw new NightshiftError('CONFIG_INVALID', `repository ${plan.repo} is no longer configured`, { retryable: false });
        const env = await prepareEnvironment(
          { docker: deps.sandbox.docker, sandbox: deps.sandbox, settings: config.environments, stateDir: config.stateDir, logger },
          {
            workflowId,
            repo: plan.repo,
            config: repoConfig.environment,
            agent: plan.agent,
            agentImage: plan.image,
            repoPaths: repoOf(workspace),
            baseSha: workspace.baseSha,
            onProgress: (line) => (last = line),
          },
        );
        // Cancelled meanwhile (the run may already be cleaning up): no container writes into the workspace now.
        if (ctx.cancellationSignal.aborted) throw new CancelledFailure('run cancelled while its environment was prepared');
        await seedWorkspace(deps.sandbox, { workflowId, image: env.image, seed: env.seed, workTree: workspace.path, repo: repoOf(workspace) });
        ctxLog(workflowId).info({ image: env.image, source: env.source, cached: env.cached, seed: env.seed, prepareMs: env.prepareMs, warnings: env.warnings }, 'environment ready');
        const { warnings: _w, spec: _s, ...prepared } = env;
        return prepared;
      } finally {
        clearInterval(beat);
      }
    }),

    runTests: wrap(async (input) => {
      const repo = repoOf(input.workspace);
      // The attempt's validation sandbox started while the agent worked (validate/warmTests.ts), on its export directory.
      const warm = input.attempt > 0 && Context.current().info.attempt === 1 ? await warmTests.take(input.workflowId, input.attempt, input.plan) : undefined;
      // Tests run on an export of exactly the tree that would be pushed (the base commit before any
      // change), never on the agent's work tree: ignored files, nested repositories and anything
      // else the agent left outside git cannot change what is tested.
      const dir = warm?.held ?? join(config.stateDir, 'validation', `${input.workflowId.replace(/[^\w.-]/g, '_')}-${input.attempt}-${Date.now()}`);
      const baselinePath = join(input.workspace.gitDir, 'nightshift-tests-before.json');
      try {
        const treeSha = await exportTree(repo, input.attempt === 0 ? input.workspace.baseSha : undefined, dir);
        await chownWorkspace(dir);
        // The base run's report lives in the host-only git directory: the sandbox cannot touch it.
        const baseline = input.attempt === 0 ? undefined : await readFile(baselinePath, 'utf8').then((t) => JSON.parse(t) as TestReport, () => undefined);
        const { result, report } = await runRepoTests({ sandbox: deps.sandbox, logger }, { ...input, workspace: { ...input.workspace, path: dir } }, baseline, warm);
        if (input.attempt !== 0) return { ...result, treeSha };
        await writeFile(baselinePath, JSON.stringify(report));
        // Preflight: can the tests run at all in this environment?
        const tracked = (await hostGit(repo, ['ls-tree', '-r', '-z', '--name-only', input.workspace.baseSha])).stdout.split('\0').filter(Boolean);
        const env = input.plan.environment;
        const verdict = classifyPreflight({
          result,
          report,
          trackedPaths: tracked,
          declared: { setup: env?.setup ?? [], source: env?.source ?? 'default' },
          dependencyFiles: tracked.filter(isDependencyFile),
          timedOut: result.timedOut,
        });
        const preflight = { verdict: verdict.verdict, rule: verdict.rule, reason: verdict.reason, hint: verdict.hint };
        ctxLog(input.workflowId).info({ preflight }, 'preflight');
        return { ...result, treeSha, preflight };
      } finally {
        // (runRepoTests removes the sandbox it ran; a warm one that never got there goes here.)
        await warm?.sandbox.remove().catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      }
    }),

    warmTests: wrap(async (input) => {
      const r = await warmTests.warm(input);
      if (!r.warmed) ctxLog(input.workflowId, input.attempt).info({ reason: r.reason }, 'validation not warmed');
      return r;
    }),

    runAgent: wrap(async (input) =>
      runAgentAttempt(
        {
          sandbox: deps.sandbox,
          gateway: deps.gateway,
          gatewayUrl: deps.gatewayUrl,
          runners: deps.runners ?? defaultRunners,
          stuck: config.stuck,
          logger,
          reportProgress: deps.reportProgress,
          environments: config.environments,
          linear: deps.linear,
          ledger: deps.ledger,
          linearStreamIntervalMs: config.linear.activityIntervalSeconds * 1000,
          warm,
        },
        input,
      ),
    ),

    warmAgent: wrap(async (input) => {
      // Before the workspace is prepared (patch agent-warm-early): its directory, made now for the
      // sandbox user, which the preparation then fills (it keeps the directory).
      const workTree = input.workspace?.path ?? pathsOf(input.workflowId).workTree;
      if (!input.workspace) {
        await mkdir(workTree, { recursive: true });
        await chownWorkspace(workTree);
      }
      const r = await warm.warm({ ...input, workspacePath: workTree }, Context.current().info.workflowExecution?.runId ?? '');
      if (!r.warmed) ctxLog(input.workflowId, input.attempt).info({ reason: r.reason }, 'agent not warmed');
      return r;
    }),

    reviewChanges: wrap(beating(async ({ workflowId, plan, workspace, taskText }) => {
      // Staged, read and its tree written as one step: a validation beside it stages the same index.
      const repo = repoOf(workspace);
      const review = await withIndex(repo.gitDir, () => reviewChanges(repo, { baseSha: workspace.baseSha, plan, taskText }));
      ctxLog(workflowId).info({ files: review.totals.files, lines: review.totals.lines, findings: review.findings.length, testChanges: review.testChanges.length }, 'reviewed the change');
      return review;
    })),

    deliver: wrap(beating(async ({ workflowId, plan, workspace, title, body, reviewedTree, draft }): Promise<Delivery> => {
      const branch = `nightshift/${plan.slug}`;
      const commitSha = await commitReviewed(workspace, branch, workflowId, title, reviewedTree);
      if (!commitSha) throw new NightshiftError('GIT_FAILED', 'nothing to deliver: the workspace has no change', { retryable: false });
      await pushBranch(repoOf(workspace), { url: plan.url, branch, defaultBranch: plan.defaultBranch, commit: commitSha, token: deps.secrets.githubToken });
      const [owner, repo] = plan.github.split('/') as [string, string];
      const pr = await openPullRequest(deps.octokit, { owner, repo, head: branch, base: plan.defaultBranch, title, body, draft });
      ctxLog(workflowId).info({ branch, pr: pr.url, created: pr.created, draft: draft === true }, 'delivered');
      return { prUrl: pr.url, prNumber: pr.number, branch, commitSha, created: pr.created };
    })),

    pushWip: wrap(beating(async ({ workflowId, plan, workspace, title, reviewedTree }) => {
      const branch = `nightshift/${plan.slug}-wip`;
      const commitSha = await commitReviewed(workspace, branch, workflowId, `WIP: ${title}`, reviewedTree, 'Partial work pushed by Nightshift when the run stopped. Not validated.\n\n[skip ci]');
      if (!commitSha) return undefined;
      await pushBranch(repoOf(workspace), { url: plan.url, branch, defaultBranch: plan.defaultBranch, commit: commitSha, token: deps.secrets.githubToken });
      ctxLog(workflowId).info({ branch }, 'pushed partial work');
      return { branch, commitSha };
    })),

    notify: wrap(async (unsafeReport) => {
      // What is posted carries no secret, whatever the report quotes (agent output, errors).
      const report = { ...unsafeReport, markdown: redact(unsafeReport.markdown), mrkdwn: redact(unsafeReport.mrkdwn) };
      const log = ctxLog(report.workflowId);
      const src = report.source;
      if (src.kind === 'linear') {
        if (!deps.linear) {
          throw new NightshiftError('NOTIFY_UNCONFIGURED', 'cannot report to Linear: LINEAR_API_KEY is not set', { retryable: false });
        }
        // A retry after a lost answer: the first try may have posted already (same id).
        const retried = Context.current().info.attempt > 1 && report.reportId !== undefined;
        if (src.agentSessionId) {
          const type = sessionActivityType(report.kind);
          const linear = deps.linear;
          const sessionId = src.agentSessionId;
          const signal = sessionActivitySignal(report);
          await idempotent(retried, report.reportId, (id) => linearEntityExists(linear, 'agentActivity', id), () =>
            postAgentActivity(linear, sessionId, { type, body: report.markdown }, { id: report.reportId, ...(signal ? { signal } : {}) }),
          );
        } else {
          const linear = deps.linear;
          const issueId = src.issueId;
          await idempotent(retried, report.reportId, (id) => linearEntityExists(linear, 'comment', id), () => postIssueComment(linear, issueId, report.markdown, report.reportId));
        }
      } else if (src.kind === 'slack') {
        if (!deps.slack) {
          throw new NightshiftError('NOTIFY_UNCONFIGURED', 'cannot report to Slack: SLACK_BOT_TOKEN is not set', { retryable: false });
        }
        await postSlackReport(deps.slack, { ...report, source: src }, {
          retried: Context.current().info.attempt > 1,
          onLookupError: (err) => log.warn({ err: redact(String(err)) }, 'could not look the report up in the Slack thread; posting'),
        });
      }
      // CLI runs read their reports through the `status` query; every report is logged.
      log.info({ kind: report.kind, origin: src.kind }, 'reported to origin');
      deps.onReport?.(report);
    }),

    cleanup: wrap(beating(async ({ workflowId, workspace, keepWorkspace }) => {
      // A warm agent sandbox nobody took (a broken environment, a cancel) goes with its gateway
      // run; a warm validation with its export directory.
      await Promise.all([warm.disposeRun(workflowId), warmTests.disposeRun(workflowId)]);
      // Containers first: none may run (and swap a directory for a link) while the workspace is removed.
      await deps.sandbox.removeRunContainers(workflowId);
      // Also a clone the run never heard of (its preparation was cancelled or timed out mid-way).
      if (!keepWorkspace) await removeRepo(workspace ? repoOf(workspace) : pathsOf(workflowId));
      ctxLog(workflowId).info({ keptWorkspace: keepWorkspace === true }, 'cleaned up');
    })),
  };
}
