/**
 * Validation by Nightshift: the repository's own test command, run by us in a fresh sandbox
 * (no network) on the workspace. The agent's claims are never the verdict.
 */
import { Context } from '@temporalio/activity';
import type { RunTestsInput } from '../../workflows/activityTypes.js';
import type { ValidationResult } from '../../workflows/types.js';
import { runLogger, type Logger } from '../../worker/logger.js';
import type { SandboxManager } from '../sandbox.js';
import { failingTestsFrom } from './testReport.js';

export { failingTestsFrom };

const TAIL_LINES = 60;
const TAIL_CHARS = 6000;

/** Dependencies of {@link runRepoTests}. */
export interface ValidateDeps {
  sandbox: SandboxManager;
  logger: Logger;
  /** Test run limit, ms (default 15 min). */
  timeoutMs?: number;
}

/** Runs the test command; never throws for failing tests, only for infrastructure errors. */
export async function runRepoTests(deps: ValidateDeps, input: RunTestsInput): Promise<ValidationResult> {
  const ctx = Context.current();
  const log = runLogger({ workflowId: input.workflowId, runId: ctx.info.workflowExecution?.runId ?? '', attempt: input.attempt, activityAttempt: ctx.info.attempt }, deps.logger);
  const lines: string[] = [];
  const started = Date.now();
  const sandbox = await deps.sandbox.start({
    workflowId: input.workflowId,
    purpose: 'tests',
    image: input.plan.image,
    cmd: ['sh', '-c', input.plan.testCommand],
    env: ['CI=true', 'HOME=/tmp'],
    workspace: input.workspace.path,
    network: 'none',
    onLine: (_stream, line) => {
      lines.push(line);
      if (lines.length > 4 * TAIL_LINES) lines.splice(0, lines.length - 2 * TAIL_LINES);
    },
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void sandbox.kill();
  }, deps.timeoutMs ?? 15 * 60_000);
  const beat = setInterval(() => ctx.heartbeat(), 5000);
  ctx.cancelled.catch(() => void sandbox.kill());
  let exitCode: number;
  try {
    exitCode = await sandbox.exited;
  } finally {
    clearTimeout(timer);
    clearInterval(beat);
    await sandbox.remove();
  }
  const output = lines.join('\n');
  const outputTail = lines.slice(-TAIL_LINES).join('\n').slice(-TAIL_CHARS) + (timedOut ? '\n[Nightshift: test run timed out and was stopped]' : '');
  const result: ValidationResult = {
    passed: exitCode === 0 && !timedOut,
    exitCode,
    outputTail,
    failingTests: failingTestsFrom(output),
    durationMs: Date.now() - started,
    command: input.plan.testCommand,
  };
  log.info({ label: input.label, passed: result.passed, exitCode, durationMs: result.durationMs }, 'tests ran');
  return result;
}
