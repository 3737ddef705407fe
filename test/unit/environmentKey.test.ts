/**
 * Environment cache key: stable, changes with what the environment depends on (a lock file's blob,
 * the setup, the base image, the agent image), not with other files; image tags follow Docker's grammar.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ENV_KEY_VERSION, envImageTag, environmentKey, isDependencyFile, LOCK_FILES, type EnvironmentKeyInput } from '../../activities/environment/cacheKey.js';
import type { EnvironmentSpec } from '../../activities/environment/spec.js';

const spec: EnvironmentSpec = {
  source: 'config',
  base: { kind: 'agent-image' },
  setup: ['npm ci'],
  env: { NODE_ENV: 'test' },
  setupTimeoutMs: 60_000,
  warnings: [],
  inputs: [],
};
const input: EnvironmentKeyInput = {
  baseImageId: 'sha256:aaaa',
  agentImageId: 'sha256:bbbb',
  agent: 'claude-code',
  spec,
  files: [
    { path: 'package.json', blob: '1111' },
    { path: 'package-lock.json', blob: '2222' },
    { path: 'src/index.js', blob: '3333' },
    { path: 'docker/Dockerfile', blob: '4444' },
  ],
};
const key = environmentKey(input);

describe('environmentKey', () => {
  test('is a sha256 hex digest, stable across calls, file order and object key order', () => {
    assert.match(key, /^[0-9a-f]{64}$/);
    assert.equal(environmentKey(input), key);
    assert.equal(environmentKey({ ...input, files: [...input.files].reverse() }), key);
    assert.equal(environmentKey({ ...input, spec: { inputs: [], warnings: [], setupTimeoutMs: 60_000, env: { NODE_ENV: 'test' }, setup: ['npm ci'], base: { kind: 'agent-image' }, source: 'config' } }), key);
    assert.equal(ENV_KEY_VERSION, 1);
  });

  test('changes when a lock file blob, the setup, env, base image, agent image or agent changes', () => {
    const variants: Record<string, EnvironmentKeyInput> = {
      lockBlob: { ...input, files: input.files.map((f) => (f.path === 'package-lock.json' ? { ...f, blob: '2223' } : f)) },
      lockAdded: { ...input, files: [...input.files, { path: 'api/requirements-dev.txt', blob: '5555' }] },
      lockRemoved: { ...input, files: input.files.filter((f) => f.path !== 'package-lock.json') },
      setup: { ...input, spec: { ...spec, setup: ['npm ci', 'npm run build'] } },
      setupOrder: { ...input, spec: { ...spec, setup: ['npm run build', 'npm ci'] } },
      env: { ...input, spec: { ...spec, env: { NODE_ENV: 'prod' } } },
      base: { ...input, baseImageId: 'sha256:aaab' },
      baseKind: { ...input, spec: { ...spec, base: { kind: 'image', image: 'node:22' } } },
      agentImage: { ...input, agentImageId: 'sha256:bbbc' },
      agent: { ...input, agent: 'codex' },
    };
    const keys = new Set([key]);
    for (const [name, v] of Object.entries(variants)) {
      const k = environmentKey(v);
      assert.notEqual(k, key, name);
      keys.add(k);
    }
    assert.equal(keys.size, Object.keys(variants).length + 1, 'every variant gives its own key');
  });

  test('does not change when a non-dependency file changes, is added or removed, nor with warnings or timeout', () => {
    assert.equal(environmentKey({ ...input, files: input.files.map((f) => (f.path === 'src/index.js' ? { ...f, blob: 'ffff' } : f)) }), key);
    assert.equal(environmentKey({ ...input, files: [...input.files, { path: 'README.md', blob: '9' }, { path: 'node_modules/x/package.json', blob: '8' }] }), key);
    assert.equal(environmentKey({ ...input, files: input.files.filter((f) => f.path !== 'docker/Dockerfile') }), key);
    assert.equal(environmentKey({ ...input, spec: { ...spec, warnings: ['w'], setupTimeoutMs: 1 } }), key);
  });

  test("files under the spec's inputs (a Dockerfile context, the devcontainer dir) count", () => {
    const withInput = { ...input, spec: { ...spec, inputs: ['docker'] } };
    const k = environmentKey(withInput);
    const changed = environmentKey({ ...withInput, files: withInput.files.map((f) => (f.path === 'docker/Dockerfile' ? { ...f, blob: '4445' } : f)) });
    assert.notEqual(changed, k);
    assert.equal(environmentKey({ ...withInput, files: withInput.files.map((f) => (f.path === 'src/index.js' ? { ...f, blob: 'ffff' } : f)) }), k);
    // A prefix that is not a directory boundary does not count.
    assert.equal(environmentKey({ ...withInput, files: [...withInput.files, { path: 'dockerx/a', blob: '1' }] }), k);
  });
});

describe('isDependencyFile', () => {
  test('every listed basename, at any depth', () => {
    for (const name of LOCK_FILES) {
      assert.ok(isDependencyFile(name), name);
      assert.ok(isDependencyFile(`services/api/${name}`), name);
    }
  });

  test('requirements*/constraints* patterns; other files; excluded directories', () => {
    for (const p of ['requirements.txt', 'requirements-dev.txt', 'requirements_test.txt', 'py/requirements.in.txt', 'constraints.txt', 'constraints-3.12.txt']) assert.ok(isDependencyFile(p), p);
    for (const p of ['requirements.in', 'src/requirements.py', 'README.md', 'package.json.bak', 'mypackage.json', 'Cargo.toml.orig', 'docs/go.mod.md']) assert.ok(!isDependencyFile(p), p);
    for (const p of ['node_modules/left-pad/package.json', 'a/node_modules/b/package-lock.json', 'vendor/github.com/x/go.mod', '.git/package.json']) assert.ok(!isDependencyFile(p), p);
  });

  test('covers the ecosystems the issue names', () => {
    for (const p of ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'poetry.lock', 'uv.lock', 'go.sum', 'Cargo.lock', 'Gemfile.lock', 'composer.lock', 'gradle.lockfile', 'rust-toolchain.toml', 'build.gradle.kts', '.tool-versions']) assert.ok(isDependencyFile(p), p);
  });
});

describe('envImageTag', () => {
  const TAG = /^[a-z0-9_][a-z0-9_.-]{0,127}$/;
  const tagOf = (ref: string): string => ref.slice('nightshift/env:'.length);

  test('nightshift/env:<repo>-<agent>-<key[0:16]>', () => {
    assert.equal(envImageTag('demo', 'claude-code', key), `nightshift/env:demo-claude-code-${key.slice(0, 16)}`);
  });

  test("sanitised to Docker's tag grammar, at most 128 characters, the key kept whole", () => {
    for (const repo of ['Acme/Web App', '..hidden', '-dash', 'ÜberRepo', 'x'.repeat(300), '', '___']) {
      const ref = envImageTag(repo, 'Codex', key);
      assert.ok(ref.startsWith('nightshift/env:'), ref);
      const tag = tagOf(ref);
      assert.match(tag, TAG, repo);
      assert.ok(tag.endsWith(`-codex-${key.slice(0, 16)}`), tag);
    }
    assert.equal(tagOf(envImageTag('x'.repeat(300), 'codex', key)).length, 128);
    assert.equal(envImageTag('Acme/Web App', 'codex', key), `nightshift/env:acme-web-app-codex-${key.slice(0, 16)}`);
  });

  test('different repos and agents get different tags', () => {
    assert.notEqual(envImageTag('a', 'codex', key), envImageTag('b', 'codex', key));
    assert.notEqual(envImageTag('a', 'codex', key), envImageTag('a', 'claude-code', key));
  });
});

describe('environmentKey across repositories', () => {
  test('two repositories with the same manifests and setup never share an environment (case counts)', () => {
    const spec: EnvironmentSpec = { source: 'config', base: { kind: 'agent-image' }, setup: ['npm ci'], env: {}, setupTimeoutMs: 1, warnings: [], inputs: [] };
    const input = { baseImageId: 'sha256:a', agentImageId: 'sha256:b', agent: 'claude-code', spec, files: [{ path: 'package-lock.json', blob: 'x' }] };
    const web = environmentKey({ ...input, repo: 'web' });
    assert.notEqual(web, environmentKey({ ...input, repo: 'attacker' }));
    assert.notEqual(web, environmentKey({ ...input, repo: 'Web' }));
    assert.equal(web, environmentKey({ ...input, repo: 'web' }));
  });
});
