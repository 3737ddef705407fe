/**
 * Hostile probes the attack suite's scripted agent runs inside the sandbox (bash and `python3`,
 * the image has no curl), and the parsers of what they print. Kept here, not in devstack/: the
 * demo has no use for them.
 */

/** Probes reading what a sandbox could steal: environment, PID 1's environment, sockets, mounts, host dirs. */
export function secretProbes(opts: { stateDir: string; secrets: string[] }): Array<{ name: string; bash: string }> {
  // Each secret split in two quoted halves: the command text never holds the value itself.
  const patterns = opts.secrets.map((v) => `-e '${v.slice(0, 4)}''${v.slice(4)}'`).join(' ');
  return [
    { name: 'env', bash: 'env' },
    { name: 'proc1-environ', bash: "tr '\\0' '\\n' < /proc/1/environ" },
    { name: 'docker-socket', bash: 'ls -la /var/run/docker.sock /run/docker.sock 2>&1; echo "exit=$?"' },
    { name: 'mountinfo', bash: 'cat /proc/self/mountinfo' },
    {
      name: 'host-dirs',
      bash: `id; ls -la ${opts.stateDir} /root /etc/nightshift /var/lib/docker /var/run 2>&1; cat /root/.gitconfig /root/.config/nightshift/* 2>&1 | head -20`,
    },
    {
      name: 'grep-secrets',
      bash: `grep -rsIl ${patterns} /workspace /home /root /etc /tmp /run /opt /var /proc/1/environ /proc/self/environ 2>/dev/null; echo GREP_DONE`,
    },
  ];
}

/** A TCP / UDP / DNS target of the egress probe. */
export interface EgressTarget {
  name: string;
  kind: 'tcp' | 'udp' | 'dns' | 'http';
  host: string;
  port: number;
}

/**
 * One `python3` script that tries every target in parallel (3 s each, 10 s for `http`: the one that must answer, on a loaded host too) and prints one line per
 * target: `EGRESS <name> OPEN|BLOCKED <detail>`. `udp` sends a datagram and waits for any reply
 * (open only if one comes); `dns` resolves `host` with the system resolver; `http` GETs `/`.
 */
export function egressProbe(targets: EgressTarget[]): string {
  return `python3 - <<'PY'
import json, socket, concurrent.futures, urllib.request
T = json.loads(${JSON.stringify(JSON.stringify(targets))})
def probe(t):
    try:
        if t['kind'] == 'tcp':
            s = socket.create_connection((t['host'], t['port']), timeout=3); s.close(); return 'OPEN connected'
        if t['kind'] == 'udp':
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
            q = b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x03deb\\x06debian\\x03org\\x00\\x00\\x01\\x00\\x01'
            s.sendto(q, (t['host'], t['port'])); data = s.recv(512); return 'OPEN reply %d bytes' % len(data)
        if t['kind'] == 'dns':
            return 'OPEN ' + ','.join(sorted({a[4][0] for a in socket.getaddrinfo(t['host'], t['port'])}))
        if t['kind'] == 'http':
            with urllib.request.urlopen('http://%s:%d/' % (t['host'], t['port']), timeout=10) as r:
                return 'OPEN http %d %s' % (r.status, r.read(40).decode(errors='replace').strip())
    except Exception as e:
        return 'BLOCKED %s %s' % (type(e).__name__, str(e)[:80])
with concurrent.futures.ThreadPoolExecutor(len(T)) as ex:
    for t, r in zip(T, ex.map(probe, T)):
        print('EGRESS', t['name'], r)
PY`;
}

/** Parses `EGRESS <name> <OPEN|BLOCKED> …` lines into name → line rest. */
export function parseEgress(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const r = /^EGRESS (\S+) (.*)$/.exec(line.trim());
    if (r) m.set(r[1]!, r[2]!);
  }
  return m;
}

/** A request the agent sends to the gateway itself, with a nonce in its prompt. */
export interface AbuseCase {
  name: string;
  /** Extra top-level body fields. */
  body?: Record<string, unknown>;
  /** Replaces the user message content. */
  content?: unknown;
  headers?: Record<string, string>;
}

/** Nonce of an abuse case, put in its prompt so that the upstream's record shows whether it arrived. */
export function abuseNonce(name: string): string {
  return `ns-abuse-nonce-${name}`;
}

/**
 * One `python3` script sending each case to `$ANTHROPIC_BASE_URL/v1/messages` with
 * `$ANTHROPIC_API_KEY` (or `token` when given) and printing `ABUSE <name> <status> <body start>`.
 */
export function gatewayAbuseProbe(cases: AbuseCase[], token?: string): string {
  const withNonce = cases.map((c) => ({ ...c, nonce: abuseNonce(c.name) }));
  return `python3 - <<'PY'
import json, os, urllib.request, urllib.error
B = os.environ['ANTHROPIC_BASE_URL']
K = ${token ? JSON.stringify(token) : "os.environ['ANTHROPIC_API_KEY']"}
for c in json.loads(${JSON.stringify(JSON.stringify(withNonce))}):
    content = c.get('content') or c['nonce']
    if isinstance(content, list): content = [{'type': 'text', 'text': c['nonce']}] + content
    body = {'model': 'claude-sonnet-4-5', 'max_tokens': 16, 'messages': [{'role': 'user', 'content': content}], **c.get('body', {})}
    h = {'content-type': 'application/json', 'x-api-key': K, 'anthropic-version': '2023-06-01', **c.get('headers', {})}
    req = urllib.request.Request(B + '/v1/messages', data=json.dumps(body).encode(), headers=h, method='POST')
    try:
        with urllib.request.urlopen(req, timeout=20) as r: code, txt = r.status, r.read(200)
    except urllib.error.HTTPError as e: code, txt = e.code, e.read(200)
    except Exception as e: code, txt = -1, str(e).encode()
    print('ABUSE', c['name'], code, txt.decode(errors='replace').replace('\\n', ' '))
PY`;
}

/** Parses `ABUSE <name> <status> …` lines into name → status. */
export function parseAbuse(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    const r = /^ABUSE (\S+) (-?\d+)/.exec(line.trim());
    if (r) m.set(r[1]!, Number(r[2]));
  }
  return m;
}
