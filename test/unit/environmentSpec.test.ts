/**
 * Environment specification: precedence (config > devcontainer.json > default), devcontainer.json
 * variants (comments, trailing commas, string / argv / object commands, legacy keys, variables),
 * path escapes refused, config env merged over the devcontainer's.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { NightshiftError } from '../../activities/errors.js';
import { parseDevcontainer } from '../../activities/environment/devcontainer.js';
import { quoteArgv } from '../../activities/environment/devcontainerVars.js';
import { resolveEnvironmentSpec } from '../../activities/environment/spec.js';
import { parseConfig, type EnvironmentConfig } from '../../worker/config.js';

/** A repository's environment config as the real schema fills it in from `environment` (defaults applied). */
function envConfig(environment: Record<string, unknown> = {}): EnvironmentConfig {
  const cfg = parseConfig({ gateway: { prices: { m: { input: 1, output: 1 } } }, repos: { r: { url: '/tmp/r', github: 'o/r', testCommand: 'npm test', budget: { minutes: 1, tokens: 1, usd: 1 }, environment } } }, '/tmp');
  const repo = cfg.repos.r;
  assert.ok(repo);
  return repo.environment;
}

const files = (map: Record<string, string>) => async (p: string): Promise<string | undefined> => map[p];

/** Asserts that `fn` throws ENV_INVALID whose message names `file` and `field`. */
function assertInvalid(fn: () => unknown, file: string, field: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof NightshiftError);
    assert.equal(e.code, 'ENV_INVALID');
    assert.equal(e.retryable, false);
    assert.ok(e.message.startsWith(`${file}: ${field}: `), e.message);
    assert.deepEqual(e.options.details, { file, field });
    return true;
  });
}

const DC = '.devcontainer/devcontainer.json';

describe('parseDevcontainer', () => {
  test('JSON with comments and trailing commas; build paths from the repository root; lifecycle order', () => {
    const text = `{
      // the image is built from our Dockerfile
      "name": "demo",
      "build": { "dockerfile": "Dockerfile", "context": "..", "args": { "NODE": "22", }, },
      /* run in this order: onCreate, updateContent, postCreate */
      "postCreateCommand": "npm test -- --version",
      "updateContentCommand": "npm ci",
      "onCreateCommand": "corepack enable",
    }`;
    const dc = parseDevcontainer(text, DC);
    assert.deepEqual(dc.build, { dockerfile: '.devcontainer/Dockerfile', context: '.', args: { NODE: '22' } });
    assert.equal(dc.image, undefined);
    assert.deepEqual(dc.setup, ['corepack enable', 'npm ci', 'npm test -- --version']);
    assert.deepEqual(dc.warnings, []);
  });

  test('argv commands are quoted into one shell-safe command that runs exactly that argv', () => {
    const argv = ['sh', '-c', "echo \"$HOME\" it's; ls", 'arg with space', '', 'plain-1.2/x'];
    const dc = parseDevcontainer(JSON.stringify({ image: 'node:22', postCreateCommand: argv }), DC);
    assert.deepEqual(dc.setup, [quoteArgv(argv)]);
    // The real shell parses it back into the same argv.
    const out = execFileSync('sh', ['-c', `printf '<%s>' ${quoteArgv(['a b', "it's", '$HOME', '', '*'])}`], { encoding: 'utf8' });
    assert.equal(out, "<a b><it's><$HOME><><*>");
  });

  test('object commands: values in key order, each a string or an argv', () => {
    const dc = parseDevcontainer(JSON.stringify({ image: 'x', onCreateCommand: { deps: 'npm ci', tools: ['pip', 'install', 'pytest==8.0'] } }), DC);
    assert.deepEqual(dc.onCreateCommand, ['npm ci', 'pip install pytest==8.0']);
  });

  test('legacy top-level dockerFile/context, a root .devcontainer.json', () => {
    const dc = parseDevcontainer('{"dockerFile": "docker/Dockerfile", "context": "docker"}', '.devcontainer.json');
    assert.deepEqual(dc.build, { dockerfile: 'docker/Dockerfile', context: 'docker', args: {} });
  });

  test('the build context defaults to the devcontainer directory', () => {
    assert.equal(parseDevcontainer('{"build": {"dockerfile": "Dockerfile"}}', DC).build?.context, '.devcontainer');
  });

  test('variables: workspace folders, localEnv defaults (host env never read), containerEnv from the file or refused', () => {
    process.env.NIGHTSHIFT_TEST_SECRET = 'do-not-leak';
    const dc = parseDevcontainer(
      JSON.stringify({
        image: 'x',
        containerEnv: { TOOLS: '/opt/tools', FROM_HOST: '${localEnv:NIGHTSHIFT_TEST_SECRET}', WITH_DEFAULT: '${localEnv:NOPE:fallback}' },
        remoteEnv: { PATH: '${containerEnv:PATH}:/extra', TOOLS_BIN: '${containerEnv:TOOLS}/bin', WS: '${containerWorkspaceFolder}/src' },
        postCreateCommand: 'cd ${containerWorkspaceFolder} && echo ${containerWorkspaceFolderBasename}',
      }),
      DC,
    );
    delete process.env.NIGHTSHIFT_TEST_SECRET;
    assert.deepEqual(dc.containerEnv, { TOOLS: '/opt/tools', FROM_HOST: '', WITH_DEFAULT: 'fallback' });
    assert.deepEqual(dc.remoteEnv, { TOOLS_BIN: '/opt/tools/bin', WS: '/workspace/src' });
    assert.deepEqual(dc.setup, ['cd /workspace && echo workspace']);
    assert.ok(dc.warnings.some((w) => w.startsWith('remoteEnv.PATH is not set')), dc.warnings.join('\n'));
    assert.ok(dc.warnings.some((w) => w.startsWith('containerEnv.FROM_HOST: ${localEnv:NIGHTSHIFT_TEST_SECRET} is not read')));
    assert.ok(!JSON.stringify(dc).includes('do-not-leak'));
    assertInvalid(() => parseDevcontainer('{"image":"x","postCreateCommand":"echo ${containerEnv:HOME}"}', DC), DC, 'postCreateCommand');
  });

  test('unsupported fields are warnings: features, initializeCommand, postStartCommand', () => {
    const dc = parseDevcontainer('{"image":"x","features":{"ghcr.io/devcontainers/features/go:1":{}},"initializeCommand":"rm -rf ~","postStartCommand":"x"}', DC);
    assert.equal(dc.warnings.length, 3);
    assert.match(dc.warnings.join('\n'), /features are not supported/);
    assert.match(dc.warnings.join('\n'), /initializeCommand is not run \(it would run on the host\)/);
    assert.deepEqual(dc.setup, []);
  });

  test('errors are ENV_INVALID naming the file and the field', () => {
    assertInvalid(() => parseDevcontainer('{"image": "x",, }', DC), DC, '(syntax)');
    assert.throws(() => parseDevcontainer('{\n  "image": "x"\n  "build": {}\n}', DC), /line 3, column 3/);
    assertInvalid(() => parseDevcontainer('[1]', DC), DC, '(root)');
    assertInvalid(() => parseDevcontainer('{"image": 3}', DC), DC, 'image');
    assertInvalid(() => parseDevcontainer('{"image":"x","build":{"dockerfile":"D"}}', DC), DC, 'image');
    assertInvalid(() => parseDevcontainer('{"build":{"context":"."}}', DC), DC, 'build.dockerfile');
    assertInvalid(() => parseDevcontainer('{"image":"x","postCreateCommand":[1]}', DC), DC, 'postCreateCommand');
    assertInvalid(() => parseDevcontainer('{"image":"x","onCreateCommand":{"a":"ok","b":{}}}', DC), DC, 'onCreateCommand.b');
    assertInvalid(() => parseDevcontainer('{"image":"x","containerEnv":{"A":1}}', DC), DC, 'containerEnv.A');
  });

  test('paths that leave the repository or are absolute are refused', () => {
    assertInvalid(() => parseDevcontainer('{"build":{"dockerfile":"../../Dockerfile"}}', DC), DC, 'build.dockerfile');
    assertInvalid(() => parseDevcontainer('{"build":{"dockerfile":"Dockerfile","context":"../.."}}', DC), DC, 'build.context');
    assertInvalid(() => parseDevcontainer('{"build":{"dockerfile":"/etc/Dockerfile"}}', DC), DC, 'build.dockerfile');
    assertInvalid(() => parseDevcontainer('{"dockerFile":"../Dockerfile"}', '.devcontainer.json'), '.devcontainer.json', 'dockerFile');
    assert.equal(parseDevcontainer('{"build":{"dockerfile":"../Dockerfile"}}', DC).build?.dockerfile, 'Dockerfile');
  });
});

describe('resolveEnvironmentSpec', () => {
  const devcontainer = JSON.stringify({ image: 'node:22', containerEnv: { A: 'dc', B: 'dc' }, remoteEnv: { B: 'remote' }, postCreateCommand: 'npm ci' });

  test('config wins when image, dockerfile or setup is set; its env applies', async () => {
    for (const env of [{ image: 'python:3.12' }, { dockerfile: 'ci/Dockerfile' }, { setup: ['pip install -r requirements.txt'] }]) {
      const spec = await resolveEnvironmentSpec(envConfig({ ...env, env: { A: 'cfg' } }), files({ [DC]: devcontainer }));
      assert.equal(spec.source, 'config', JSON.stringify(env));
      assert.deepEqual(spec.env, { A: 'cfg' });
    }
    const img = await resolveEnvironmentSpec(envConfig({ image: 'python:3.12', setup: ['a', 'b'], setupTimeoutMinutes: 2 }), files({}));
    assert.deepEqual(img, { source: 'config', base: { kind: 'image', image: 'python:3.12' }, setup: ['a', 'b'], env: {}, setupTimeoutMs: 120_000, warnings: [], inputs: [] });
    const df = await resolveEnvironmentSpec(envConfig({ dockerfile: 'ci/Dockerfile' }), files({}));
    assert.deepEqual(df.base, { kind: 'dockerfile', dockerfile: 'ci/Dockerfile', context: 'ci', args: {} });
    assert.deepEqual(df.inputs, ['ci']);
    const outside = await resolveEnvironmentSpec(envConfig({ dockerfile: 'ci/Dockerfile', context: 'src' }), files({}));
    assert.deepEqual(outside.inputs, ['src', 'ci/Dockerfile']);
  });

  test('devcontainer when config declares no base or setup; config env merged over containerEnv and remoteEnv', async () => {
    const spec = await resolveEnvironmentSpec(envConfig({ env: { C: 'cfg', A: 'cfg' } }), files({ [DC]: devcontainer }));
    assert.equal(spec.source, 'devcontainer');
    assert.equal(spec.sourcePath, DC);
    assert.deepEqual(spec.base, { kind: 'image', image: 'node:22' });
    assert.deepEqual(spec.setup, ['npm ci']);
    assert.deepEqual(spec.env, { A: 'cfg', B: 'remote', C: 'cfg' });
    assert.deepEqual(spec.inputs, ['.devcontainer']);
    assert.equal(spec.setupTimeoutMs, 20 * 60_000);
  });

  test('root .devcontainer.json is read when .devcontainer/ has none; Dockerfile inputs', async () => {
    const spec = await resolveEnvironmentSpec(envConfig(), files({ '.devcontainer.json': '{"build":{"dockerfile":"tools/Dockerfile","context":"tools"}}' }));
    assert.deepEqual(spec.base, { kind: 'dockerfile', dockerfile: 'tools/Dockerfile', context: 'tools', args: {} });
    assert.deepEqual(spec.inputs, ['.devcontainer.json', 'tools']);
    const both = await resolveEnvironmentSpec(envConfig(), files({ '.devcontainer.json': '{"image":"a"}', [DC]: '{"image":"b"}' }));
    assert.deepEqual(both.base, { kind: 'image', image: 'b' });
  });

  test('default when there is no devcontainer, or devcontainer: false', async () => {
    const none = await resolveEnvironmentSpec(envConfig({ env: { X: '1' } }), files({}));
    assert.deepEqual(none, { source: 'default', base: { kind: 'agent-image' }, setup: [], env: { X: '1' }, setupTimeoutMs: 1_200_000, warnings: [], inputs: [] });
    const off = await resolveEnvironmentSpec(envConfig({ devcontainer: false }), files({ [DC]: devcontainer }));
    assert.equal(off.source, 'default');
  });

  test('devcontainer warnings carry the file; errors propagate as ENV_INVALID', async () => {
    const spec = await resolveEnvironmentSpec(envConfig(), files({ [DC]: '{"image":"x","features":{}}' }));
    assert.deepEqual(spec.warnings, [`${DC}: features are not supported: install what they would add in the Dockerfile or a postCreateCommand`]);
    await assert.rejects(resolveEnvironmentSpec(envConfig(), files({ [DC]: '{"image": ' })), (e: unknown) => e instanceof NightshiftError && e.code === 'ENV_INVALID' && e.message.startsWith(DC));
  });

  test('config paths that escape the repository are refused', async () => {
    for (const [key, value] of [['dockerfile', '../Dockerfile'], ['dockerfile', '/abs/Dockerfile'], ['context', 'a/../../..']] as const) {
      const cfg = envConfig({ dockerfile: 'Dockerfile', [key]: value });
      await assert.rejects(resolveEnvironmentSpec(cfg, files({})), (e: unknown) => e instanceof NightshiftError && e.code === 'ENV_INVALID' && e.message.includes(`${key}:`), `${key}=${value}`);
    }
  });
});

test('quoteArgv survives a real shell for arbitrary bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-quote-'));
  try {
    const args = ['\n', '\'"\\`$(x)', '-n', '~', 'a;b|c&d', 'é ü'];
    writeFileSync(join(dir, 'p.sh'), `printf '%s\\0' ${quoteArgv(args)}`);
    const out = execFileSync('sh', [join(dir, 'p.sh')], { encoding: 'utf8' });
    assert.deepEqual(out.split('\0').slice(0, -1), args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
