/**
 * Fault matrix, the workspace: the clone fails (a URL with no repository; a Git server that
 * refuses the credentials), the workspace directory's disk is full (a 1 MiB tmpfs mounted over
 * `<stateDir>/workspaces`, filled); a test command that hangs: testsHang.test.ts. The
 * auth-refused row runs with NIGHTSHIFT_FAULTS_FULL=1 (`npm run test:faults`). Each row: one message at
 * the origin saying what happened, no PR, no container, the spend (none: no model turn) in the
 * ledger.
 */
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { run } from '../../activities/exec.js';
import { fixCalculatorScript } from '../../devstack/scripts.js';
import { LocalStack, type LocalStackOptions } from '../../devstack/stack.js';
import { startDevServer } from '../../worker/temporal.js';
import { WORKFLOWS_PATH } from '../../worker/worker.js';
import { assertRow, renderTable, type FaultRow } from './matrix.js';
import { observeStack, settleRun, startLinearRun } from './stackRun.js';

let temporal: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
const rows: FaultRow[] = [];
const full = process.env.NIGHTSHIFT_FAULTS_FULL === '1';

before(async () => {
  temporal = await startDevServer({});
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
});
after(async () => {
  if (rows.length > 0) process.stdout.write(`\n# Fault matrix: workspace\n${renderTable(rows).replace(/^/gm, '# ')}\n`);
  await temporal?.teardown();
});

/** A Git smart-HTTP server that refuses every request with 401 (the credentials are refused). */
async function refusingGitServer(): Promise<{ url: string; server: Server; requests: number }> {
  const state = { requests: 0 };
  const server = createServer((req, res) => {
    state.requests++;
    res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"', 'content-type': 'text/plain' }).end('Invalid username or token.\n');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}/acme/calculator.git`, server, get requests() { return state.requests; } };
}

/** One row: a stack with `opts`, a labelled issue, the run settles, the invariants hold. */
async function row(fault: string, phase: string, opts: Partial<LocalStackOptions>, outcome: string[]): Promise<void> {
  const stack = await LocalStack.start({ script: fixCalculatorScript(), temporal, workflowBundle: bundle, ...opts });
  try {
    const started = await startLinearRun(stack);
    const settled = await settleRun(stack, started.workflowId, 1_200_000);
    assertRow(await observeStack(stack, started, fault, phase, settled), { outcome, prs: 0 }, rows);
  } finally {
    await stack.stop();
  }
}

const ENDED = ['failed', 'environment_failed', 'awaiting_human'];

describe('fault matrix: workspace', { timeout: 2_400_000 }, () => {
  test('clone failure, no repository at the URL: one message, no PR, no container', { timeout: 360_000 }, async () => {
    await row('clone: bad URL', 'prepare', { configure: (raw) => void (raw.repos.calculator!.url = '/nonexistent/nightshift-faults/calculator.git') }, ENDED);
  });

  test('clone failure, credentials refused (HTTP 401): one message, no PR, no container', { timeout: 360_000, skip: !full && 'npm run test:faults' }, async () => {
    const git = await refusingGitServer();
    try {
      await row('clone: auth refused (401)', 'prepare', { configure: (raw) => void (raw.repos.calculator!.url = git.url) }, ENDED);
    } finally {
      await new Promise((ok) => git.server.close(ok));
    }
  });

  test('disk full in the workspace directory: one message, no PR, no container', { timeout: 360_000, skip: process.getuid?.() !== 0 && 'mounting a tmpfs needs root' }, async () => {
    const state = await mkdtemp(join(tmpdir(), 'nightshift-faults-disk-'));
    const mount = join(state, 'workspaces');
    await mkdir(mount);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'nightshift-faults', mount]);
    try {
      // Fill it: the clone cannot write a single object.
      await writeFile(join(mount, 'filler'), Buffer.alloc(2 * 1024 * 1024)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOSPC') throw err;
      });
      await row('disk full (workspace dir)', 'prepare', { configure: (raw) => void (raw.stateDir = state) }, ENDED);
    } finally {
      await run('umount', ['-l', mount]).catch(() => undefined);
      await rm(state, { recursive: true, force: true });
    }
  });

});
