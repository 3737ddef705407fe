#!/usr/bin/env node
// Runs the compiled benchmarks (dist/bench/*.bench.js) one after the other, each in its own Node
// process, or only those named on the command line (`budgetOverrun`, `budgetOverrun.bench`,
// `bench/budgetOverrun.bench.ts` and `dist/bench/budgetOverrun.bench.js` all name the same one).
// Benchmarks print figures; a benchmark that crashes is reported and makes the exit code 1, a
// target that is not met does not.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'dist', 'bench');
if (!existsSync(dir)) {
  console.error(`run-bench: ${dir} not found; build first (npm run build)`);
  process.exit(1);
}
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.js'))
  .sort();
const nameOf = (arg) => basename(arg).replace(/\.(ts|js)$/, '').replace(/\.bench$/, '') + '.bench.js';
const wanted = process.argv.slice(2);
const files = wanted.length ? wanted.map(nameOf) : all;
const unknown = files.filter((f) => !all.includes(f));
if (unknown.length) {
  console.error(`run-bench: no such benchmark: ${unknown.join(', ')} (have: ${all.join(', ')})`);
  process.exit(1);
}

let failed = 0;
for (const f of files) {
  console.log(`\n### ${f}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--enable-source-maps', join(dir, f)], { cwd: root, stdio: 'inherit', env: process.env });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    failed++;
    console.log(`### ${f}: crashed (${r.signal ?? `exit ${r.status}`}) after ${secs} s`);
  } else {
    console.log(`### ${f}: done in ${secs} s`);
  }
}
process.exit(failed ? 1 : 0);
