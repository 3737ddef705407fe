import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { WorkspaceWatcher } from '../../activities/stuck.js';

const temps: string[] = [];
after(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ns-watch-'));
  temps.push(d);
  return d;
}

test('a shell edit (sed -i), a new file and a deleted file are changes; the first walk is the baseline', async () => {
  const root = tempDir();
  writeFileSync(join(root, 'calc.py'), 'def add(a, b):\n    return a - b\n');
  writeFileSync(join(root, 'old.txt'), 'x');
  const w = new WorkspaceWatcher(root);
  assert.deepEqual(await w.changes(), []);
  assert.deepEqual(await w.changes(), [], 'nothing happened');
  assert.equal(spawnSync('sed', ['-i', 's/a - b/a + b/', 'calc.py'], { cwd: root }).status, 0);
  mkdirSync(join(root, 'src'));
  writeFileSync(join(root, 'src', 'new.py'), 'y');
  rmSync(join(root, 'old.txt'));
  assert.deepEqual(await w.changes(), ['calc.py', 'old.txt', 'src/new.py']);
  assert.equal(w.disabled, undefined);
});

test('identical bytes rewritten are not a change once the content is known; caches and .git are not watched', async () => {
  const root = tempDir();
  writeFileSync(join(root, 'a.ts'), 'one');
  const w = new WorkspaceWatcher(root);
  await w.changes();
  writeFileSync(join(root, 'a.ts'), 'two');
  assert.deepEqual(await w.changes(), ['a.ts']);
  writeFileSync(join(root, 'a.ts'), 'two');
  utimesSync(join(root, 'a.ts'), new Date(), new Date(Date.now() + 5000));
  assert.deepEqual(await w.changes(), [], 'same content, new mtime');
  for (const dir of ['.git', 'node_modules/x', '__pycache__', '.pytest_cache/v', 'dist']) {
    mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, dir, 'f'), String(Math.random()));
  }
  writeFileSync(join(root, 'run.log'), 'log');
  writeFileSync(join(root, 'm.pyc'), 'pyc');
  assert.deepEqual(await w.changes(), []);
});

test('symbolic links are recorded as links and never followed out of the workspace', async () => {
  const root = tempDir();
  const outside = tempDir();
  writeFileSync(join(outside, 'secret.txt'), 'a');
  symlinkSync(outside, join(root, 'out'));
  symlinkSync(join(outside, 'secret.txt'), join(root, 'file-link'));
  const w = new WorkspaceWatcher(root);
  await w.changes();
  writeFileSync(join(outside, 'secret.txt'), 'changed outside');
  writeFileSync(join(outside, 'another.txt'), 'b');
  assert.deepEqual(await w.changes(), [], 'what the links point to is not watched');
  rmSync(join(root, 'out'));
  symlinkSync(tempDir(), join(root, 'out'));
  assert.deepEqual(await w.changes(), ['out'], 'the link itself is');
});

test('bounded: past maxEntries the watcher disables itself; an unreadable root too', async () => {
  const root = tempDir();
  for (let i = 0; i < 20; i++) writeFileSync(join(root, `f${i}`), '');
  const w = new WorkspaceWatcher(root, { maxEntries: 10 });
  assert.deepEqual(await w.changes(), []);
  assert.match(w.disabled ?? '', /more than 10 entries/);
  writeFileSync(join(root, 'f0'), 'x');
  assert.deepEqual(await w.changes(), []);
  const gone = new WorkspaceWatcher(join(root, 'missing'));
  assert.deepEqual(await gone.changes(), []);
  assert.match(gone.disabled ?? '', /workspace unreadable: ENOENT/);
});

test('cost on a 10 000-file tree (printed): one walk stays well under a second', async (t) => {
  const root = tempDir();
  for (let d = 0; d < 100; d++) {
    mkdirSync(join(root, `pkg${d}`, 'src'), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(root, `pkg${d}`, 'src', `m${f}.ts`), `export const v${f} = ${d};\n`);
  }
  const w = new WorkspaceWatcher(root);
  let t0 = performance.now();
  await w.changes();
  const baseline = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    t0 = performance.now();
    assert.deepEqual(await w.changes(), []);
    times.push(performance.now() - t0);
  }
  writeFileSync(join(root, 'pkg7', 'src', 'm7.ts'), 'changed\n');
  t0 = performance.now();
  assert.deepEqual(await w.changes(), ['pkg7/src/m7.ts']);
  const withChange = performance.now() - t0;
  times.sort((a, b) => a - b);
  t.diagnostic(`10 000 files / 200 dirs: baseline ${baseline.toFixed(0)} ms, no-change walk median ${times[2]!.toFixed(0)} ms (max ${times[4]!.toFixed(0)}), walk with one change ${withChange.toFixed(0)} ms`);
  assert.ok(times[2]! < 1000, `median walk ${times[2]} ms`);
});
