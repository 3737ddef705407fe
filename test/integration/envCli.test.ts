/**
 * `nightshift env …` as a user runs it, on the real Docker engine and the npm registry:
 * `env check` tells a working environment (tests run and fail: the agent's job) from a broken one
 * (a missing package: exit 2, with the setup line to declare); `env build` a second time comes
 * from the cache; `env list` shows it; `env prune --all` removes it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { fixtureRemote } from '../helpers/fixtureRepo.js';
import { repoRoot } from '../helpers/paths.js';

const exec = promisify(execFile);
const CLI = join(repoRoot(), 'dist', 'worker', 'cli.js');
let dir: string;
let configFile: string;
const name = `cli${randomBytes(3).toString('hex')}`;

/** Runs the CLI; resolves with its exit code and output (never rejects on a non-zero exit). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [CLI, '--config', configFile, ...args], { timeout: 300_000, maxBuffer: 16 << 20 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nightshift-envcli-'));
  const remote = await fixtureRemote(dir, 'node');
  configFile = join(dir, 'nightshift.config.yaml');
  const repo = (extra: string) => `    url: ${remote}\n    github: acme/doubler\n    testCommand: npm test\n    budget: { minutes: 10, tokens: 100000, usd: 1 }\n${extra}`;
  await writeFile(
    configFile,
    `stateDir: ${join(dir, 'state')}\ngateway: { prices: { claude-sonnet-4-5: { input: 3, output: 15 } } }\nrepos:\n  ${name}:\n${repo('    environment: { setup: [npm ci] }\n')}  ${name}-bare:\n${repo('')}`,
  );
});
after(async () => {
  await cli('env', 'prune', '--all', '--repo', name);
  await rm(dir, { recursive: true, force: true });
});

describe('nightshift env', { timeout: 600_000 }, () => {
  test('check: a working environment (tests fail: the agent\'s job) exits 0; a missing package exits 2 and says what to declare', async () => {
    const ok = await cli('env', 'check', name);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /running setup/);
    assert.match(ok.stdout, /seed\s+node_modules/);
    assert.match(ok.stdout, /environment ok: the tests run and fail/);
    assert.match(ok.stdout, /1 passed, 2 failed/);

    const broken = await cli('env', 'check', `${name}-bare`);
    assert.equal(broken.code, 2, broken.stdout + broken.stderr);
    assert.match(broken.stdout, /environment broken: .*is-number/);
    assert.match(broken.stdout, /npm ci/);
    assert.match(broken.stdout, /Cannot find module 'is-number'/);
  });

  test('build again comes from the cache; list shows it; prune --all removes it', async () => {
    const again = await cli('env', 'build', name);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /prepared\s+from the cache/);
    assert.doesNotMatch(again.stdout, /running setup/);

    const list = await cli('env', 'list', '--json');
    const envs = JSON.parse(list.stdout) as Array<{ repo: string; setup: string[]; seed: string[] }>;
    const mine = envs.filter((e) => e.repo === name);
    assert.equal(mine.length, 1);
    assert.deepEqual(mine[0]!.setup, ['npm ci']);
    assert.deepEqual(mine[0]!.seed, ['node_modules']);
    assert.match((await cli('env', 'list')).stdout, new RegExp(`^${name}\\s+claude-code`, 'm'));

    const dry = await cli('env', 'prune', '--all', '--repo', name, '--dry-run');
    assert.match(dry.stdout, /would remove nightshift\/env:/);
    assert.equal(JSON.parse((await cli('env', 'list', '--json')).stdout).filter((e: { repo: string }) => e.repo === name).length, 1, 'a dry run removes nothing');
    const pruned = await cli('env', 'prune', '--all', '--repo', name);
    assert.match(pruned.stdout, /^removed nightshift\/env:/m);
    assert.equal(JSON.parse((await cli('env', 'list', '--json')).stdout).filter((e: { repo: string }) => e.repo === name).length, 0);
  });
});
