/**
 * The pure rules of the agent egress proxy ({@link ./egress.ts}): which CONNECT targets a run's
 * allow-list admits, how a `Proxy-Authorization` header names a run token, and whether the
 * worker's own upstream proxy applies to a host (`NO_PROXY`). No I/O.
 *
 * CONNECT: https://www.rfc-editor.org/rfc/rfc9110#name-connect
 * Basic credentials: https://www.rfc-editor.org/rfc/rfc7617
 */
import { isIP } from 'node:net';
import { isNonPublicAddress } from '../netRanges.js';

/** User name of the proxy credentials the agent's container is given (`nightshift:<run token>`). */
export const EGRESS_USER = 'nightshift';

/** A parsed CONNECT target: lower-cased host (IPv6 without brackets, no trailing dot) and port. */
export interface ConnectTarget {
  host: string;
  port: number;
}

/** Why a CONNECT is refused (the one-line reason is sent to the agent and logged). */
export type EgressRefusalKind = 'bad_target' | 'port' | 'not_listed' | 'ip_literal' | 'loopback' | 'not_connect';

/** A refusal: its kind and a one-line reason (never a credential). */
export interface EgressRefusal {
  kind: EgressRefusalKind;
  reason: string;
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;

/**
 * Parses the request target of a CONNECT (`host:port` or `[v6]:port`, RFC 9110 authority-form).
 * Returns undefined for anything else (a path, a user part, a missing or invalid port, a host with
 * characters no DNS name or IP literal has).
 */
export function parseConnectTarget(target: string | undefined): ConnectTarget | undefined {
  if (!target) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]/@\s]+)):(\d{1,5})$/.exec(target);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (!(port >= 1 && port <= 65535)) return undefined;
  if (m[1] !== undefined) return isIP(m[1]) === 6 ? { host: m[1].toLowerCase(), port } : undefined;
  const host = (m[2] ?? '').toLowerCase().replace(/\.$/, '');
  if (isIP(host)) return { host, port };
  if (host.length > 253 || !host.split('.').every((l) => l.length <= 63 && LABEL.test(l))) return undefined;
  return { host, port };
}

/**
 * Whether `host` (already lower-cased, as {@link parseConnectTarget} returns it) is on the
 * allow-list: equal to an entry, or a subdomain of a `*.suffix` entry (`*.example.org` admits
 * `a.example.org` and `a.b.example.org`, not `example.org`). An IP literal matches only an entry
 * equal to it, never a wildcard.
 */
export function hostAllowed(host: string, allow: readonly string[]): boolean {
  const h = host.toLowerCase();
  const ip = isIP(h) !== 0;
  return allow.some((entry) => {
    const e = entry.toLowerCase();
    if (e === h) return true;
    if (ip || !e.startsWith('*.')) return false;
    const suffix = e.slice(1); // ".example.org"
    return h.length > suffix.length && h.endsWith(suffix);
  });
}

/**
 * Decides a CONNECT target for a run: the port must be one of `ports`, the host on the allow-list
 * (IP literals only when listed exactly). Returns undefined when allowed.
 */
export function checkTarget(target: ConnectTarget | undefined, raw: string, allow: readonly string[], ports: readonly number[]): EgressRefusal | undefined {
  if (!target) return { kind: 'bad_target', reason: `"${raw.slice(0, 100)}" is not a host:port CONNECT target` };
  if (!ports.includes(target.port)) return { kind: 'port', reason: `port ${target.port} is not allowed (only ${ports.join(', ')})` };
  if (!hostAllowed(target.host, allow)) {
    if (isIP(target.host)) return { kind: 'ip_literal', reason: `IP address ${target.host} is not on the egress allow-list` };
    return { kind: 'not_listed', reason: `host ${target.host} is not on the egress allow-list${allow.length ? ` (${allow.join(', ')})` : ' (none)'}` };
  }
  return undefined;
}

/** The token of `Proxy-Authorization: Basic base64("nightshift:<token>")`; undefined when absent or of another shape or user. */
export function proxyToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(0, colon) !== EGRESS_USER) return undefined;
  const token = decoded.slice(colon + 1);
  return token || undefined;
}

/**
 * Whether an address (as `dns.lookup` returns it) is not on the public internet: loopback,
 * private networks, link-local and cloud metadata ({@link isNonPublicAddress}). A listed host
 * whose DNS points there (a dangling subdomain) reaches nothing.
 */
export function isLocalAddress(address: string): boolean {
  return isNonPublicAddress(address);
}

/**
 * Whether `NO_PROXY` (comma- or space-separated: `*`, host names, `.suffix` or `*.suffix`,
 * optional `:port`, IP literals) exempts `host:port` from the upstream proxy. A bare name also
 * covers its subdomains, as curl and most tools read it.
 */
export function noProxyMatches(noProxy: string | undefined, host: string, port: number): boolean {
  if (!noProxy) return false;
  const h = host.toLowerCase();
  for (const raw of noProxy.split(/[\s,]+/)) {
    let e = raw.trim().toLowerCase();
    if (!e) continue;
    if (e === '*') return true;
    const pm = /^(.*?):(\d+)$/.exec(e);
    if (pm && !e.includes('::')) {
      if (Number(pm[2]) !== port) continue;
      e = pm[1] ?? '';
    }
    e = e.replace(/^\[|\]$/g, '').replace(/^\*/, '');
    if (!e) continue;
    if (e.startsWith('.')) {
      if (h.endsWith(e) || h === e.slice(1)) return true;
    } else if (h === e || (!isIP(h) && h.endsWith('.' + e))) return true;
  }
  return false;
}

/** The worker's upstream proxy for HTTPS: `HTTPS_PROXY` / `https_proxy` and `NO_PROXY` / `no_proxy`. */
export function upstreamProxyFromEnv(env: NodeJS.ProcessEnv = process.env): { url: string; noProxy?: string } | undefined {
  const pick = (...keys: string[]): string | undefined => keys.map((k) => env[k]).find((v) => v !== undefined && v !== '');
  const url = pick('HTTPS_PROXY', 'https_proxy');
  return url ? { url, noProxy: pick('NO_PROXY', 'no_proxy') } : undefined;
}
