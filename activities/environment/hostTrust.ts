/**
 * The host's trust store and proxy settings, carried into the containers that reach package
 * registries (environment setup, and agents with `agentEgress`). Registries are often reached
 * through TLS interception or a corporate proxy: the host trusts the interception CA through its
 * bundle, a container does not until the bundle is mounted and named by the variables each
 * toolchain reads.
 */
import { existsSync } from 'node:fs';
import type { EnvironmentsSettings } from '../../worker/config.js';
import { registerSecret } from '../../worker/redact.js';

/** Where the host's CA bundle is mounted (read-only) in a container. */
export const CONTAINER_CA_PATH = '/etc/nightshift/ca-certificates.crt';

/** Proxy settings for containers (URLs as the worker has them; may carry credentials). */
export interface ProxySettings {
  http?: string;
  https?: string;
  noProxy?: string;
}

/** What a container needs to reach registries the way the host does. */
export interface HostTrust {
  /** Host path of a PEM bundle holding every CA the host trusts; absent when none was found. */
  caBundle?: string;
  proxy: ProxySettings;
}

/**
 * The host's trust: the configured CA bundle, else `$SSL_CERT_FILE`, else
 * `/etc/ssl/certs/ca-certificates.crt` when it exists; the configured proxy, else the worker's
 * `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (either case).
 */
export function hostTrust(settings: Pick<EnvironmentsSettings, 'caBundle' | 'proxy'>, env: NodeJS.ProcessEnv = process.env): HostTrust {
  const candidates = [settings.caBundle, env.SSL_CERT_FILE, '/etc/ssl/certs/ca-certificates.crt'].filter((p): p is string => !!p);
  const caBundle = settings.caBundle ?? candidates.find((p) => existsSync(p));
  const pick = (...keys: string[]): string | undefined => keys.map((k) => env[k]).find((v) => v !== undefined && v !== '');
  const proxy: ProxySettings = settings.proxy ?? {
    http: pick('HTTP_PROXY', 'http_proxy'),
    https: pick('HTTPS_PROXY', 'https_proxy'),
    noProxy: pick('NO_PROXY', 'no_proxy'),
  };
  // A proxy URL's credentials are a secret: redacted from anything setup prints into a report.
  for (const url of [proxy.http, proxy.https]) registerProxySecret(url);
  return { caBundle, proxy };
}

/** Registers a proxy URL with credentials (and its password, raw and URL-decoded) for redaction. */
function registerProxySecret(url: string | undefined): void {
  if (!url) return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return;
  }
  if (!parsed.password && !parsed.username) return;
  registerSecret(url);
  registerSecret(parsed.password || undefined);
  if (parsed.password) registerSecret(decodeURIComponent(parsed.password));
}

/**
 * `KEY=value` entries that make the common toolchains trust the bundle mounted at `caPath`:
 * OpenSSL and Go (`SSL_CERT_FILE`), Node and npm (`NODE_EXTRA_CA_CERTS`), pip and requests,
 * curl, git, Cargo.
 */
export function trustEnv(caPath: string = CONTAINER_CA_PATH): string[] {
  return [
    `SSL_CERT_FILE=${caPath}`,
    `NODE_EXTRA_CA_CERTS=${caPath}`,
    `PIP_CERT=${caPath}`,
    `REQUESTS_CA_BUNDLE=${caPath}`,
    `CURL_CA_BUNDLE=${caPath}`,
    `GIT_SSL_CAINFO=${caPath}`,
    `CARGO_HTTP_CAINFO=${caPath}`,
  ];
}

/** `KEY=value` entries for a proxy, in both the upper- and lower-case forms tools read. */
export function proxyEnv(proxy: ProxySettings): string[] {
  const out: string[] = [];
  const both = (key: string, value: string | undefined): void => {
    if (value) out.push(`${key.toUpperCase()}=${value}`, `${key.toLowerCase()}=${value}`);
  };
  both('HTTP_PROXY', proxy.http);
  both('HTTPS_PROXY', proxy.https);
  both('NO_PROXY', proxy.noProxy);
  return out;
}
