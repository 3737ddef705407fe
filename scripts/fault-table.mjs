#!/usr/bin/env node
// The fault matrix (test/faults/): runs every fault test file with every row on
// (NIGHTSHIFT_FAULTS_FULL=1: the slow rows, the worker-SIGKILL rows and the 15-minute hanging
// test run too), the rows recorded to one JSONL file ($NIGHTSHIFT_FAULT_TABLE, else a fresh temp
// file), then prints the whole table in Markdown (the README's "Fault matrix" shows it). The
// hanging-test row (testsHang: 16 minutes of a test container sleeping) runs beside the others,
// each through scripts/run-tests.mjs; exits non-zero when either run failed. The dockerd-restart
// row runs only with NIGHTSHIFT_FAULTS_DOCKERD=1 (it restarts the machine's Docker engine).
// Usage: node scripts/fault-table.mjs [substring …]   (default: every file under dist/test/faults)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const table = process.env.NIGHTSHIFT_FAULT_TABLE ?? join(mkdtempSync(join(tmpdir(), 'nightshift-fault-table-')), 'rows.jsonl');
const dir = join(root, 'dist', 'test', 'faults');
if (!existsSync(dir)) {
  console.error(`no ${relative(root, dir)}: run npm run build first`);
  process.exit(2);
}
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test.js'))
  .map((f) => relative(root, join(dir, f)))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
const HANG = 'testsHang.test.js';
const groups = [files.filter((f) => !f.endsWith(HANG)), files.filter((f) => f.endsWith(HANG))].filter((g) => g.length > 0);
const env = { ...process.env, NIGHTSHIFT_FAULT_TABLE: table, NIGHTSHIFT_FAULTS_FULL: '1', NIGHTSHIFT_TEST_FILE_TIMEOUT_MS: process.env.NIGHTSHIFT_TEST_FILE_TIMEOUT_MS ?? '3600000' };
const codes = await Promise.all(
  groups.map(
    (g) =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [join(root, 'scripts', 'run-tests.mjs'), ...g], { stdio: 'inherit', cwd: root, env });
        child.on('close', (c) => resolve(c ?? 1));
      }),
  ),
);
const { readRows, renderTable } = await import(join(root, 'dist', 'test', 'faults', 'matrix.js'));
const rows = readRows(table);
console.log(`\n## Fault matrix (${rows.length} rows, ${rows.filter((r) => r.held).length} hold; rows in ${table})\n`);
console.log(renderTable(rows));
process.exit(codes.find((c) => c !== 0) ?? 0);
