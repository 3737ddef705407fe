/** Running host commands (git) with typed errors. */
import { execFile } from 'node:child_process';
import { NightshiftError, type NightshiftErrorCode } from './errors.js';

/** Output of a finished command. */
export interface ExecResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs `file args…` without a shell.
 * @throws NightshiftError with `code` when the command exits non-zero or cannot start; its
 *   details carry the exit code and the stderr tail (never the environment).
 */
export function run(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; code?: NightshiftErrorCode; timeoutMs?: number; retryable?: boolean } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 5 * 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const exitCode = typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : undefined;
          reject(
            new NightshiftError(opts.code ?? 'GIT_FAILED', `${file} ${args[0] ?? ''} failed: ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`, {
              cause: err,
              details: { exitCode, stderrTail: stderr.slice(-2000) },
              retryable: opts.retryable,
            }),
          );
          return;
        }
        resolve({ stdout, stderr });
      },
    );
  });
}
