#!/usr/bin/env node
// Runs the compiled test files (dist/test/**/*.test.js) with node's test runner, one file at a
// time: the integration tests share one Docker engine and sandbox network.
// Usage: node scripts/run-tests.mjs [substring …]   (only files whose path contains one of them)
import { spawnSync } from 'node:child_process';
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
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
