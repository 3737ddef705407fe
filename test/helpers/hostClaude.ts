/**
 * Running the real Claude Code CLI on the host (tests and benchmarks) with exactly the command
 * line and environment the sandbox gets (`claudeCodeRunner`), plus what the host needs: PATH, a
 * throwaway HOME, and IS_SANDBOX=1 (`--dangerously-skip-permissions` refuses root otherwise).
 */
import { join } from 'node:path';
import { claudeCodeRunner } from '../../activities/agents/runner.js';
import { repoRoot } from './paths.js';

/** The executable, arguments and environment for one host run of Claude Code. */
export function hostClaude(opts: { prompt: string; model: string; gatewayUrl: string; token: string; home: string }): {
  bin: string;
  args: string[];
  env: Record<string, string>;
} {
  const { cmd, env } = claudeCodeRunner.command(opts);
  const vars = Object.fromEntries(env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return {
    bin: join(repoRoot(), 'node_modules', '.bin', 'claude'),
    args: cmd.slice(1),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: opts.home, IS_SANDBOX: '1', ...vars },
  };
}
