import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { startDevServer } from '../../worker/temporal.js';
import { ensureWorkflowBundle, isBundleFresh, WorkflowBundleError } from '../../worker/workflowBundle.js';
import { repoRoot } from '../helpers/paths.js';

// Under the repository, so that the bundler resolves @temporalio/workflow from node_modules.
const dir = join(repoRoot(), 'dist', 'test', `.bundle-tmp-${process.pid}`);
mkdirSync(dir, { recursive: true });
after(() => rmSync(dir, { recursive: true, force: true }));

const entry = join(dir, 'wf.js');
const helper = join(dir, 'helper.js');
const out = join(dir, 'out', 'bundle.js');
writeFileSync(helper, `export const greeting = (n) => 'hello ' + n;\n`);
writeFileSync(entry, `import { greeting } from './helper.js';\nexport async function greet(n) { return greeting(n); }\n`);

test('the bundle is built once by a child process, reused while fresh, rebuilt when an imported file changes', { timeout: 120_000 }, async () => {
  assert.equal(isBundleFresh(entry, out), false, 'no bundle yet');
  const first = await ensureWorkflowBundle({ entry, outPath: out });
  assert.deepEqual(first, { codePath: out, built: true });
  assert.ok(existsSync(out) && existsSync(`${out}.json`));
  const builtAt = statSync(out).mtimeMs;

  const again = await ensureWorkflowBundle({ entry, outPath: out });
  assert.equal(again.built, false, 'fresh: reused');
  assert.equal(statSync(out).mtimeMs, builtAt);

  // A change to a file the entry imports (not the entry itself) makes it stale.
  writeFileSync(helper, `export const greeting = (n) => 'hi ' + n;\n`);
  assert.equal(isBundleFresh(entry, out), false);
  assert.equal((await ensureWorkflowBundle({ entry, outPath: out })).built, true);
  assert.equal(isBundleFresh(entry, out), true);
  // Rewritten with the same content (as every tsc build does): still fresh.
  writeFileSync(helper, `export const greeting = (n) => 'hi ' + n;\n`);
  assert.equal(isBundleFresh(entry, out), true);
  // A bundle of another entry is not this one's.
  assert.equal(isBundleFresh(helper, out), false);
});

test('a workflow entry that cannot be bundled is a typed error, and leaves no bundle', { timeout: 120_000 }, async () => {
  const bad = join(dir, 'bad.js');
  writeFileSync(bad, `import { nothing } from './missing-module.js';\nexport async function w() { return nothing; }\n`);
  const badOut = join(dir, 'out', 'bad.js');
  await assert.rejects(ensureWorkflowBundle({ entry: bad, outPath: badOut }), (err: unknown) => {
    assert.ok(err instanceof WorkflowBundleError);
    assert.equal(err.code, 'BUNDLE_CHILD_FAILED');
    assert.equal(err.details.exitCode, 1);
    assert.match(err.details.stderr ?? '', /missing-module/);
    return true;
  });
  assert.equal(existsSync(badOut), false);
});

test('a worker loads the cached bundle by path and runs its workflow', { timeout: 120_000 }, async () => {
  const { codePath } = await ensureWorkflowBundle({ entry, outPath: out });
  const env = await startDevServer({});
  try {
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'bundle-test', workflowBundle: { codePath } });
    const result = await worker.runUntil(env.client.workflow.execute('greet', { taskQueue: 'bundle-test', workflowId: `greet-${process.pid}`, args: ['night'] }));
    assert.equal(result, 'hi night');
  } finally {
    await env.teardown();
  }
});
