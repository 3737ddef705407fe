import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, parseConfig, secretsFromEnv } from '../../worker/config.js';
import { repoRoot } from '../helpers/paths.js';

const minimal = () => ({
  gateway: { prices: { 'claude-sonnet-4-5': { input: 3, output: 15 } } },
  repos: { web: { url: 'https://github.com/acme/web.git', github: 'acme/web', testCommand: 'npm test', budget: { minutes: 30, tokens: 1000, usd: 5 } } },
});

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'CONFIG_INVALID');
    return err.issues;
  }
  assert.fail('expected a ConfigError');
}

test('the example configuration is valid and fills defaults', () => {
  const c = loadConfig(join(repoRoot(), 'nightshift.config.example.yaml'));
  assert.equal(c.repos.web?.maxAttempts, 3);
  assert.equal(c.temporal.taskQueue, 'nightshift');
  assert.equal(c.stuck.repeatedFailingCall, 3);
  assert.equal(c.linear.teams.ENG, 'web');
  assert.ok(c.stateDir.startsWith('/'), 'stateDir is resolved against the file');
});

test('a minimal configuration gets every default', () => {
  const c = parseConfig(minimal());
  assert.equal(c.repos.web?.agent, 'claude-code');
  assert.equal(c.repos.web?.defaultBranch, 'main');
  assert.equal(c.github.apiUrl, 'https://api.github.com');
  assert.equal(c.sandbox.network, 'nightshift-sandbox');
  assert.equal(c.escalationWaitHours, 168);
});

test('errors name the bad key', () => {
  const raw = minimal() as Record<string, unknown>;
  (raw.repos as { web: { budget: { usd: number } } }).web.budget.usd = -1;
  assert.deepEqual(issuesOf(() => parseConfig(raw)).map((i) => i.split(':')[0]), ['repos.web.budget.usd']);

  const bad = { ...minimal(), github: { apiUrl: 'not a url' } };
  assert.match(issuesOf(() => parseConfig(bad))[0]!, /^github\.apiUrl: /);

  const unknownKey = { ...minimal(), gatway: {} };
  assert.match(issuesOf(() => parseConfig(unknownKey)).join('\n'), /gatway/);

  const wrongRepo = minimal();
  (wrongRepo.repos.web as Record<string, unknown>).github = 'acme';
  assert.match(issuesOf(() => parseConfig(wrongRepo))[0]!, /^repos\.web\.github: expected "owner\/name"/);
});

test('a model without a price is refused at load time, naming the key', () => {
  const raw = minimal();
  (raw.repos.web as Record<string, unknown>).models = { 'claude-code': 'claude-opus-9' };
  assert.match(issuesOf(() => parseConfig(raw))[0]!, /^repos\.web\.models\.claude-code: no price for "claude-opus-9"/);
});

test('no repository at all is refused', () => {
  assert.match(issuesOf(() => parseConfig({ ...minimal(), repos: {} })).join('\n'), /repos: at least one repository/);
});

test('unreadable and non-YAML files give a ConfigError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ns-config-'));
  assert.match(issuesOf(() => loadConfig(join(dir, 'missing.yaml')))[0]!, /cannot read/);
  writeFileSync(join(dir, 'bad.yaml'), 'repos: [unclosed');
  assert.match(issuesOf(() => loadConfig(join(dir, 'bad.yaml')))[0]!, /not valid YAML/);
});

test('secrets come only from the environment; empty values are absent', () => {
  const s = secretsFromEnv({ GITHUB_TOKEN: 'ghp_x', LINEAR_API_KEY: '' });
  assert.equal(s.githubToken, 'ghp_x');
  assert.equal(s.linearApiKey, undefined);
});
