/**
 * Validation by Nightshift: the repository's own test command, run by us in a fresh sandbox
 * (no network) on an export of exactly the tree that would be pushed (see `exportTree`). The
 * agent's claims are never the verdict, and neither is the exit code alone: the run's test report
 * is checked against the base commit's (the test contract, `contract.ts`).
 */
import { Context } from '@temporalio/activity';
import type { RunPlan, RunTestsInput } from '../../workflows/activityTypes.js';
import type { TestContractResult, ValidationResult } from '../../workflows/types.js';
import { runLogger, type Logger } from '../../worker/logger.js';
import type { RunningSandbox, SandboxManager } from '../sandbox.js';
import type { WarmValidation } from './warmTests.js';
import { sandboxTestCommand } from '../environment/prepare.js';
import { checkTestContract } from './contract.js';
import { failedNames, failingTestsFrom, parseTestReport, type TestReport } from './testReport.js';

export { failingTestsFrom };

/** The current activity's context, or undefined outside an activity. */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

const TAIL_LINES = 60;
const TAIL_CHARS = 6000;
/** Test output kept for the test report, characters (a suite that prints more is cut at its start). */
const MAX_OUTPUT_CHARS = 16 * 1024 * 1024;

/** What {@link runRepoTests} reads of a run: the plan's test command, image and environment only. */
export type TestRunInput = Omit<RunTestsInput, 'plan'> & { plan: Pick<RunPlan, 'testCommand' | 'image' | 'environment'> };

/** Dependencies of {@link runRepoTests}. */
export interface ValidateDeps {
  sandbox: SandboxManager;
  logger: Logger;
  /** Test run limit, ms (default 15 min). */
  timeoutMs?: number;
}

/**
 * The contract verdict of a run against the base commit's report. When the base run's output is
 * not recognised at all, nothing can be checked by name or count: the verdict says so (basis
 * `none`) and does not fail the run (the exit code and the test-definition check still apply).
 */
export function contractOf(baseline: TestReport | undefined, report: TestReport): TestContractResult {
  if (!baseline || baseline.frameworks.length === 0) {
    return { ok: true, basis: 'none', summary: "test contract not checked: the base commit's test output names no test Nightshift recognises", violations: [] };
  }
  const v = checkTestContract(baseline, report);
  return { ok: v.ok, basis: v.basis, summary: v.summary, violations: v.violations.map((x) => ({ kind: x.kind, detail: x.detail })) };
}

/**
 * Runs the test command on `input.workspace.path` (an export of the tree under test) and, given
 * the base commit's report, checks the test contract: `passed` = exit 0, not timed out, and the
 * contract holds. Returns the result and the parsed report (the base run's is kept as baseline).
 * `warm`: the sandbox started for this run ahead of time on `input.workspace.path`
 * (./warmTests.ts), waiting on stdin: closing it starts the tests; else a sandbox is started now.
 * Never throws for failing tests, only for infrastructure errors.
 */
export async function runRepoTests(deps: ValidateDeps, input: TestRunInput, baseline?: TestReport, warm?: WarmValidation): Promise<{ result: ValidationResult; report: TestReport }> {
  // Outside an activity (`nightshift env check`) there is no context: no heartbeat, no cancellation.
  const ctx = activityContext();
  const log = runLogger({ workflowId: input.workflowId, runId: ctx?.info.workflowExecution?.runId ?? '', attempt: input.attempt, activityAttempt: ctx?.info.attempt ?? 0 }, deps.logger);
  const lines: string[] = [];
  let kept = 0;
  const started = Date.now();
  const onLine = (_stream: 'stdout' | 'stderr', line: string): void => {
    lines.push(line);
    kept += line.length + 1;
    while (kept > MAX_OUTPUT_CHARS && lines.length > TAIL_LINES) kept -= (lines.shift() ?? '').length + 1;
  };
  let sandbox: RunningSandbox;
  if (warm) {
    sandbox = warm.sandbox;
    warm.attach(onLine);
    // The go: its command waits for stdin to close (the tree is in place).
    await sandbox.sendStdin('').catch(async (err: unknown) => {
      await sandbox.remove().catch(() => undefined);
      throw err;
    });
  } else {
    sandbox = await deps.sandbox.start({
      workflowId: input.workflowId,
      purpose: 'tests',
      image: input.plan.image,
      cmd: sandboxTestCommand(input.plan.testCommand, input.plan.environment?.seed),
      env: ['CI=true'],
      workspace: input.workspace.path,
      network: 'none',
      onLine,
    });
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void sandbox.kill();
  }, deps.timeoutMs ?? 15 * 60_000);
  const beat = setInterval(() => ctx?.heartbeat(), 5000);
  ctx?.cancelled.catch(() => void sandbox.kill());
  let exitCode: number;
  try {
    exitCode = await sandbox.exited;
  } finally {
    clearTimeout(timer);
    clearInterval(beat);
    await sandbox.remove();
  }
  const output = lines.join('\n');
  const report = parseTestReport(output);
  const contract = input.attempt === 0 ? undefined : contractOf(baseline, report);
  // Said in the output only when it changes the verdict (the command itself passed).
  const contractNote = contract && !contract.ok && exitCode === 0 && !timedOut ? `\n[Nightshift: ${contract.summary}]` : '';
  const outputTail = lines.slice(-TAIL_LINES).join('\n').slice(-TAIL_CHARS) + (timedOut ? '\n[Nightshift: test run timed out and was stopped]' : '') + contractNote;
  const result: ValidationResult = {
    passed: exitCode === 0 && !timedOut && (contract?.ok ?? true),
    exitCode,
    outputTail,
    failingTests: failedNames(report).slice(0, 50),
    durationMs: Date.now() - started,
    command: input.plan.testCommand,
    counts: report.frameworks.length > 0 ? report.counts : undefined,
    contract,
    timedOut,
  };
  log.info({ label: input.label, passed: result.passed, exitCode, durationMs: result.durationMs, contract: contract?.summary }, 'tests ran');
  return { result, report };
}
