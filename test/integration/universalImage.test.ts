/**
 * The universal toolchains in the agent images, on the real Docker engine: in
 * `nightshift/claude-code:latest` and `nightshift/codex:latest` (built by sandbox-images/build.sh
 * on `nightshift/universal:latest`), as the sandbox user (uid 1000) with no network, Node.js 24
 * with npm and corepack, Python 3 with the writable /opt/venv first on PATH, Go, gcc + make, git,
 * ripgrep and jq work, and the agent CLI still runs.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { run } from '../../activities/exec.js';

const CLAUDE = 'nightshift/claude-code:latest';
const CODEX = 'nightshift/codex:latest';
/** Label on every container of this file, for the teardown. */
const LABEL = `nightshift.test=universal-image-${randomBytes(4).toString('hex')}`;

/**
 * Runs `bash -c script` in `image` as uid 1000 with `--network none`; returns stdout.
 * @throws NightshiftError (SANDBOX_FAILED) with the stderr tail when the script exits non-zero.
 */
async function inImage(image: string, script: string, env: Record<string, string> = {}): Promise<string> {
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  const args = ['run', '--rm', '--network', 'none', '--user', '1000:1000', '--label', LABEL, ...envArgs, image, 'bash', '-euo', 'pipefail', '-c', script];
  return (await run('docker', args, { code: 'SANDBOX_FAILED', timeoutMs: 120_000 })).stdout;
}

/** `key=value` lines of a script's output as a map (later keys win). */
function kv(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

after(async () => {
  // A timed-out `docker run` leaves its container behind: remove every container of this file.
  const ids = (await run('docker', ['ps', '-aq', '--filter', `label=${LABEL}`], { code: 'SANDBOX_FAILED' })).stdout.split('\n').filter(Boolean);
  if (ids.length) await run('docker', ['rm', '-f', ...ids], { code: 'SANDBOX_FAILED' });
});

/** Writes a tiny wheel (hello 1.0) with the venv's python: installable with `pip --no-index`. */
const MAKE_WHEEL = `python - <<'PY'
import base64, hashlib, zipfile
files = {
  "hello.py": "def greet():\\n    return 'hello from a wheel'\\n",
  "hello-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: hello\\nVersion: 1.0\\n",
  "hello-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
def digest(s):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(s.encode()).digest()).rstrip(b"=").decode()
record = "".join(f"{n},{digest(c)},{len(c.encode())}\\n" for n, c in files.items()) + "hello-1.0.dist-info/RECORD,,\\n"
with zipfile.ZipFile("/tmp/pkg/hello-1.0-py3-none-any.whl", "w") as z:
    for n, c in files.items():
        z.writestr(n, c)
    z.writestr("hello-1.0.dist-info/RECORD", record)
PY`;

describe(`toolchains in ${CLAUDE}`, { timeout: 300_000 }, () => {
  test('runs as agent (1000) with the universal PATH and owned writable directories', async () => {
    const out = kv(
      await inImage(
        CLAUDE,
        `echo "user=$(id -un):$(id -u):$(id -g)"; echo "path=$PATH"; echo "pwd=$(pwd)"
         for d in /workspace /opt/nightshift/seed /opt/venv /opt/go /opt/go/pkg/mod /opt/corepack; do
           touch "$d/.probe" && rm "$d/.probe" && echo "writable:$d=yes"; done
         echo "gotoolchain=$GOTOOLCHAIN"; echo "gomodcache=$(go env GOMODCACHE)"; echo "gopath=$(go env GOPATH)"`,
      ),
    );
    assert.equal(out.get('user'), 'agent:1000:1000');
    assert.equal(out.get('pwd'), '/workspace');
    const path = (out.get('path') ?? '').split(':');
    assert.equal(path[0], '/opt/venv/bin', 'the venv is first on PATH');
    for (const p of ['/usr/local/go/bin', '/opt/go/bin', '/usr/local/bin', '/usr/bin']) assert.ok(path.includes(p), `PATH has ${p}`);
    for (const d of ['/workspace', '/opt/nightshift/seed', '/opt/venv', '/opt/go', '/opt/go/pkg/mod', '/opt/corepack']) {
      assert.equal(out.get(`writable:${d}`), 'yes', `${d} is writable by uid 1000`);
    }
    assert.equal(out.get('gotoolchain'), 'local');
    assert.equal(out.get('gomodcache'), '/opt/go/pkg/mod');
    assert.equal(out.get('gopath'), '/opt/go');
  });

  test('Node.js 24 with npm, npx and corepack (pnpm/yarn shims); npm runs a package script offline', async () => {
    const out = kv(
      await inImage(
        CLAUDE,
        `echo "node=$(node --version)"; echo "npm=$(npm --version)"; echo "npx=$(npx --version)"
         echo "corepack=$(corepack --version)"; echo "pnpm=$(command -v pnpm)"; echo "yarn=$(command -v yarn)"
         mkdir -p /tmp/app && cd /tmp/app
         printf '%s' '{"name":"app","version":"1.0.0","scripts":{"test":"node -e \\"console.log(6*7)\\""}}' > package.json
         echo "npmtest=$(npm test --silent)"`,
        { HOME: '/tmp/elsewhere' },
      ),
    );
    assert.match(out.get('node') ?? '', /^v24\.\d+\.\d+$/);
    assert.match(out.get('npm') ?? '', /^\d+\.\d+\.\d+$/);
    assert.equal(out.get('npx'), out.get('npm'), 'npx comes with npm');
    assert.match(out.get('corepack') ?? '', /^\d+\.\d+\.\d+$/);
    assert.equal(out.get('pnpm'), '/usr/local/bin/pnpm');
    assert.equal(out.get('yarn'), '/usr/local/bin/yarn');
    assert.equal(out.get('npmtest'), '42');
  });

  test('python3 -m venv works, and pip installs a requirement into /opt/venv as uid 1000 (no PEP 668 refusal)', async () => {
    const out = kv(
      await inImage(
        CLAUDE,
        `echo "python=$(command -v python)"; echo "pip=$(command -v pip)"; echo "version=$(python3 --version)"
         python3 -m venv /tmp/v && echo "venvpip=$(/tmp/v/bin/pip --version)"
         mkdir -p /tmp/pkg && ${MAKE_WHEEL}
         echo /tmp/pkg/hello-1.0-py3-none-any.whl > /tmp/pkg/requirements.txt
         pip install -q --no-index -r /tmp/pkg/requirements.txt
         echo "import=$(python3 -c 'import hello; print(hello.greet(), hello.__file__)')"`,
        { HOME: '/tmp/elsewhere' },
      ),
    );
    assert.equal(out.get('python'), '/opt/venv/bin/python');
    assert.equal(out.get('pip'), '/opt/venv/bin/pip');
    assert.match(out.get('version') ?? '', /^Python 3\.\d+/);
    assert.match(out.get('venvpip') ?? '', /^pip \d+.* from \/tmp\/v\//);
    assert.match(out.get('import') ?? '', /^hello from a wheel \/opt\/venv\/lib\/python3\.\d+\/site-packages\/hello\.py$/);
  });

  test('Go builds and tests a module offline; gcc + make build a C program', async () => {
    const out = kv(
      await inImage(
        CLAUDE,
        `echo "go=$(go version)"
         mkdir -p /tmp/gomod && cd /tmp/gomod
         printf 'module example.com/hello\\n\\ngo 1.22\\n' > go.mod
         printf 'package main\\n\\nimport "fmt"\\n\\nfunc Sum(a, b int) int { return a + b }\\n\\nfunc main() { fmt.Println("sum", Sum(2, 3)) }\\n' > main.go
         printf 'package main\\n\\nimport "testing"\\n\\nfunc TestSum(t *testing.T) {\\n\\tif Sum(2, 3) != 5 {\\n\\t\\tt.Fatal("bad sum")\\n\\t}\\n}\\n' > main_test.go
         go build -o hello . && echo "gorun=$(./hello)"
         go test ./... >/tmp/gotest.out && echo "gotest=$(head -c 2 /tmp/gotest.out)"
         mkdir -p /tmp/c && cd /tmp/c
         printf '#include <stdio.h>\\nint main(void) { printf("c says %%d\\\\n", 6 * 7); return 0; }\\n' > hello.c
         printf 'hello: hello.c\\n\\tgcc -O2 -o $@ $<\\n' > Makefile
         make -s && echo "crun=$(./hello)"
         echo "gcc=$(gcc -dumpversion)"`,
        { HOME: '/tmp/elsewhere' },
      ),
    );
    assert.match(out.get('go') ?? '', /^go version go1\.\d+(\.\d+)? linux\/(amd64|arm64)$/);
    assert.equal(out.get('gorun'), 'sum 5');
    assert.equal(out.get('gotest'), 'ok');
    assert.equal(out.get('crun'), 'c says 42');
    assert.match(out.get('gcc') ?? '', /^\d+/);
  });

  test('git, ripgrep, jq and the claude CLI', async () => {
    const out = kv(
      await inImage(
        CLAUDE,
        `echo "git=$(git --version)"; mkdir -p /tmp/g && cd /tmp/g && git init -q && echo needle > f.txt
         echo "rg=$(rg -l needle)"; echo "jq=$(echo '{"a":{"b":7}}' | jq .a.b)"; echo "claude=$(claude --version)"`,
      ),
    );
    assert.match(out.get('git') ?? '', /^git version \d/);
    assert.equal(out.get('rg'), 'f.txt');
    assert.equal(out.get('jq'), '7');
    assert.match(out.get('claude') ?? '', /^\d+\.\d+\.\d+ \(Claude Code\)$/);
  });
});

describe(`toolchains in ${CODEX}`, { timeout: 120_000 }, () => {
  test('codex, node and go run as uid 1000; PATH keeps the universal entries and the bundled ripgrep', async () => {
    const out = kv(
      await inImage(
        CODEX,
        `echo "codex=$(codex --version)"; echo "node=$(node --version)"; echo "go=$(go version)"
         echo "npm=$(npm --version)"; echo "python=$(command -v python)"; echo "path=$PATH"; echo "codexhome=$CODEX_HOME"
         echo "config=$(test -f /etc/codex/config.toml && echo present)"; echo "link=$(readlink /usr/local/bin/codex)"`,
      ),
    );
    assert.match(out.get('codex') ?? '', /^codex-cli \d+\.\d+\.\d+/);
    assert.match(out.get('node') ?? '', /^v24\./);
    assert.match(out.get('go') ?? '', /^go version go1\./);
    assert.match(out.get('npm') ?? '', /^\d+\./);
    assert.equal(out.get('python'), '/opt/venv/bin/python');
    const path = (out.get('path') ?? '').split(':');
    assert.equal(path[0], '/opt/venv/bin');
    for (const p of ['/usr/local/go/bin', '/opt/go/bin', '/opt/codex/codex-path']) assert.ok(path.includes(p), `PATH has ${p}`);
    assert.equal(out.get('codexhome'), '/home/agent/.codex');
    assert.equal(out.get('config'), 'present');
    assert.equal(out.get('link'), '/opt/codex/bin/codex');
  });
});
