/**
 * The sandbox boundary, on the real Docker engine: a container on the sandbox network reaches the
 * model gateway's port on the host and nothing else — no other host port, no outside address.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { SandboxManager } from '../../activities/sandbox.js';
import { parseConfig } from '../../worker/config.js';
import { createRootLogger } from '../../worker/logger.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const logger = createRootLogger('warn');
const config = parseConfig({ gateway: { prices: {} }, repos: { r: { url: 'x', github: 'a/b', testCommand: 't', budget: { minutes: 1, tokens: 1, usd: 1 } } } });
const sandbox = new SandboxManager(new Docker(), config.sandbox, logger);
let gatewayIp: string;
const servers: Server[] = [];
let unisolate: () => Promise<void>;
let ws: string;

async function serve(host: string, body: string): Promise<number> {
  const s = createServer((_req, res) => res.end(body));
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, host, r));
  return (s.address() as { port: number }).port;
}

/** Runs a Python HTTP probe in a sandbox container; returns what it printed. */
async function probe(url: string): Promise<string> {
  const lines: string[] = [];
  const code =
    'import sys,urllib.request\n' +
    'try:\n  print("OK " + urllib.request.urlopen(sys.argv[1], timeout=3).read().decode())\n' +
    'except Exception as e:\n  print("FAIL " + type(e).__name__)\n';
  const s = await sandbox.start({
    workflowId: 'sandbox-test',
    purpose: 'agent',
    image: 'nightshift/claude-code:latest',
    cmd: ['python3', '-c', code, url],
    env: [],
    workspace: ws,
    network: 'sandbox',
    onLine: (_s, l) => lines.push(l),
  });
  try {
    await s.exited;
  } finally {
    await s.remove();
  }
  return lines.join('\n');
}

before(async () => {
  ws = await mkdtemp(join(tmpdir(), 'ns-sbx-'));
  gatewayIp = (await sandbox.ensureNetwork()).gatewayIp;
});
after(async () => {
  await unisolate?.();
  for (const s of servers) s.close();
  await rm(ws, { recursive: true, force: true });
});

describe('sandbox network', { timeout: 120_000 }, () => {
  test('reaches only the gateway port on the host', async () => {
    const gatewayPort = await serve(gatewayIp, 'gateway');
    const otherPort = await serve('0.0.0.0', 'other host service');
    unisolate = await sandbox.isolateHost(gatewayIp, gatewayPort);
    assert.equal(await probe(`http://${gatewayIp}:${gatewayPort}/`), 'OK gateway');
    assert.match(await probe(`http://${gatewayIp}:${otherPort}/`), /^FAIL/);
    assert.match(await probe('http://deb.debian.org/'), /^FAIL/);
    assert.equal(await sandbox.removeRunContainers('sandbox-test'), 0, 'every probe container was removed');
  });
});
