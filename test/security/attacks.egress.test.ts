/**
 * Agent egress (issue 7, item 4), on the real Docker engine: the real sandbox network and firewall
 * and the real model gateway on the bridge address. A container of the agent image, given the
 * proxy environment {@link agentEgressEnv} builds for a run (the one runAgent gives the agent),
 * reaches the allow-listed registry through the gateway's CONNECT proxy and nothing else; a run
 * without an allow-list reaches nothing; without the proxy nothing is reachable at all.
 *
 * The registry is really fetched (https://registry.npmjs.org/is-number), so this test needs the
 * host's internet access (through TLS interception here: hence the CA bundle mount).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { MockActivityEnvironment } from '@temporalio/testing';
import { pino } from 'pino';
import { claudeCodeRunner } from '../../activities/agents/runner.js';
import { agentEgressEnv } from '../../activities/agentEgress.js';
import { runAgentAttempt } from '../../activities/runAgent.js';
import { DEFAULT_STUCK, makeWorkspace, plan, quietLogger } from '../../bench/sandboxKit.js';
import { ScriptedModelServer, scriptFromSteps } from '../../devstack/scriptedModel.js';
import { SandboxManager } from '../../activities/sandbox.js';
import type { AttemptRecord } from '../../workflows/types.js';
import { parseConfig } from '../../worker/config.js';
import { ModelGateway } from '../../worker/gateway/index.js';
import { TEST_PRICES } from '../helpers/gatewayHarness.js';

const IMAGE = 'nightshift/claude-code:latest';
const WORKFLOW = 'egress-test';
const NPM = 'https://registry.npmjs.org/is-number';
const PYPI = 'https://pypi.org/simple/six/';
const lines: string[] = [];
const logger = pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString('utf8')), cb()) }));
const config = parseConfig({ gateway: { prices: {} }, repos: { r: { url: 'x', github: 'a/b', testCommand: 't', budget: { minutes: 1, tokens: 1, usd: 1 } } } });
const sandbox = new SandboxManager(new Docker(), config.sandbox, logger);

/**
 * Python fetches each `name=url` (`direct:` before the url: with no proxy at all) and prints
 * `name OK <status>`, `name HTTP <status>` or `name FAIL <error>`; then Node's `fetch` and npm
 * try the npm registry through the environment's proxy.
 */
const PY = `import sys, urllib.request, urllib.error
for arg in sys.argv[1:]:
    name, url = arg.split("=", 1)
    direct = url.startswith("direct:")
    url = url[len("direct:"):] if direct else url
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({})) if direct else urllib.request.build_opener()
    try:
        r = opener.open(url, timeout=20)
        print(name, "OK", r.status, flush=True)
    except urllib.error.HTTPError as e:
        print(name, "HTTP", e.code, flush=True)
    except Exception as e:
        print(name, "FAIL", type(e).__name__, str(e)[:200].replace("\\n", " "), flush=True)
`;
const NODE = `fetch(process.argv[1]).then((r) => console.log('node-fetch OK', r.status), (e) => console.log('node-fetch FAIL', String(e.cause?.message ?? e.message).slice(0, 200)))`;

/** Runs the probes in one agent-image container on the sandbox network with `env`; returns `name → outcome`. */
async function probe(ws: string, env: string[], mounts: Array<{ host: string; container: string }>, targets: Record<string, string>, withNode = false): Promise<Map<string, string>> {
  const out: string[] = [];
  const args = Object.entries(targets).map(([k, v]) => `${k}=${v}`);
  const script =
    `python3 -c "$PY" "$@"` +
    (withNode ? `; node -e "$NODE" ${NPM}; v=$(timeout 60 npm view is-number version --cache /tmp/npm-cache 2>&1 | tail -1); echo "npm-view $v"` : '');
  const s = await sandbox.start({
    workflowId: WORKFLOW,
    purpose: 'agent',
    image: IMAGE,
    cmd: ['sh', '-c', script, 'probe', ...args],
    env: [...env, `PY=${PY}`, `NODE=${NODE}`],
    workspace: ws,
    network: 'sandbox',
    readOnlyMounts: mounts,
    onLine: (_s, l) => out.push(l),
  });
  try {
    await s.exited;
  } finally {
    await s.remove();
  }
  const seen = new Map<string, string>();
  for (const l of out) {
    const i = l.indexOf(' ');
    if (i > 0) seen.set(l.slice(0, i), l.slice(i + 1));
  }
  return seen;
}

describe('agent egress through the gateway proxy (real Docker, real network)', { timeout: 240_000 }, () => {
  let gw: ModelGateway | undefined;
  let unisolate: (() => Promise<void>) | undefined;
  let ws = '';
  const model = new ScriptedModelServer({ script: () => ({ text: 'unset' }) });

  before(async () => {
    ws = await mkdtemp(join(tmpdir(), 'ns-egress-'));
    await model.start();
    const { gatewayIp } = await sandbox.ensureNetwork();
    gw = new ModelGateway({ host: gatewayIp, port: 0, upstreams: { anthropic: model.url, openai: model.url }, prices: TEST_PRICES, logger });
    await gw.start();
    unisolate = await sandbox.isolateHost(gatewayIp, Number(new URL(gw.url).port));
    await sandbox.assertIsolated();
  });
  after(async () => {
    await sandbox.removeRunContainers(WORKFLOW).catch(() => undefined);
    await unisolate?.().catch(() => undefined);
    await gw?.stop();
    await model.stop();
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  test('allow-list registry.npmjs.org: the registry is reached, pypi.org is refused, nothing without the proxy', async () => {
    const { token } = gw!.openRun('egress#1', { tokens: 1e6, usd: 1 }, undefined, undefined, ['registry.npmjs.org']);
    const e = agentEgressEnv({ gatewayUrl: gw!.url, token, settings: config.environments });
    lines.length = 0;
    const seen = await probe(ws, e.env, e.readOnlyMounts, { npm: NPM, pypi: PYPI, 'direct-npm': `direct:${NPM}`, 'direct-pypi': `direct:${PYPI}` }, true);
    assert.equal(seen.get('npm'), 'OK 200', JSON.stringify([...seen]));
    assert.match(seen.get('pypi') ?? '', /^FAIL .*403/, 'pypi.org is not on the list: the CONNECT is refused');
    assert.match(seen.get('direct-npm') ?? '', /^FAIL/, 'without the proxy the sandbox reaches nothing');
    assert.match(seen.get('direct-pypi') ?? '', /^FAIL/);
    assert.equal(seen.get('node-fetch'), 'OK 200', "Node's fetch honours the proxy (NODE_USE_ENV_PROXY) and the CA bundle");
    assert.match(seen.get('npm-view') ?? '', /^\d+\.\d+\.\d+$/, `npm reaches the registry through the proxy: ${seen.get('npm-view')}`);

    const status = gw!.status('egress#1').egress;
    assert.deepEqual(status.allow, ['registry.npmjs.org']);
    assert.equal(status.refusals, 1, 'the one pypi.org CONNECT');
    const refusal = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.host === 'pypi.org');
    assert.ok(refusal, 'the refusal is logged');
    assert.deepEqual([refusal.runKey, refusal.port, refusal.reason], ['egress#1', 443, 'not_listed']);
    assert.ok(!lines.join('').includes(token), 'the run token is never logged');
    gw!.closeRun('egress#1');
  });

  test('a run without an allow-list is refused the npm registry too', async () => {
    const { token } = gw!.openRun('egress#2', { tokens: 1e6, usd: 1 });
    const e = agentEgressEnv({ gatewayUrl: gw!.url, token, settings: config.environments });
    const seen = await probe(ws, e.env, e.readOnlyMounts, { npm: NPM });
    assert.match(seen.get('npm') ?? '', /^FAIL .*403/, JSON.stringify([...seen]));
    assert.equal(gw!.status('egress#2').egress.refusals, 1);
    gw!.closeRun('egress#2');
  });

  test("a closed run's credentials open nothing", async () => {
    const { token } = gw!.openRun('egress#3', { tokens: 1e6, usd: 1 }, undefined, undefined, ['registry.npmjs.org']);
    gw!.closeRun('egress#3');
    const e = agentEgressEnv({ gatewayUrl: gw!.url, token, settings: config.environments });
    const seen = await probe(ws, e.env, e.readOnlyMounts, { npm: NPM });
    assert.match(seen.get('npm') ?? '', /^FAIL .*407/, JSON.stringify([...seen]));
  });

  test('the real agent (Claude Code through runAgent) reaches the listed registry and nothing else', async () => {
    const curl = (name: string, url: string): string => `curl -s -o /dev/null --max-time 20 -w '${name} connect=%{http_connect} http=%{http_code}\\n' ${url}`;
    let seen = '';
    model.setScript((ctx) => {
      if (!ctx.sideRequest && ctx.turn === 1) seen = ctx.lastToolResult ?? '';
      return scriptFromSteps([{ bash: `${curl('npm', NPM)}; ${curl('pypi', PYPI)}` }])(ctx);
    });
    const workspace = makeWorkspace(false);
    try {
      const env = new MockActivityEnvironment({ attempt: 1 }, { logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } });
      const record: AttemptRecord = await env.run(
        runAgentAttempt,
        { sandbox, gateway: gw!, gatewayUrl: gw!.url, runners: { 'claude-code': claudeCodeRunner }, stuck: DEFAULT_STUCK, logger: quietLogger(), environments: config.environments },
        {
          workflowId: WORKFLOW,
          attempt: 1,
          plan: { ...plan('true'), agentEgress: ['registry.npmjs.org'] },
          workspace,
          prompt: 'fetch the registry',
          limits: { wallClockMs: 120_000, tokens: 10_000_000, usd: 100 },
        },
      );
      assert.equal(record.end, 'agent_exited', `${record.end}: ${record.failure ?? ''}`);
      assert.match(seen, /npm connect=200 http=200/, `the agent's curl reached the registry: ${seen}`);
      assert.match(seen, /pypi connect=403 http=000/, `pypi.org was refused at CONNECT: ${seen}`);
      const status = gw!.status(`${WORKFLOW}#1`);
      assert.equal(status.egress.refusals, 1);
      assert.equal(status.closed, true);
      assert.equal(status.egress.tunnels, 0, 'tunnels close with the attempt');
    } finally {
      workspace.remove();
    }
  });
});
