/**
 * Records workflow histories of the `agentTask` workflow as it is built in THIS tree, for the
 * replay test (test/workflow/replay.test.ts): run it on version N before changing the workflow,
 * commit the histories, and every later version must replay them without a determinism error —
 * which is what a worker upgrade does to runs that wait for days.
 *
 *   npm run build && node dist/test/helpers/recordHistories.js <out dir> <label>
 *
 * Each scenario drives one path with activity doubles (no Docker, no model): a PR at once; an
 * escalation answered with guidance, then a PR; a passing attempt stopped by its time budget; a
 * cancel during delivery; a reply sent before any escalation, then "take over".
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { bundleWorkflowCode } from '@temporalio/worker';
import { agentTask, cancelSignal, humanReplySignal, statusQuery } from '../../workflows/index.js';
import protos from '@temporalio/proto';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { withRunWorkers } from './runWorkers.js';

/** The Temporal API's generated protobuf classes (a CommonJS module). */
const { temporal } = protos;

const plan = {
  repo: 'calculator',
  url: '/tmp/none',
  github: 'acme/calculator',
  defaultBranch: 'main',
  agent: 'claude-code',
  model: 'claude-sonnet-4-5',
  image: 'nightshift/claude-code:latest',
  testCommand: 'python3 -m unittest',
  budget: { wallClockMs: 600_000, tokens: 100_000, usd: 1 },
  maxAttempts: 1,
  risk: 'low',
  riskReasons: [],
  riskyPaths: [],
  testChangesPolicy: 'escalate',
  slug: 'fix-add-abc123',
  escalationWaitMs: 3_600_000,
  agentEgress: [],
};
const req = { source: { kind: 'cli' }, requester: 'dev', repo: 'calculator', title: 'Fix add()', task: 'Fix add() so test_add passes.' };
const spend = { tokens: 1000, inputTokens: 900, outputTokens: 100, cacheReadTokens: 0, cacheWriteTokens: 0, usd: 0.01, requests: 2 };

interface Scenario {
  name: string;
  /** Validation verdicts after `before`, in order. */
  validations: boolean[];
  attemptEnd?: { end: string; budget?: unknown };
  deliverMs?: number;
  drive: (h: Awaited<ReturnType<ReturnType<typeof clientOf>['workflow']['start']>>, calls: string[]) => Promise<void>;
}

const clientOf = (env: Awaited<ReturnType<typeof startDevServer>>) => env.client;

async function waitFor(pred: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not reached');
}

const scenarios: Scenario[] = [
  { name: 'pr-at-once', validations: [true], drive: async () => undefined },
  {
    name: 'escalation-guidance-pr',
    validations: [false, true],
    drive: async (h) => {
      await waitFor(async () => (await h.query(statusQuery)).phase === 'awaiting_human');
      await h.signal(humanReplySignal, { text: 'The bug is the minus sign in add().', author: 'oncall' });
    },
  },
  {
    name: 'passing-attempt-stopped-by-time',
    validations: [true],
    attemptEnd: { end: 'budget', budget: { kind: 'time', spent: 600_000, cap: 600_000 } },
    drive: async (h) => {
      // Version 0 escalates here; later versions deliver. Either way the run ends.
      await waitFor(async () => ['awaiting_human', 'done'].includes((await h.query(statusQuery)).phase));
      if ((await h.query(statusQuery)).phase === 'awaiting_human') await h.signal(cancelSignal, { by: 'recorder' });
    },
  },
  {
    name: 'cancel-during-delivery',
    validations: [true],
    deliverMs: 1500,
    drive: async (h, calls) => {
      await waitFor(async () => calls.includes('deliver'));
      await h.signal(cancelSignal, { by: 'pm', reason: 'changed my mind' });
    },
  },
  {
    name: 'early-reply-then-take-over',
    validations: [false],
    drive: async (h) => {
      await waitFor(async () => ['running_agent', 'validating'].includes((await h.query(statusQuery)).phase));
      await h.signal(humanReplySignal, { text: 'take over', author: 'early' });
      await waitFor(async () => ['awaiting_human', 'done'].includes((await h.query(statusQuery)).phase));
      if ((await h.query(statusQuery)).phase === 'awaiting_human') await h.signal(humanReplySignal, { text: 'take over', author: 'oncall' });
    },
  },
];

/** Activity doubles that compile against every version's Activities (extra ones are harmless). */
function activities(s: Scenario, calls: string[]): Record<string, (...args: never[]) => Promise<unknown>> {
  let v = 0;
  return {
    scopeTask: async () => ({ ok: true, plan }),
    prepareWorkspace: async () => ({ path: '/tmp/ws', gitDir: '/tmp/ws.git', baseSha: 'abc' }),
    prepareEnvironment: async () => ({ image: plan.image, key: 'k', source: 'default', cached: true, setup: [], seed: [], prepareMs: 1 }),
    runTests: async (input: { label: string }) => {
      const passed = input.label === 'before' ? false : (s.validations[v++] ?? false);
      return { passed, exitCode: passed ? 0 : 1, outputTail: passed ? 'OK' : 'FAIL: test_add', failingTests: passed ? [] : ['test_calc.CalcTest.test_add'], durationMs: 10, command: plan.testCommand };
    },
    runAgent: async (input: { attempt: number }) => {
      calls.push(`agent:${input.attempt}`);
      await new Promise((r) => setTimeout(r, 300));
      return {
        attempt: input.attempt,
        end: s.attemptEnd?.end ?? 'agent_exited',
        budget: s.attemptEnd?.budget,
        agent: 'claude-code',
        model: plan.model,
        finalMessage: 'done',
        exitCode: 0,
        spend,
        durationMs: 1000,
        diffStat: ' calc.py | 2 +-',
        filesChanged: ['calc.py'],
        commands: [],
        lastEvents: [],
      };
    },
    reviewChanges: async () => ({ files: [{ path: 'calc.py', status: 'modified', added: 1, removed: 1 }], totals: { files: 1, lines: 2 }, findings: [], testChanges: [], treeSha: 'tree1' }),
    deliver: async () => {
      calls.push('deliver');
      for (let t = 0; t < (s.deliverMs ?? 0); t += 100) {
        Context.current().heartbeat();
        await new Promise((r) => setTimeout(r, 100));
      }
      return { prUrl: 'https://github.com/acme/calculator/pull/1', prNumber: 1, branch: 'nightshift/fix-add-abc123', commitSha: 'def', created: true };
    },
    pushWip: async () => ({ branch: 'nightshift/fix-add-abc123-wip', commitSha: 'wip' }),
    notify: async () => undefined,
    cleanup: async () => undefined,
  };
}

async function main(): Promise<void> {
  const [out = 'histories', label = 'vN'] = process.argv.slice(2);
  await mkdir(out, { recursive: true });
  const env = await startDevServer({});
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  try {
    for (const s of scenarios) {
      const calls: string[] = [];
      // The run's side activities (queue, slot, ledger, Linear, assessment) are the shared doubles.
      await withRunWorkers({ connection: env.nativeConnection, client: env.client, bundle }, activities(s, calls) as never, async (taskQueue) => {
        const h = await env.client.workflow.start(agentTask, { taskQueue, workflowId: `cli-${randomUUID()}`, args: [req as never] });
        await s.drive(h, calls);
        const outcome = await h.result();
        // Binary protobuf (temporal.api.history.v1.History): replayed as is, with no JSON
        // conversion (the SDK's JSON reader needs one protobufjs copy, which this install lacks).
        const history = await h.fetchHistory();
        await writeFile(join(out, `${label}-${s.name}.binpb`), temporal.api.history.v1.History.encode(history).finish());
        process.stdout.write(`${s.name}: ${outcome.kind} (${history.events?.length ?? 0} events)\n`);
      });
    }
  } finally {
    await env.teardown();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
