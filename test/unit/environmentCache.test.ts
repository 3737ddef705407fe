/** The cache policy (age, then least recently used above a size) and the agent layer's variables. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { choosePrunes, type CachedEnvironment } from '../../activities/environment/cache.js';
import { agentEnv, agentLayerDockerfile } from '../../activities/environment/images.js';
import { isSafeSeedPath, parseSeedLine } from '../../activities/environment/setup.js';

const now = new Date('2026-11-30T12:00:00Z');
const env = (key: string, repo: string, daysAgo: number, gb: number): CachedEnvironment => ({
  key,
  image: `nightshift/env:${key}`,
  imageId: `sha256:${key}`,
  repo,
  agent: 'claude-code',
  source: 'config',
  setup: ['npm ci'],
  seed: ['node_modules'],
  createdAt: '2026-01-01T00:00:00Z',
  lastUsedAt: new Date(now.getTime() - daysAgo * 86_400_000).toISOString(),
  ownBytes: gb * 1e9,
  sizeBytes: gb * 1e9 + 1e9,
  setupMs: 1000,
});

describe('environment cache policy', () => {
  const envs = [env('a', 'web', 40, 1), env('b', 'web', 1, 3), env('c', 'api', 5, 3), env('d', 'api', 0, 3)];

  test('unused past the age limit goes first, then the least recently used until under the size limit', () => {
    const out = choosePrunes(envs, { maxTotalBytes: 7e9, maxAgeDays: 30, now });
    assert.deepEqual(out.map((o) => [o.env.key, o.reason]), [['a', 'age'], ['c', 'size']]);
  });

  test('under both limits nothing is removed; the environment just used is kept whatever its age', () => {
    assert.deepEqual(choosePrunes(envs, { maxTotalBytes: 100e9, maxAgeDays: 60, now }), []);
    const out = choosePrunes(envs, { maxTotalBytes: 1e9, maxAgeDays: 30, now, keep: ['d', 'a'] });
    assert.ok(!out.some((o) => o.env.key === 'd' || o.env.key === 'a'));
    assert.deepEqual(out.map((o) => o.env.key), ['c', 'b']);
  });

  test('--all removes every one (of one repository with --repo)', () => {
    assert.equal(choosePrunes(envs, { maxTotalBytes: 1e12, maxAgeDays: 1000, now, all: true }).length, 4);
    assert.deepEqual(choosePrunes(envs, { maxTotalBytes: 1e12, maxAgeDays: 1000, now, all: true, repo: 'api' }).map((o) => o.env.key), ['c', 'd']);
  });
});

describe('agent layer', () => {
  const universal = ['PATH=/opt/venv/bin:/usr/local/go/bin:/usr/local/bin:/usr/bin:/bin', 'GOPATH=/opt/go', 'HOME=/home/agent'];
  const codexImage = ['PATH=/opt/venv/bin:/usr/local/go/bin:/usr/local/bin:/usr/bin:/bin:/opt/codex/codex-path', 'GOPATH=/opt/go', 'HOME=/home/agent', 'CODEX_HOME=/home/agent/.codex'];

  test("carries the agent's own variables and PATH entries onto the base's PATH, not the universal image's", () => {
    const out = agentEnv(codexImage, universal, ['PATH=/usr/local/python/bin:/usr/bin:/bin', 'LANG=C.UTF-8']);
    assert.deepEqual(out, ['CODEX_HOME=/home/agent/.codex', 'PATH=/usr/local/python/bin:/usr/bin:/bin:/opt/codex/codex-path']);
  });

  test('the Dockerfile copies the agent from its image, makes the sandbox user only when missing, ends as uid 1000', () => {
    const d = agentLayerDockerfile({ base: 'mcr.example/devcontainers/base:1', agentImage: 'nightshift/codex:latest', agent: 'codex', env: ['CODEX_HOME=/home/agent/.codex'] });
    assert.match(d, /^FROM mcr\.example\/devcontainers\/base:1$/m);
    assert.match(d, /^COPY --from=nightshift\/codex:latest "\/opt\/codex" "\/opt\/codex"$/m);
    assert.match(d, /^RUN ln -sf \/opt\/codex\/bin\/codex \/usr\/local\/bin\/codex$/m);
    assert.match(d, /\$3 == 1000/);
    assert.match(d, /^ENV CODEX_HOME="\/home\/agent\/\.codex"$/m);
    assert.match(d, /USER 1000:1000\n$/);
  });
});

describe('seed paths printed by a setup container', () => {
  test('relative paths inside /workspace are taken; escapes, absolute paths and control characters are not', () => {
    assert.equal(parseSeedLine('::nightshift::seed ./node_modules'), 'node_modules');
    assert.equal(parseSeedLine('::nightshift::seed ./packages/a/node_modules'), 'packages/a/node_modules');
    assert.equal(parseSeedLine('::nightshift::seed ./../etc'), undefined);
    assert.equal(parseSeedLine('::nightshift::seed ./a/../../x'), undefined);
    assert.equal(parseSeedLine('::nightshift::seed //etc'), undefined);
    assert.equal(parseSeedLine('::nightshift::seed node_modules'), undefined);
    assert.equal(isSafeSeedPath('a\u0001b'), false);
    assert.equal(isSafeSeedPath('.venv'), true);
  });
});
