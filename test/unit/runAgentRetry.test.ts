/**
 * A retried `runAgent` (after a worker crash, or a failure after the agent ended) picks up from
 * its heartbeat details: the wall clock goes on from the first try, and an agent that already
 * finished is never run again — only the diff is taken.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { runners } from '../../activities/agents/runner.js';
import { prepareRepo } from '../../activities/git.js';
import { runAgentAttempt, type GatewayPort, type RunAgentDeps } from '../../activities/runAgent.js';
import type { SandboxManager } from '../../activities/sandbox.js';
import type { RunAgentInput } from '../../workflows/activityTypes.js';
import { ZERO_SPEND, type AttemptRecord } from '../../workflows/types.js';
import { parseConfig } from '../../worker/config.js';
import { createRootLogger } from '../../worker/logger.js';
import { seededRemote } from '../helpers/gitRemote.js';

const config = parseConfig({ gateway: { prices: {} }, repos: { r: { url: 'x', github: 'a/b', testCommand: 't', budget: { minutes: 1, tokens: 1, usd: 1 } } } });
let dir: string;
let input: RunAgentInput;
let started = 0;

/** A sandbox that records starts and never runs anything (a start here is the bug under test). */
const sandbox = {
  settings: config.sandbox,
  removeRunContainers: async () => 0,
  assertIsolated: async () => undefined,
  start: async () => {
    started++;
    throw new Error('the agent must not start');
  },
} as unknown as SandboxManager;

const gateway: GatewayPort = {
  openRun: () => ({ token: 'tok-retry-test-0123456789' }),
  spend: () => ZERO_SPEND,
  breach: () => undefined,
  lastUpstreamError: () => undefined,
  closeRun: () => ZERO_SPEND,
};

const deps: RunAgentDeps = { sandbox, gateway, gatewayUrl: 'http://127.0.0.1:1', runners, stuck: config.stuck, logger: createRootLogger('silent') };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nightshift-retry-'));
  const remote = await seededRemote(dir);
  const repo = { gitDir: join(dir, 'w.git'), workTree: join(dir, 'w') };
  const baseSha = await prepareRepo(remote, 'main', repo);
  input = {
    workflowId: 'cli-retry',
    attempt: 1,
    plan: { agent: 'claude-code', model: 'claude-sonnet-4-5', image: 'none', testCommand: 'true', agentEgress: [] } as unknown as RunAgentInput['plan'],
    workspace: { path: repo.workTree, gitDir: repo.gitDir, baseSha },
    prompt: 'p',
    limits: { wallClockMs: 60_000, tokens: 1000, usd: 1 },
  };
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runAgent retried', () => {
  test('an agent that finished in an earlier try is not run again: the retry only diffs', async () => {
    await writeFile(join(input.workspace.path, 'a.txt'), 'changed by the agent\n');
    const finished = {
      attempt: 1,
      end: 'agent_exited' as const,
      agent: 'claude-code' as const,
      model: 'claude-sonnet-4-5',
      finalMessage: 'done',
      exitCode: 0,
      spend: { ...ZERO_SPEND, tokens: 1234, usd: 0.05, requests: 3 },
      durationMs: 42_000,
      commands: [],
      lastEvents: ['Edit a.txt'],
    };
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { spend: finished.spend, startedAt: Date.now() - 42_000, finished } });
    const record: AttemptRecord = await env.run(runAgentAttempt, deps, input);
    assert.equal(started, 0);
    assert.deepEqual(record.filesChanged, ['a.txt']);
    assert.equal(record.spend.tokens, 1234, 'the first try\'s spend is the attempt\'s');
    assert.equal(record.finalMessage, 'done');
  });

  test('the wall clock goes on from the first try: a retry with no time left ends on its time budget without a container', async () => {
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { spend: ZERO_SPEND, startedAt: Date.now() - 61_000 } });
    const record: AttemptRecord = await env.run(runAgentAttempt, deps, input);
    assert.equal(started, 0);
    assert.equal(record.end, 'budget');
    assert.equal(record.budget?.kind, 'time');
    assert.ok((record.budget?.spent ?? 0) >= 61_000, `time spent counts the first try: ${record.budget?.spent}`);
  });

  test('a first try with time left does start the agent (the fake refuses, so it fails)', async () => {
    const env = new MockActivityEnvironment({ attempt: 1 });
    await assert.rejects(env.run(runAgentAttempt, deps, input), /the agent must not start/);
    assert.equal(started, 1);
  });
});
