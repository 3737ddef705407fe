/**
 * Shared machinery of the attack suite (test/security/attacks.*.test.ts): one Temporal dev server
 * and one workflow bundle per file, stacks with a hostile scripted model, and the checks every
 * attack makes — on the host (marker files), on the remote (refs), in the reports (no secret
 * value, the right kind) and in the spend (metered, within budget). Each file prints the table
 * "attack × what Nightshift did" at its end.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { run } from '../../activities/exec.js';
import type { Report } from '../../workflows/activityTypes.js';
import type { RunOutcome, RunStatus, Spend } from '../../workflows/types.js';
import { cancelRun, runResult, runStatus } from '../../worker/runs.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import type { Script, ScriptStep } from '../../devstack/scriptedModel.js';
import { withSideRequests } from '../../devstack/scripts.js';
import { labeledIssueDelivery } from '../../devstack/linearIssue.js';
import { LocalStack, STACK_PRICES, WEBHOOK_SECRET, type LocalStackOptions } from '../../devstack/stack.js';

/** The dev server and bundle a file's stacks share; filled by `before`. */
export interface Shared {
  temporal: TestWorkflowEnvironment;
  bundle: WorkflowBundleWithSourceMap;
}

/** Registers `before`/`after` hooks that start (and tear down) one dev server and one bundle for the file. */
export function useSharedTemporal(): Shared {
  const shared = {} as Shared;
  before(async () => {
    shared.temporal = await startDevServer({});
    shared.bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  });
  after(async () => {
    await shared.temporal?.teardown();
  });
  return shared;
}

/** Stuck thresholds no attack script comes near (attacks are slow, not stuck). */
const LENIENT_STUCK = { repeatedFailingCall: 6, repeatedError: 6, alternatingCycles: 6, noProgressCalls: 30, silenceSeconds: 90 };

/** A stack whose remote's `main` was recorded at start. */
export interface AttackStack {
  stack: LocalStack;
  /** `main` of the remote before any run. */
  mainSha: string;
}

/** Starts a stack on the shared dev server, with one attempt per run unless told otherwise. */
export async function startAttackStack(shared: Shared, script: Script, opts: Partial<LocalStackOptions> = {}): Promise<AttackStack> {
  const stack = await LocalStack.start({
    script,
    temporal: shared.temporal,
    workflowBundle: shared.bundle,
    taskQueue: `attacks-${randomUUID()}`,
    maxAttempts: 1,
    ...opts,
    stuck: { ...LENIENT_STUCK, ...(opts.stuck ?? {}) },
  });
  const mainSha = (await run('git', ['-C', stack.bareRepo, 'rev-parse', 'refs/heads/main'])).stdout.trim();
  return { stack, mainSha };
}

/** A submitted run. */
export interface SubmittedRun {
  workflowId: string;
  issueId: string;
}

/** Starts a run through the signed Linear webhook (a fresh issue each time). */
export async function submitRun(stack: LocalStack, identifier = 'CALC-7'): Promise<SubmittedRun> {
  const delivery = labeledIssueDelivery(WEBHOOK_SECRET, { identifier });
  const res = await stack.sendLinearDelivery(delivery);
  assert.equal(res.status, 200, 'the webhook accepted the delivery');
  return { workflowId: `linear-${delivery.issueId}`, issueId: delivery.issueId };
}

/** Polls `status` until `done(status)` holds; fails with the last status after `ms`. */
export async function waitForStatus(stack: LocalStack, workflowId: string, done: (s: RunStatus) => boolean, ms = 150_000): Promise<RunStatus> {
  const end = Date.now() + ms;
  let last: RunStatus | undefined;
  while (Date.now() < end) {
    last = await runStatus(stack.client, workflowId).catch(() => last);
    if (last && done(last)) return last;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out: run ${workflowId} in phase ${last?.phase}, events ${JSON.stringify(last?.lastEvents)}`);
}

/** Waits for the run to stop: done, waiting for a human, or waiting for an approval. */
export function settled(stack: LocalStack, workflowId: string, ms?: number): Promise<RunStatus> {
  return waitForStatus(stack, workflowId, (s) => ['done', 'awaiting_human', 'awaiting_approval'].includes(s.phase), ms);
}

/** The run's outcome within `ms`. */
export async function outcomeWithin(stack: LocalStack, workflowId: string, ms = 150_000): Promise<RunOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`run ${workflowId} did not end within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([runResult(stack.client, workflowId), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Ends a run that waits for a human (cancel) and waits for its outcome, so that its cleanup completes. */
export async function closeRun(stack: LocalStack, workflowId: string): Promise<RunOutcome | undefined> {
  const s = await runStatus(stack.client, workflowId).catch(() => undefined);
  if (!s) return undefined;
  if (s.phase !== 'done') await cancelRun(stack.client, workflowId, 'attack-suite', 'test over').catch(() => undefined);
  return outcomeWithin(stack, workflowId, 60_000).catch(() => undefined);
}

/** Stops a stack within `ms` whatever happens (teardown must complete). */
export async function stopWithin(s: AttackStack | undefined, ms = 60_000): Promise<void> {
  if (!s) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([s.stack.stop(), new Promise<void>((r) => (timer = setTimeout(r, ms)))]).catch(() => undefined);
  clearTimeout(timer);
}

/** A marker path prefix under the host's /tmp (inside a sandbox /tmp is a tmpfs, so only host-side execution can create it). */
export function markerPrefix(): string {
  return `/tmp/ns-pwned-${randomBytes(6).toString('hex')}`;
}

/** Host files whose path starts with `prefix` (a {@link markerPrefix}). */
export async function hostMarkers(prefix: string): Promise<string[]> {
  const base = prefix.slice('/tmp/'.length);
  return (await readdir('/tmp')).filter((n) => n.startsWith(base)).map((n) => `/tmp/${n}`);
}

/** Every ref of a bare repository (`refs/heads/main`, `refs/tags/…`). */
export async function refsOf(bare: string): Promise<string[]> {
  const { stdout } = await run('git', ['-C', bare, 'for-each-ref', '--format=%(refname)']);
  return stdout.split('\n').filter(Boolean).sort();
}

/**
 * The remote holds `main` (unchanged) and, besides, only `nightshift/…` branches matching
 * `branches` (one pattern per expected branch); no tag, no other ref. Returns the refs.
 */
export async function assertRemote(s: AttackStack, branches: RegExp[]): Promise<string[]> {
  const refs = await refsOf(s.stack.bareRepo);
  assert.ok(refs.includes('refs/heads/main'), `main exists: ${refs.join(', ')}`);
  const others = refs.filter((r) => r !== 'refs/heads/main');
  assert.equal(others.length, branches.length, `refs besides main: ${others.join(', ') || 'none'}; expected ${branches.length}`);
  for (const re of branches) assert.ok(others.some((r) => re.test(r)), `a ref matches ${re}: ${others.join(', ')}`);
  assert.ok(others.every((r) => r.startsWith('refs/heads/nightshift/')), `only nightshift/ branches: ${others.join(', ')}`);
  const main = (await run('git', ['-C', s.stack.bareRepo, 'rev-parse', 'refs/heads/main'])).stdout.trim();
  assert.equal(main, s.mainSha, 'main is untouched');
  return refs;
}

/** The reports of a run, oldest first. */
export function reportsOf(stack: LocalStack, workflowId: string): Report[] {
  return stack.reports.filter((r) => r.workflowId === workflowId);
}

/** Everything the run said to the outside: its reports, the Linear comments, the PR bodies. */
export function outsideText(stack: LocalStack, workflowId: string, issueId: string): string {
  const reports = reportsOf(stack, workflowId).flatMap((r) => [r.markdown, r.mrkdwn]);
  const comments = stack.linear.comments.filter((c) => c.issueId === issueId).map((c) => c.body);
  const pulls = stack.github.pulls('acme/calculator').map((p) => `${p.title}\n${p.body ?? ''}`);
  return [...reports, ...comments, ...pulls].join('\n');
}

/** The stack's secret values (GitHub token, Linear API key, webhook secret), with their names. */
export function secretValues(stack: LocalStack): Array<[string, string]> {
  const s = stack.secrets;
  return (
    [
      ['GITHUB_TOKEN', s.githubToken],
      ['LINEAR_API_KEY', s.linearApiKey],
      ['LINEAR_WEBHOOK_SECRET', s.linearWebhookSecret],
    ] as Array<[string, string | undefined]>
  ).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].length > 0);
}

/** Fails when `text` holds any of the stack's secret values (or an extra one). */
export function assertNoSecret(stack: LocalStack, text: string, where: string, extra: Array<[string, string]> = []): void {
  for (const [name, value] of [...secretValues(stack), ...extra]) {
    assert.ok(!text.includes(value), `${where} holds the value of ${name}`);
  }
}

/** USD of the scripted usage the model server reported, at the stack's price of `model`. */
export function scriptedUsd(stack: LocalStack, model: keyof typeof STACK_PRICES = 'claude-sonnet-4-5'): number {
  const p: { input: number; output: number; cacheRead?: number; cacheWrite?: number } = STACK_PRICES[model];
  return stack.model!.requests
    .filter((r) => r.usage)
    .reduce((s, r) => s + (r.usage!.input * p.input + r.usage!.output * p.output + r.usage!.cacheRead * (p.cacheRead ?? p.input) + r.usage!.cacheWrite * (p.cacheWrite ?? p.input)) / 1e6, 0);
}

/** Spend is metered (non-zero, every upstream request counted) and within the $2 stack budget. */
export function assertSpend(spend: Spend, opts: { exactUsd?: number; budgetUsd?: number } = {}): void {
  assert.ok(spend.requests > 0 && spend.usd > 0, `metered: ${JSON.stringify(spend)}`);
  assert.ok(spend.usd <= (opts.budgetUsd ?? 2) + 1e-12, `spent $${spend.usd} of $${opts.budgetUsd ?? 2}`);
  if (opts.exactUsd !== undefined) assert.ok(Math.abs(spend.usd - opts.exactUsd) < 1e-9, `spend $${spend.usd} = scripted $${opts.exactUsd}`);
}

/** One probe of a hostile script: a step, and the name its tool result is recorded under. */
export interface Probe {
  name: string;
  step: ScriptStep;
}

/**
 * Plays `probes` (one per turn), recording in `seen` the tool result each produced (what the
 * sandbox saw), then defers to `then` with `turn` counted from the end of the probes.
 */
export function probeScript(probes: Probe[], seen: Map<string, string>, then: Script): Script {
  return withSideRequests((ctx) => {
    const prev = probes[ctx.turn - 1];
    if (prev && ctx.lastToolResult !== undefined) seen.set(prev.name, ctx.lastToolResult);
    return probes[ctx.turn]?.step ?? then({ ...ctx, turn: ctx.turn - probes.length });
  });
}

/** Rows of the "attack × what Nightshift did" table of a file. */
const rows: Array<{ attack: string; result: string }> = [];

/** Records a row of the table (call after the case's assertions passed). */
export function tableRow(attack: string, result: string): void {
  rows.push({ attack, result });
}

/** Registers an `after` hook printing the file's table as Markdown. */
export function printTableAfter(title: string): void {
  after(() => {
    if (rows.length === 0) return;
    const lines = [`\n#### ${title}`, '| Attack | What Nightshift did |', '|---|---|', ...rows.map((r) => `| ${r.attack} | ${r.result} |`)];
    console.log(lines.join('\n'));
  });
}
