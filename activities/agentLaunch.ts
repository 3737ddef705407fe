/**
 * What an attempt's agent sandbox is started with: its gateway run (the token, the only credential
 * the sandbox gets) and its container spec. Shared by the cold start (runAgent.ts) and the warm
 * start (warmAgent.ts), so that both start exactly the same sandbox.
 */
import type { RunPlan } from '../workflows/activityTypes.js';
import type { Spend } from '../workflows/types.js';
import type { EnvironmentsSettings } from '../worker/config.js';
import { registerSecret } from '../worker/redact.js';
import { agentEgressEnv } from './agentEgress.js';
import type { AgentRunner } from './agents/runner.js';
import { NightshiftError } from './errors.js';
import type { GatewayPort } from './runAgent.js';
import type { SandboxSpec } from './sandbox.js';

/** What {@link openAgentRun} needs of the worker. */
export interface AgentLaunchDeps {
  gateway: GatewayPort;
  /** Gateway base URL as sandboxes see it. */
  gatewayUrl: string;
  runners: Record<string, AgentRunner>;
  /** CA bundle settings (`config.environments`), for agents with `agentEgress`; default: the host's bundle. */
  environments?: Pick<EnvironmentsSettings, 'caBundle' | 'proxy'>;
}

/** An opened gateway run and the sandbox spec that uses it (without `onLine`). */
export interface AgentLaunch {
  /** The gateway's run key, `<workflowId>#<attempt>`. */
  runKey: string;
  /** The run's gateway token (registered for redaction). */
  token: string;
  spec: Omit<SandboxSpec, 'onLine'>;
}

/** The gateway run key of an attempt. */
export function runKeyOf(workflowId: string, attempt: number): string {
  return `${workflowId}#${attempt}`;
}

/**
 * Opens the attempt's gateway run (a fresh token; with `prior`, a retried try's spend goes on) and
 * builds the agent's sandbox spec: `prompt` as an argument, or `{ stdin: true }` for a CLI that
 * reads it from stdin. The token (and the proxy credential of an agent with egress) is redacted
 * from everything that leaves the process from here on.
 * @throws NightshiftError CONFIG_INVALID (no runner for the plan's agent; not retryable)
 */
export function openAgentRun(
  deps: AgentLaunchDeps,
  input: { workflowId: string; runId: string; attempt: number; plan: RunPlan; workspacePath: string; limits: { tokens: number; usd: number }; prompt: string | { stdin: true }; prior?: Spend },
): AgentLaunch {
  const { workflowId, runId, attempt, plan, limits } = input;
  const runner = deps.runners[plan.agent];
  if (!runner) throw new NightshiftError('CONFIG_INVALID', `no runner for agent ${plan.agent}`, { retryable: false });
  const runKey = runKeyOf(workflowId, attempt);
  const egressAllow = plan.agentEgress ?? [];
  const { token } = deps.gateway.openRun(runKey, { tokens: limits.tokens, usd: limits.usd }, input.prior, { workflowId, runId, attempt }, egressAllow.length ? egressAllow : undefined);
  registerSecret(token);
  const egress = egressAllow.length ? agentEgressEnv({ gatewayUrl: deps.gatewayUrl, token, settings: deps.environments ?? {} }) : undefined;
  if (egress) registerSecret(egress.basicCredential);
  const { cmd, env } = runner.command({ prompt: input.prompt, model: plan.model, gatewayUrl: deps.gatewayUrl, token });
  return {
    runKey,
    token,
    spec: {
      workflowId,
      purpose: 'agent',
      image: plan.image,
      cmd,
      env: egress ? [...env, ...egress.env] : env,
      workspace: input.workspacePath,
      network: 'sandbox',
      readOnlyMounts: egress?.readOnlyMounts,
      ...(typeof input.prompt === 'string' ? {} : { stdin: true }),
    },
  };
}
