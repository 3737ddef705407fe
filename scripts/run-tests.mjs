#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's test runner, one file at a
// time: the integration tests share one Docker engine and sandbox network.
// Usage: node scripts/run-tests.mjs [substring …]   (only files whose path contains one of them)
//
// A test that hangs fails instead: each file has a wall-clock limit ($NIGHTSHIFT_TEST_FILE_TIMEOUT_MS,
// default 10 min; node's --test-timeout applies per file), after which its process is killed and the
// file reported as cancelled; and a file whose tests have all finished exits even if something it
// started is still alive (--test-force-exit: e.g. a worker left polling a server that was torn down).
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist', 'test');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
// Unit tests first (fast feedback), then the rest.
const files = walk(dist)
  .filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)))
  .sort((a, b) => Number(!a.includes('/unit/')) - Number(!b.includes('/unit/')) || a.localeCompare(b));
if (files.length === 0) {
  console.error(`no test files matched ${filters.join(', ') || '(all)'} under ${relative(root, dist)}`);
  process.exit(1);
}
const fileTimeoutMs = Number(process.env.NIGHTSHIFT_TEST_FILE_TIMEOUT_MS ?? 600_000);
if (!Number.isInteger(fileTimeoutMs) || fileTimeoutMs <= 0) {
  console.error(`NIGHTSHIFT_TEST_FILE_TIMEOUT_MS must be a positive integer (ms), not ${process.env.NIGHTSHIFT_TEST_FILE_TIMEOUT_MS}`);
  process.exit(2);
}
// TAP goes through as it comes; the failures are listed again at the end, where a CI log's tail shows them.
const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=1', '--test-force-exit', `--test-timeout=${fileTimeoutMs}`, ...files],
  { stdio: ['inherit', 'pipe', 'inherit'], cwd: root },
);
const failing = [];
const started = Date.now();
createInterface({ input: child.stdout }).on('line', (line) => {
  process.stdout.write(`${line}\n`);
  const m = /^(\s*)not ok \d+ - (.*)$/.exec(line);
  if (m) failing.push(`${m[1]}${m[2]}`);
});
const [code, signal] = await new Promise((resolve) => child.on('close', (c, s) => resolve([c, s])));
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
if (failing.length > 0) console.log(`\n# ${failing.length} failing (indented: a subtest of the line above; a file path: its process timed out or crashed):\n${failing.map((f) => `#   ${f}`).join('\n')}`);
console.log(`# ${files.length} test files in ${minutes} min: ${code === 0 ? 'passed' : `failed (exit ${code ?? signal})`}`);
process.exit(code ?? 1);
