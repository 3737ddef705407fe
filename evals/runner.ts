/**
 * Runs a suite: every task × variant × repeat is a real `agentTask` run on a local stack (the
 * demo's: Temporal dev server, worker, Docker sandboxes, gateway, GitHub stand-in), with at most
 * `concurrency` runs at once. After each run the hidden tests run on its branch (hidden.ts) and
 * the judge grades it through the gateway (judge.ts).
 *
 * Each variant gets its own stack (its own worker and configuration: the variant's overlay is
 * part of it) on one shared Temporal dev server and workflow bundle; variants run one after the
 * other. A run that escalates is answered `cancel` (its WIP branch is still graded); a diff gate
 * that asks for approval is approved (the eval measures the agent, not the gate); both are noted.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DEFAULT_IMAGES } from '../activities/scope.js';
import type { Script } from '../devstack/scriptedModel.js';
import { LocalStack } from '../devstack/stack.js';
import type { Logger } from '../worker/logger.js';
import { answerApproval, replyToRun, runResult, runStatus, startRun } from '../worker/runs.js';
import { startDevServer } from '../worker/temporal.js';
import { WORKFLOWS_PATH } from '../worker/worker.js';
import type { RunOutcome, TaskRequest, ValidationResult } from '../workflows/types.js';
import { EvalError } from './errors.js';
import { runHiddenTests } from './hidden.js';
import { judgeRun } from './judge.js';
import { branchDiff, makeTaskRemote } from './taskRepo.js';
import type { EvalSuite, EvalTask } from './suite.js';
import { deepMerge, type Variant } from './variant.js';

/** One graded run. Money in USD, time in ms. */
export interface EvalRunResult {
  variant: string;
  task: string;
  /** 1-based repeat number. */
  repeat: number;
  workflowId: string;
  /** The run's outcome kind, or `error` when the eval could not run or grade it. */
  outcome: RunOutcome['kind'] | 'error';
  reason?: string;
  /** Nightshift's validation of the last attempt passed. */
  visiblePassed: boolean;
  /** Hidden tests ran (there was a branch to run them on) and passed. */
  hiddenPassed: boolean;
  hiddenRan: boolean;
  hiddenFailing: string[];
  /** The judge's verdict; absent when judging failed (see `judgeError`). */
  judge?: { score: number; reasons: string[] };
  judgeError?: string;
  /** The agent run's metered spend (USD) and tokens; the judge's spend apart. */
  agentUsd: number;
  tokens: number;
  judgeUsd: number;
  durationMs: number;
  attempts: number;
  /** Human gates the eval answered for the run (`approved the diff gate`, `cancelled the escalation`). */
  gates: string[];
  /** An infrastructure error of the eval (code and message), when `outcome` is `error`. */
  error?: { code: string; message: string };
}

/** Options of {@link runEval}. */
export interface EvalRunOptions {
  suite: EvalSuite;
  variants: Variant[];
  /** Runs of each task per variant (≥ 1). */
  repeat: number;
  /** Runs at once (≥ 1). */
  concurrency: number;
  /** The judge's model (needs a price in the stack's gateway.prices). */
  judgeModel: string;
  /** The scripted model (offline); ignored when `realAnthropicKey` is set. */
  script?: Script;
  /** Use Anthropic for the agent and the judge (the key stays in the gateway). */
  realAnthropicKey?: string;
  logger: Logger;
  /** Called when a run starts and when it is graded (terminal progress). */
  onProgress?: (event: { kind: 'started' | 'graded'; variant: string; task: string; repeat: number; done: number; total: number; result?: EvalRunResult }) => void;
  /** Share a dev server / bundle (tests); default: start and stop one. */
  temporal?: TestWorkflowEnvironment;
  workflowBundle?: WorkflowBundleWithSourceMap;
  /** Status poll period while a run works, ms (default 1,000). */
  pollMs?: number;
}

/** Runs `fn` over `items`, at most `n` at once, keeping order in the result. */
async function pool<T, R>(items: T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker));
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The repository entry of a task under a variant (the stack's own repository entry is the template). */
function repoEntry(template: Record<string, unknown>, task: EvalTask, variant: Variant, url: string): Record<string, unknown> {
  const base = (template.budget ?? {}) as { minutes: number; tokens: number; usd: number };
  const budget = {
    minutes: variant.budget?.minutes ?? (task.agentTimeoutMs ? Math.ceil(task.agentTimeoutMs / 60_000) : base.minutes),
    tokens: variant.budget?.tokens ?? base.tokens,
    usd: variant.budget?.usd ?? base.usd,
  };
  const max = (template.maxBudget ?? budget) as typeof budget;
  const entry: Record<string, unknown> = {
    ...structuredClone(template),
    url,
    github: `evals/${task.name}`,
    testCommand: task.testCommand,
    budget,
    maxBudget: { minutes: Math.max(max.minutes, budget.minutes), tokens: Math.max(max.tokens, budget.tokens), usd: Math.max(max.usd, budget.usd) },
    ...(variant.maxAttempts ? { maxAttempts: variant.maxAttempts } : {}),
    ...(variant.agent ? { agent: variant.agent } : {}),
  };
  if (variant.model) deepMerge(entry, { models: { [variant.agent ?? (entry.agent as string)]: variant.model } });
  return variant.repo ? deepMerge(entry, variant.repo) : entry;
}

/** Waits for a run's outcome, answering the human gates an eval cannot wait for. */
async function awaitOutcome(stack: LocalStack, workflowId: string, pollMs: number, gates: string[]): Promise<RunOutcome> {
  let settled = false;
  const result = runResult(stack.client, workflowId).finally(() => (settled = true));
  let answered = '';
  while (!settled) {
    await Promise.race([sleep(pollMs), result.catch(() => undefined)]);
    if (settled) break;
    const s = await runStatus(stack.client, workflowId).catch(() => undefined);
    if (!s || answered === `${s.phase}#${s.attempt}`) continue;
    if (s.phase === 'awaiting_approval') {
      await answerApproval(stack.client, workflowId, { decision: 'approve', by: 'nightshift-eval' });
      gates.push('approved the diff gate');
      answered = `${s.phase}#${s.attempt}`;
    } else if (s.phase === 'awaiting_human' || s.phase === 'awaiting_answer') {
      await replyToRun(stack.client, workflowId, { text: 'cancel', author: 'nightshift-eval' });
      gates.push(s.phase === 'awaiting_human' ? 'cancelled the escalation' : 'cancelled at the clarifying question');
      answered = `${s.phase}#${s.attempt}`;
    }
  }
  return result;
}

function testsSummary(v: ValidationResult | undefined): string {
  if (!v) return '(not run)';
  const failing = v.failingTests.length ? `failing: ${v.failingTests.slice(0, 10).join(', ')}\n` : '';
  return `command: ${v.command} (exit ${v.exitCode})\n${failing}${v.outputTail.slice(-1500)}`;
}

/** One task × variant × repeat: the run, the hidden tests, the judge. Never throws: errors become the result's `error`. */
async function evalOne(stack: LocalStack, remotes: Map<string, string>, task: EvalTask, variant: Variant, repeat: number, opts: EvalRunOptions): Promise<EvalRunResult> {
  const workflowId = `cli-eval-${randomUUID()}`;
  const gates: string[] = [];
  const res: EvalRunResult = { variant: variant.name, task: task.name, repeat, workflowId, outcome: 'error', visiblePassed: false, hiddenPassed: false, hiddenRan: false, hiddenFailing: [], agentUsd: 0, tokens: 0, judgeUsd: 0, durationMs: 0, attempts: 0, gates };
  const log = opts.logger.child({ workflowId, task: task.name, variant: variant.name, repeat });
  try {
    const req: TaskRequest = {
      source: { kind: 'cli' },
      requester: 'nightshift-eval',
      repo: task.name,
      title: task.title,
      task: variant.prompt ? `${task.instruction.trim()}\n\n${variant.prompt.trim()}` : task.instruction.trim(),
      overrides: { now: true },
    };
    await startRun(stack.client, stack.config.temporal.taskQueue, workflowId, req);
    const outcome = await awaitOutcome(stack, workflowId, opts.pollMs ?? 1000, gates);
    const visible = outcome.attempts.at(-1)?.validation;
    Object.assign(res, {
      outcome: outcome.kind,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      visiblePassed: visible?.passed === true,
      agentUsd: outcome.spend.usd,
      tokens: outcome.spend.tokens,
      durationMs: outcome.durationMs,
      attempts: outcome.attempts.length,
    });
    const bare = remotes.get(task.name)!;
    const branch = outcome.branch ?? outcome.wipBranch;
    let hidden: ValidationResult | undefined;
    if (branch && task.hidden.testsDir) {
      const repo = stack.config.repos[task.name];
      const agent = repo?.agent ?? 'claude-code';
      hidden = await runHiddenTests({ sandbox: stack.worker.sandbox, logger: log }, { workflowId, bare, branch, task, image: repo?.images?.[agent] ?? DEFAULT_IMAGES[agent] });
      Object.assign(res, { hiddenRan: true, hiddenPassed: hidden.passed, hiddenFailing: hidden.failingTests });
    }
    const diff = branch ? await branchDiff(bare, branch) : '';
    try {
      const verdict = await judgeRun(
        { gateway: stack.worker.gateway, gatewayUrl: stack.worker.gatewayUrl, model: opts.judgeModel, logger: log },
        {
          runKey: `${workflowId}#judge`,
          title: task.title,
          instruction: task.instruction,
          notes: task.judgeNotes,
          diff,
          visible: { ran: visible !== undefined, passed: visible?.passed === true, summary: testsSummary(visible) },
          hidden: { ran: hidden !== undefined, passed: hidden?.passed === true, summary: hidden ? testsSummary(hidden) : branch ? '(the task has no hidden tests)' : '(no branch: nothing to test)' },
        },
      );
      Object.assign(res, { judge: { score: verdict.score, reasons: verdict.reasons }, judgeUsd: verdict.spend.usd });
    } catch (err) {
      if (!(err instanceof EvalError)) throw err;
      res.judgeError = err.message;
      res.judgeUsd = (err.details.spend as { usd?: number } | undefined)?.usd ?? 0;
      log.warn({ err: { code: err.code, message: err.message } }, 'judge failed');
    }
  } catch (err) {
    const code = err instanceof EvalError ? err.code : ((err as { code?: string }).code ?? 'EVAL_INFRA');
    res.outcome = 'error';
    res.error = { code: String(code), message: err instanceof Error ? err.message : String(err) };
    log.error({ err: res.error }, 'eval run failed');
  }
  return res;
}

/**
 * Runs the whole eval; returns every run's result (variant by variant, in task order).
 * @throws EvalError when a variant's stack cannot start (e.g. its configuration overlay is invalid: the ConfigError is the cause).
 */
export async function runEval(opts: EvalRunOptions): Promise<EvalRunResult[]> {
  if (!opts.realAnthropicKey && !opts.script) throw new EvalError('EVAL_INFRA', 'no model: give a scripted model or an Anthropic key');
  const dir = await mkdtemp(join(tmpdir(), 'nightshift-eval-'));
  const temporal = opts.temporal ?? (await startDevServer({}));
  const total = opts.variants.length * opts.suite.tasks.length * opts.repeat;
  let done = 0;
  const results: EvalRunResult[] = [];
  try {
    const workflowBundle = opts.workflowBundle ?? (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH }));
    for (const [vi, variant] of opts.variants.entries()) {
      const remotes = new Map<string, string>();
      for (const task of opts.suite.tasks) remotes.set(task.name, await makeTaskRemote(join(dir, `v${vi}`, task.name), task, variant));
      let stack: LocalStack;
      try {
        stack = await LocalStack.start({
          script: opts.script ?? (() => ({ text: 'unused' })),
          ...(opts.realAnthropicKey ? { realAnthropicKey: opts.realAnthropicKey } : {}),
          temporal,
          workflowBundle,
          taskQueue: `nightshift-eval-${vi}-${randomUUID().slice(0, 8)}`,
          logger: opts.logger.child({ variant: variant.name }),
          maxConcurrentActivities: Math.max(4, opts.concurrency * 2),
          githubRemotes: Object.fromEntries([...remotes].map(([t, bare]) => [`evals/${t}`, bare])),
          configure: (raw) => {
            const template = raw.repos[Object.keys(raw.repos)[0]!]!;
            for (const task of opts.suite.tasks) raw.repos[task.name] = repoEntry(template, task, variant, remotes.get(task.name)!);
            deepMerge(raw, { queue: { maxConcurrent: Math.max(4, opts.concurrency) } });
            deepMerge(raw, variant.config);
          },
        });
      } catch (err) {
        throw new EvalError('VARIANT_INVALID', `variant ${variant.name}: the stack did not start: ${err instanceof Error ? err.message : String(err)}`, { variant: variant.name }, { cause: err });
      }
      try {
        const items = opts.suite.tasks.flatMap((task) => Array.from({ length: opts.repeat }, (_, r) => ({ task, repeat: r + 1 })));
        const rs = await pool(items, opts.concurrency, async ({ task, repeat }) => {
          opts.onProgress?.({ kind: 'started', variant: variant.name, task: task.name, repeat, done, total });
          const r = await evalOne(stack, remotes, task, variant, repeat, opts);
          done++;
          opts.onProgress?.({ kind: 'graded', variant: variant.name, task: task.name, repeat, done, total, result: r });
          return r;
        });
        results.push(...rs);
      } finally {
        await stack.stop();
      }
    }
  } finally {
    if (!opts.temporal) await temporal.teardown();
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}
