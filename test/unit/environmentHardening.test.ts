/** What hostile repositories may not do to the host through environments: Dockerfile ADD of URLs, non-public egress, staging seed paths. */
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkRepositoryDockerfile, dockerfileInstructions } from '../../activities/environment/dockerfileCheck.js';
import { NightshiftError } from '../../activities/errors.js';
import { run } from '../../activities/exec.js';
import { excludeSeedPaths, hostGit, prepareRepo, stageAll } from '../../activities/git.js';
import { inCidr, isNonPublicAddress } from '../../worker/netRanges.js';
import { seededRemote } from '../helpers/gitRemote.js';

const refused = (text: string): boolean => {
  try {
    checkRepositoryDockerfile(text, 'Dockerfile');
    return false;
  } catch (err) {
    assert.ok(err instanceof NightshiftError && err.code === 'ENV_INVALID');
    return true;
  }
};

describe('repository Dockerfiles', () => {
  test('ADD of a URL, a git source or a variable is refused (the daemon would fetch it outside the setup network)', () => {
    assert.ok(refused('FROM x\nADD http://127.0.0.1:8233/api /loot\n'));
    assert.ok(refused('FROM x\nadd --chown=1000 https://169.254.169.254/latest/meta-data/ /m\n'));
    assert.ok(refused('FROM x\nADD git@github.com:acme/secret.git /src\n'));
    assert.ok(refused('FROM x\nARG U\nADD $U /loot\n'));
    assert.ok(refused('FROM x\nADD \\\n  http://10.0.0.1/x \\\n  /y\n'));
    assert.ok(refused('FROM x\nONBUILD ADD http://10.0.0.1/x /y\n'));
    assert.ok(refused('FROM x\nADD ["http://10.0.0.1/x", "/y"]\n'));
  });

  test('ADD and COPY of local files, and RUN curl (it runs on the setup network), are fine', () => {
    assert.ok(!refused('FROM x\n# ADD http://in.a/comment\nADD app.tar.gz /opt/\nCOPY --from=builder /a /b\nRUN curl -fsSL https://example.org/x > /x\n'));
    assert.deepEqual(dockerfileInstructions('FROM a\nRUN one \\\n two\n').map((i) => [i.line, i.keyword, i.args]), [[1, 'FROM', 'a'], [2, 'RUN', 'one   two']]);
  });
});

describe('non-public addresses', () => {
  test('private, carrier-grade NAT, loopback, link-local and cloud host addresses are not public; others are', () => {
    for (const a of ['10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.100.100.200', '127.0.0.1', '169.254.169.254', '168.63.129.16', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1']) {
      assert.ok(isNonPublicAddress(a), a);
    }
    for (const a of ['104.16.0.35', '151.101.0.223', '172.32.0.1', '192.169.0.1', '2606:4700::6810:1', '100.128.0.1']) assert.ok(!isNonPublicAddress(a), a);
    assert.ok(inCidr('10.9.8.7', '10.0.0.0/8'));
    assert.ok(!inCidr('11.0.0.1', '10.0.0.0/8'));
  });
});

describe('seed paths in host git', () => {
  test('an agent .gitignore that un-ignores a seed path does not get it staged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nightshift-seedgit-'));
    const remote = await seededRemote(dir);
    const repo = { gitDir: join(dir, 'w.git'), workTree: join(dir, 'w') };
    const base = await prepareRepo(remote, 'main', repo);
    await excludeSeedPaths(repo, ['node_modules']);
    await mkdir(join(repo.workTree, 'node_modules', 'evil'), { recursive: true });
    await writeFile(join(repo.workTree, 'node_modules', 'evil', 'index.js'), 'module.exports = 1;\n');
    await writeFile(join(repo.workTree, '.gitignore'), '!/node_modules\n!/node_modules/**\n');
    await writeFile(join(repo.workTree, 'a.txt'), 'two\n');
    await stageAll(repo);
    const staged = (await hostGit(repo, ['diff', '--cached', '--name-only', base])).stdout.split('\n').filter(Boolean);
    assert.deepEqual(staged.sort(), ['.gitignore', 'a.txt']);
    await run('rm', ['-rf', dir]);
  });
});
