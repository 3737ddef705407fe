/** Running host commands (git, iptables, chown) with typed errors that carry no argv and no secret. */
import { execFile } from 'node:child_process';
import { redact } from '../worker/redact.js';
import { NightshiftError, type NightshiftErrorCode } from './errors.js';

/** Output of a finished command. */
export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** What a failed command's error names it by: the program and its first non-option argument (`git push`). */
function labelOf(file: string, args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-c' || a === '-C') {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return `${file} ${a}`;
  }
  return file;
}

/**
 * Runs `file args…` without a shell.
 * @throws NightshiftError with `code` when the command exits non-zero, times out or cannot start.
 *   The message names the program and its subcommand and the last stderr lines; details carry the
 *   exit code, the signal and the stderr tail. Never the argv (which may hold a credential) and
 *   never the environment; `NightshiftError` redacts registered secrets from all of it.
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
      (err, stdout, rawStderr) => {
        if (err) {
          // Redacted before it is cut: a cut through a secret would leave a fragment no longer recognised.
          const stderr = redact(rawStderr);
          const e = err as { code?: unknown; signal?: unknown; killed?: boolean };
          const exitCode = typeof e.code === 'number' ? e.code : undefined;
          const signal = typeof e.signal === 'string' ? e.signal : undefined;
          const reason = stderr.trim().split('\n').slice(-3).join(' | ') || (typeof e.code === 'string' ? e.code : signal ? `killed by ${signal}` : `exit code ${exitCode}`);
          reject(
            new NightshiftError(opts.code ?? 'GIT_FAILED', `${labelOf(file, args)} failed: ${reason}`, {
              // Not the child_process error itself: its message holds the whole command line.
              details: { exitCode, signal, timedOut: e.killed === true && signal === 'SIGTERM', stderrTail: stderr.slice(-2000) },
              retryable: opts.retryable,
            }),
          );
          return;
        }
        resolve({ stdout, stderr: rawStderr });
      },
    );
  });
}
