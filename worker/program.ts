/**
 * `nightshift`: the command line.
 *
 *   nightshift dev                       dev server (if no temporal.address) + worker + webhooks
 *   nightshift worker                    the worker only
 *   nightshift serve                     the webhook receiver only (Linear; Slack)
 *   nightshift submit --repo R "task"    start a run; prints its workflow id (`--wait` waits)
 *   nightshift status ID                 phase, attempt, spend, last events, last report
 *   nightshift reply ID "text"           guidance, "cancel" or "take over" for an escalated run
 *   nightshift cancel ID                 stop a run now
 *   nightshift env build|check|list|prune repository environments (see envCommands.ts)
 *   nightshift digest [--since 24h] [--team KEY]  the morning digest, Markdown (see digestCommand.ts)
 *   nightshift runs list|show|search     the run ledger (see runsCommands.ts)
 *   nightshift report [--since 7d] [--html F] [--json]  the calibration report (see reportCommand.ts)
 *   nightshift eval SUITE [--variant F]  evals of the agent setup on a local stack (see evals/command.ts)
 *
 * Configuration: `--config` or `$NIGHTSHIFT_CONFIG` (default ./nightshift.config.yaml).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Client, Connection } from '@temporalio/client';
import { workflowIdFor, type RunStatus, type TaskRequest } from '../workflows/types.js';
import { loadConfig, secretsFromEnv, type Config } from './config.js';
import { rootLogger } from './logger.js';
import { answerApproval, cancelRun, replyToRun, runResult, runStatus, startRun } from './runs.js';
import { connectClient, connectWorker, startDevServer, temporalAddress } from './temporal.js';
import { createNightshiftWorker } from './worker.js';
import { startWebhookServer } from './server.js';
import { registerEnvCommands } from './envCommands.js';
import { registerDigestCommand } from './digestCommand.js';
import { registerReportCommand } from './reportCommand.js';
import { registerRunsCommands } from './runsCommands.js';
import { registerQueueCommand } from './queueCommand.js';
import { registerEvalCommand } from '../evals/command.js';
import { ensureSearchAttributes } from './searchAttributes.js';
import { parsePriority } from '../bots/slack/commands/parse.js';
import { titleOf } from '../bots/title.js';

/**
 * Commander's parser of `--priority` (`urgent`, `high`, `normal`, `low` or 1–4, as Slack's
 * `/nightshift run --priority`): the queue priority 1 (urgent) … 4 (low). Throws
 * `InvalidArgumentError` for anything else.
 */
export function priorityArg(value: string): number {
  const n = parsePriority(value);
  if (n === undefined) throw new InvalidArgumentError('--priority must be urgent, high, normal, low or 1-4');
  return n;
}

function configPath(opts: { config?: string }): string {
  return opts.config ?? process.env.NIGHTSHIFT_CONFIG ?? 'nightshift.config.yaml';
}

function load(opts: { config?: string }): Config {
  return loadConfig(configPath(opts));
}

const number = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};

/** Prints a run's status for a person. */
export function formatStatus(s: RunStatus): string {
  const lines = [
    `run       ${s.workflowId}`,
    `phase     ${s.phase}${s.outcome ? ` (${s.outcome.kind})` : ''}`,
    `attempt   ${s.attempt}/${s.maxAttempts}`,
    `spend     ${s.spend.tokens} tokens, $${s.spend.usd.toFixed(4)}${s.budget ? ` of ${s.budget.tokens} tokens, $${s.budget.usd}` : ''}`,
  ];
  if (s.outcome?.prUrl) lines.push(`pr        ${s.outcome.prUrl}`);
  if (s.wipBranch) lines.push(`wip       ${s.wipBranch}`);
  if (s.lastEvents.length) lines.push('last events:', ...s.lastEvents.map((e) => `  ${e}`));
  if (s.lastReport) lines.push('', 'last report:', s.lastReport);
  return lines.join('\n');
}

async function withClient<T>(opts: { config?: string }, fn: (client: Client, config: Config) => Promise<T>): Promise<T> {
  const config = load(opts);
  const client = await connectClient(config);
  try {
    return await fn(client, config);
  } finally {
    await client.connection.close();
  }
}

export function buildProgram(): Command {
  const program = new Command('nightshift')
    .description('Overnight background-agent queue')
    .option('-c, --config <path>', 'configuration file (default $NIGHTSHIFT_CONFIG or ./nightshift.config.yaml)');

  program
    .command('dev')
    .description('start the Temporal dev server (unless temporal.address is set), a worker and the webhook receiver')
    .action(async () => {
      const config = load(program.opts());
      const logger = rootLogger();
      const env = config.temporal.address
        ? undefined
        : await startDevServer({ dbFile: join(config.stateDir, 'temporal.db'), port: config.temporal.devServerPort, cliPath: config.temporal.cliPath });
      if (env) logger.info({ address: `127.0.0.1:${config.temporal.devServerPort}`, db: join(config.stateDir, 'temporal.db') }, 'Temporal dev server started');
      const client = await connectClient(config);
      // Runs upsert their search attributes: a namespace without them would stall every run.
      const attrs = await ensureSearchAttributes(client.connection as Connection, config.temporal.namespace);
      if (attrs.added.length) logger.info({ added: attrs.added }, 'search attributes registered');
      if (!attrs.verified) logger.warn({ namespace: config.temporal.namespace }, 'cannot check the run search attributes (no operator access): make sure NsStatus, NsRepo, NsTeam, NsRequester, NsOutcome, NsSpendUsd and NsAttempt exist, or runs stall');
      const connection = await connectWorker(config);
      const w = await createNightshiftWorker({ config, secrets: secretsFromEnv(), connection, client, logger });
      const server = await startWebhookServer({ config, secrets: secretsFromEnv(), client, logger });
      process.stdout.write(`Nightshift is running: Temporal ${temporalAddress(config)}, webhooks ${server.url}, gateway ${w.gatewayUrl}\n`);
      const stop = (): void => void w.shutdown();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await w.run();
      await w.shutdown();
      await server.close();
      await client.connection.close();
      await connection.close();
      await env?.teardown();
      logger.info('stopped');
    });

  program
    .command('worker')
    .description('run a worker against temporal.address (or the local dev server)')
    .action(async () => {
      const config = load(program.opts());
      const logger = rootLogger();
      const client = await connectClient(config);
      // Runs upsert their search attributes: refuse to serve them on a namespace without them.
      const attrs = await ensureSearchAttributes(client.connection as Connection, config.temporal.namespace);
      if (attrs.added.length) logger.info({ added: attrs.added }, 'search attributes registered');
      if (!attrs.verified) logger.warn({ namespace: config.temporal.namespace }, 'cannot check the run search attributes (no operator access): make sure NsStatus, NsRepo, NsTeam, NsRequester, NsOutcome, NsSpendUsd and NsAttempt exist, or runs stall');
      const connection = await connectWorker(config);
      const w = await createNightshiftWorker({ config, secrets: secretsFromEnv(), connection, client, logger });
      process.once('SIGINT', () => void w.shutdown());
      process.once('SIGTERM', () => void w.shutdown());
      await w.run();
      await w.shutdown();
      await client.connection.close();
      await connection.close();
      logger.info('worker stopped');
    });

  program
    .command('serve')
    .description('run the webhook receiver (POST /webhooks/linear)')
    .action(async () => {
      const config = load(program.opts());
      const client = await connectClient(config);
      const server = await startWebhookServer({ config, secrets: secretsFromEnv(), client, logger: rootLogger() });
      process.once('SIGINT', () => void server.close());
      process.once('SIGTERM', () => void server.close());
    });

  program
    .command('submit')
    .description('start a run from the command line; prints the workflow id')
    .requiredOption('-r, --repo <name>', 'repository (a key of repos in the configuration)')
    .option('--title <title>', 'short title (default: the first line of the task)')
    .option('--agent <agent>', 'claude-code or codex')
    .option('--model <model>', 'model name (must have a price; capped by the routing policy\'s maxTier)')
    .addOption(new Option('--tier <tier>', 'model tier, capped by the routing policy\'s maxTier').choices(['small', 'medium', 'large']))
    .option('--usd <dollars>', 'dollar budget override', number('--usd'))
    .option('--tokens <tokens>', 'token budget override', number('--tokens'))
    .option('--minutes <minutes>', 'wall-clock budget override', number('--minutes'))
    .option('--now', 'ignore the run window')
    .option('--priority <priority>', 'queue priority: urgent, high, normal (default), low, or 1-4', priorityArg)
    .option('--wait', 'wait for the outcome and print it')
    .argument('<task>', 'what to do')
    .action(async (task: string, o: { repo: string; title?: string; agent?: string; model?: string; tier?: 'small' | 'medium' | 'large'; usd?: number; tokens?: number; minutes?: number; now?: boolean; priority?: number; wait?: boolean }) => {
      if (o.agent && o.agent !== 'claude-code' && o.agent !== 'codex') throw new InvalidArgumentError('--agent must be claude-code or codex');
      await withClient(program.opts(), async (client, config) => {
        const workflowId = workflowIdFor({ kind: 'cli' }, randomUUID());
        const req: TaskRequest = {
          source: { kind: 'cli' },
          requester: userInfo().username,
          repo: o.repo,
          title: o.title ?? titleOf(task),
          task,
          ...(o.priority !== undefined ? { priority: o.priority } : {}),
          overrides: {
            agent: o.agent as 'claude-code' | 'codex' | undefined,
            model: o.model,
            ...(o.tier ? { tier: o.tier } : {}),
            now: o.now,
            budget: {
              ...(o.usd !== undefined ? { usd: o.usd } : {}),
              ...(o.tokens !== undefined ? { tokens: o.tokens } : {}),
              ...(o.minutes !== undefined ? { wallClockMs: o.minutes * 60_000 } : {}),
            },
          },
        };
        await startRun(client, config.temporal.taskQueue, workflowId, req);
        process.stdout.write(`${workflowId}\n`);
        if (o.wait) {
          const outcome = await runResult(client, workflowId);
          process.stdout.write(`${JSON.stringify({ kind: outcome.kind, prUrl: outcome.prUrl, wipBranch: outcome.wipBranch, reason: outcome.reason, spend: outcome.spend }, null, 2)}\n`);
        }
      });
    });

  program
    .command('status')
    .description("show a run's phase, attempt, spend and last report")
    .argument('<id>', 'workflow id')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      await withClient(program.opts(), async (client) => {
        const s = await runStatus(client, id);
        process.stdout.write(o.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatStatus(s)}\n`);
      });
    });

  program
    .command('reply')
    .description('answer an escalated run: guidance text, "cancel", or "take over"')
    .argument('<id>', 'workflow id')
    .argument('<text>', 'the reply')
    .action(async (id: string, text: string) => {
      await withClient(program.opts(), (client) => replyToRun(client, id, { text, author: userInfo().username }));
      process.stdout.write(`reply sent to ${id}\n`);
    });

  program
    .command('approve')
    .description('approve the change a run is holding for approval (risky paths, size): it is pushed')
    .argument('<id>', 'workflow id')
    .action(async (id: string) => {
      await withClient(program.opts(), (client) => answerApproval(client, id, { decision: 'approve', by: userInfo().username }));
      process.stdout.write(`approval sent to ${id}\n`);
    });

  program
    .command('reject')
    .description('reject the change a run is holding for approval: nothing is pushed, the run asks for guidance')
    .argument('<id>', 'workflow id')
    .argument('[why]', 'the reason, shown in the run\'s escalation')
    .action(async (id: string, why?: string) => {
      await withClient(program.opts(), (client) => answerApproval(client, id, { decision: 'reject', by: userInfo().username, reason: why }));
      process.stdout.write(`rejection sent to ${id}\n`);
    });

  program
    .command('cancel')
    .description('stop a run now')
    .argument('<id>', 'workflow id')
    .action(async (id: string) => {
      await withClient(program.opts(), (client) => cancelRun(client, id, userInfo().username, 'cancelled from the CLI'));
      process.stdout.write(`cancel sent to ${id}\n`);
    });

  registerEnvCommands(program, () => load(program.opts()));
  registerDigestCommand(program, () => load(program.opts()));
  registerReportCommand(program, () => load(program.opts()));
  registerRunsCommands(program, () => load(program.opts()));
  registerQueueCommand(program, () => load(program.opts()));
  registerEvalCommand(program);

  return program;
}

