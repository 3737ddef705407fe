#!/usr/bin/env node
// The fault matrix (test/faults/): runs `node scripts/run-tests.mjs faults` with every row on
// (NIGHTSHIFT_FAULTS_FULL=1: the worker-SIGKILL rows and the 15-minute hanging test run too),
// the rows recorded to one JSONL file ($NIGHTSHIFT_FAULT_TABLE, else a fresh temp file), then
// prints the whole table in Markdown (the README's "Fault matrix" shows it). Exits with the
// test run's code. The dockerd-restart row runs only with NIGHTSHIFT_FAULTS_DOCKERD=1 (it
// restarts the machine's Docker engine).
// Usage: node scripts/fault-table.mjs [substring …]   (default: faults)
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const table = process.env.NIGHTSHIFT_FAULT_TABLE ?? join(mkdtempSync(join(tmpdir(), 'nightshift-fault-table-')), 'rows.jsonl');
const filters = process.argv.slice(2);
const child = spawn(process.execPath, [join(root, 'scripts', 'run-tests.mjs'), ...(filters.length ? filters : ['faults/'])], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, NIGHTSHIFT_FAULT_TABLE: table, NIGHTSHIFT_FAULTS_FULL: '1', NIGHTSHIFT_TEST_FILE_TIMEOUT_MS: process.env.NIGHTSHIFT_TEST_FILE_TIMEOUT_MS ?? '2700000' },
});
const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
const { readRows, renderTable } = await import(join(root, 'dist', 'test', 'faults', 'matrix.js'));
const rows = readRows(table);
console.log(`\n## Fault matrix (${rows.length} rows, ${rows.filter((r) => r.held).length} hold; rows in ${table})\n`);
console.log(renderTable(rows));
process.exit(code);
