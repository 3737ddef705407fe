/**
 * Agent runners: how each agent CLI is started in a sandbox and how its stream is read.
 * One runner per agent; nothing vendor-specific leaks past `AgentEvent`.
 */
import type { AgentEvent, AgentKind } from '../../workflows/types.js';
import { ClaudeStreamParser } from './claudeStream.js';
import { CodexStreamParser } from './codexStream.js';

/** Turns a CLI's stdout lines into normalized events. */
export interface StreamParser {
  /** Parses one line; unknown or non-JSON lines give no event. `at` is Unix ms. */
  push(line: string, at?: number): AgentEvent[];
  /** Tool calls started whose result has not arrived: what the agent was doing when it was stopped. */
  pendingCalls(): Array<{ name: string; input: unknown }>;
}

/** What a runner needs to start its CLI. */
export interface RunnerInput {
  /**
   * The task prompt as an argument; `{ stdin: true }`: the CLI reads it from its stdin until EOF
   * (a warm start: the CLI boots before the prompt is known, activities/warmAgent.ts).
   */
  prompt: string | { stdin: true };
  model: string;
  /** Base URL of the model gateway as the sandbox sees it, e.g. `http://172.29.0.1:41234`. */
  gatewayUrl: string;
  /** The run's gateway token: the only credential the sandbox gets. */
  token: string;
}

/** One agent CLI. */
export interface AgentRunner {
  readonly kind: AgentKind;
  /** Container command and environment (`KEY=value`). */
  command(input: RunnerInput): { cmd: string[]; env: string[] };
  createParser(): StreamParser;
}

/**
 * Claude Code: `claude -p … --output-format stream-json --verbose`.
 * https://docs.claude.com/en/docs/claude-code/cli-reference
 */
export const claudeCodeRunner: AgentRunner = {
  kind: 'claude-code',
  command({ prompt, model, gatewayUrl, token }) {
    return {
      // `-p` without an argument reads the prompt from stdin.
      cmd: ['claude', '-p', ...(typeof prompt === 'string' ? [prompt] : []), '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', '--model', model],
      env: [
        `ANTHROPIC_BASE_URL=${gatewayUrl}`,
        `ANTHROPIC_API_KEY=${token}`,
        'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1',
        'DISABLE_AUTOUPDATER=1',
        'DISABLE_TELEMETRY=1',
        'DISABLE_ERROR_REPORTING=1',
        'CLAUDE_CODE_MAX_RETRIES=0',
      ],
    };
  },
  createParser: () => new ClaudeStreamParser(),
};

/** The Codex `config.toml` pointing the CLI at the gateway (Responses API, no retries, no updates). */
export function codexConfigToml(model: string, gatewayUrl: string): string {
  return [
    `model = ${JSON.stringify(model)}`,
    'model_provider = "gateway"',
    'approval_policy = "never"',
    'sandbox_mode = "danger-full-access"',
    'check_for_update_on_startup = false',
    // No hosted web search: the gateway refuses provider-side tools (they fetch URLs of the model's choosing).
    'web_search = "disabled"',
    '[analytics]',
    'enabled = false',
    '[features]',
    'plugins = false',
    '[model_providers.gateway]',
    'name = "Gateway"',
    `base_url = ${JSON.stringify(`${gatewayUrl}/v1`)}`,
    'wire_api = "responses"',
    'env_key = "GATEWAY_TOKEN"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
    'supports_websockets = false',
    '',
  ].join('\n');
}

/**
 * Codex: `codex exec --json`. The config is written into `$CODEX_HOME` inside the sandbox.
 * https://github.com/openai/codex/blob/main/docs/exec.md
 */
export const codexRunner: AgentRunner = {
  kind: 'codex',
  command({ prompt, model, gatewayUrl, token }) {
    return {
      cmd: [
        'sh',
        '-c',
        'mkdir -p "$CODEX_HOME" && printf "%s" "$NIGHTSHIFT_CODEX_CONFIG" > "$CODEX_HOME/config.toml" && ' +
          // `-`: the prompt is read from stdin; a prompt argument gets stdin closed (else it would be appended to it).
          (typeof prompt === 'string'
            ? 'exec codex exec --json --skip-git-repo-check --disable unbounded_connection_retries "$NIGHTSHIFT_PROMPT" < /dev/null'
            : 'exec codex exec --json --skip-git-repo-check --disable unbounded_connection_retries -'),
      ],
      env: [
        'CODEX_HOME=/tmp/codex-home',
        `NIGHTSHIFT_CODEX_CONFIG=${codexConfigToml(model, gatewayUrl)}`,
        ...(typeof prompt === 'string' ? [`NIGHTSHIFT_PROMPT=${prompt}`] : []),
        `GATEWAY_TOKEN=${token}`,
      ],
    };
  },
  createParser: () => new CodexStreamParser(),
};

/** The runner of each agent kind. */
export const runners: Record<AgentKind, AgentRunner> = {
  'claude-code': claudeCodeRunner,
  codex: codexRunner,
};
