/**
 * The command line, as a user runs it: `nightshift dev` starts the Temporal CLI dev server with
 * its database under the state directory, a worker and the webhook receiver; `nightshift submit
 * --wait` runs a task to a PR; `nightshift status` reads it; after `nightshift dev` is stopped and
 * started again, the run's history is still there.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { FakeGitHub } from '../../devstack/github.js';
import { ScriptedModelServer } from '../../devstack/scriptedModel.js';
import { CALCULATOR_TESTS, fixCalculatorScript } from '../../devstack/scripts.js';
import { GITHUB_REPO, GITHUB_TOKEN, makeExampleRemote, STACK_PRICES } from '../../devstack/stack.js';
import { freePort } from '../../devstack/net.js';
import { repoRoot } from '../helpers/paths.js';

const exec = promisify(execFile);
const CLI = join(repoRoot(), 'dist', 'worker', 'cli.js');

/** Starts `nightshift dev` and resolves once it says it is running. */
function startDev(configFile: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, '--config', configFile, 'dev'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`nightshift dev did not start:\n${err.slice(-3000)}`)), 90_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Nightshift is running')) {
        clearTimeout(timer);
        resolve({ child, stderr: () => err });
      }
    });
    child.once('exit', (code) => reject(new Error(`nightshift dev exited with ${code}:\n${err.slice(-3000)}`)));
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

describe('nightshift CLI', { timeout: 600_000 }, () => {
  test('dev + submit --wait + status; history survives a restart of dev', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nightshift-cli-'));
    const bare = await makeExampleRemote(dir);
    const model = new ScriptedModelServer({ script: fixCalculatorScript() });
    await model.start();
    const github = new FakeGitHub({ [GITHUB_REPO]: bare }, { token: GITHUB_TOKEN });
    await github.start();
    const configFile = join(dir, 'nightshift.config.yaml');
    const stateDir = join(dir, 'state');
    await writeFile(
      configFile,
      [
        `stateDir: ${stateDir}`,
        'temporal:',
        `  devServerPort: ${await freePort()}`,
        'http:',
        '  port: 0',
        'gateway:',
        `  upstreams: { anthropic: "${model.url}", openai: "${model.url}" }`,
        `  prices: ${JSON.stringify(STACK_PRICES)}`,
        'github:',
        `  apiUrl: "${github.url}"`,
        'repos:',
        '  calculator:',
        `    url: ${bare}`,
        `    github: ${GITHUB_REPO}`,
        `    testCommand: ${CALCULATOR_TESTS}`,
        '    budget: { minutes: 10, tokens: 2000000, usd: 2 }',
        '',
      ].join('\n'),
    );
    const env = { ...process.env, GITHUB_TOKEN, LOG_LEVEL: 'info' };
    const cli = (...args: string[]) => exec(process.execPath, [CLI, '--config', configFile, ...args], { env, timeout: 300_000 });
    let dev = await startDev(configFile, env);
    try {
      assert.ok(existsSync(join(stateDir, 'temporal.db')), 'the dev server keeps its database under the state directory');
      const submitted = await cli('submit', '--repo', 'calculator', '--wait', 'Fix add() in calc.py: it subtracts. Done when python3 -m unittest passes.');
      const [id, ...json] = submitted.stdout.trim().split('\n');
      assert.match(id!, /^cli-[0-9a-f-]{36}$/);
      const outcome = JSON.parse(json.join('\n')) as { kind: string; prUrl?: string; spend: { usd: number } };
      assert.equal(outcome.kind, 'pr_opened');
      assert.match(outcome.prUrl ?? '', /\/acme\/calculator\/pull\/1$/);
      assert.ok(outcome.spend.usd > 0);

      const status = await cli('status', id!);
      assert.match(status.stdout, /phase\s+done \(pr_opened\)/);
      assert.match(status.stdout, /pr\s+.*\/pull\/1/);
      assert.match(status.stdout, /Pull request opened/);

      // Bad input: an unknown repository is refused by scoping, and the CLI origin gets the message.
      const refused = await cli('submit', '--repo', 'nope', '--wait', 'Fix something somewhere please');
      assert.match(refused.stdout, /"kind": "rejected"/);
      assert.match(refused.stdout, /unknown repository \\"nope\\"/);

      // Stop dev and start it again: the run is still there (SQLite under the state directory).
      assert.equal(await stop(dev.child), 0, 'nightshift dev stops cleanly on SIGTERM');
      dev = await startDev(configFile, env);
      const again = await cli('status', '--json', id!);
      const s = JSON.parse(again.stdout) as { phase: string; outcome: { kind: string } };
      assert.equal(s.phase, 'done');
      assert.equal(s.outcome.kind, 'pr_opened');
    } catch (err) {
      process.stderr.write(`--- nightshift dev log (tail) ---\n${dev.stderr().slice(-4000)}\n`);
      throw err;
    } finally {
      await stop(dev.child);
      await model.stop();
      await github.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a bad configuration names the bad key and exits 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nightshift-cli-'));
    const configFile = join(dir, 'bad.yaml');
    await writeFile(configFile, 'gateway: { prices: {} }\nrepos:\n  web: { url: x, github: nope, testCommand: t, budget: { minutes: 1, tokens: 1, usd: 0 } }\n');
    await assert.rejects(exec(process.execPath, [CLI, '--config', configFile, 'status', 'x']), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr ?? '', /repos\.web\.github: expected "owner\/name"/);
      assert.match(err.stderr ?? '', /repos\.web\.budget\.usd/);
      return true;
    });
    await rm(dir, { recursive: true, force: true });
  });
});
