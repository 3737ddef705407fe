/**
 * What an agent container with `agentEgress` is given: the gateway's allow-listing CONNECT proxy
 * ({@link ../worker/gateway/egress.ts}) as its HTTP(S) proxy, authenticated by the run's token,
 * and the host's CA bundle (registries may be reached through TLS interception).
 */
import { Buffer } from 'node:buffer';
import type { EnvironmentsSettings } from '../worker/config.js';
import { CONTAINER_CA_PATH, hostTrust, proxyEnv, trustEnv } from './environment/hostTrust.js';
import type { SandboxSpec } from './sandbox.js';

/** The container settings of an agent with egress. */
export interface AgentEgressSettings {
  /** `KEY=value` entries: `HTTPS_PROXY`/`HTTP_PROXY` (both cases), `NO_PROXY`, `NODE_USE_ENV_PROXY`, the CA variables. Carry the run token. */
  env: string[];
  /** The host's CA bundle, read-only at {@link CONTAINER_CA_PATH}; empty when the host has none. */
  readOnlyMounts: NonNullable<SandboxSpec['readOnlyMounts']>;
  /** `base64("nightshift:<token>")`, the `Proxy-Authorization` credential (register it for redaction). */
  basicCredential: string;
}

/**
 * The proxy environment of an agent container: `http://nightshift:<token>@<gateway host:port>`
 * for HTTP and HTTPS (tools send CONNECT for https URLs), the gateway itself exempted through
 * `NO_PROXY` (model requests go straight to it), `NODE_USE_ENV_PROXY=1` (Node ≥ 24 honours the
 * proxy variables in `fetch` and `https`), and the trust variables of {@link trustEnv} when the
 * host has a CA bundle (`settings.caBundle`, else `$SSL_CERT_FILE`, else the system bundle).
 * @throws TypeError when `gatewayUrl` is not a URL
 */
export function agentEgressEnv(opts: { gatewayUrl: string; token: string; settings: Pick<EnvironmentsSettings, 'caBundle' | 'proxy'>; env?: NodeJS.ProcessEnv }): AgentEgressSettings {
  const gw = new URL(opts.gatewayUrl);
  const port = gw.port || (gw.protocol === 'https:' ? '443' : '80');
  const proxyUrl = `http://nightshift:${encodeURIComponent(opts.token)}@${gw.hostname}:${port}`;
  const noProxy = gw.hostname.replace(/^\[|\]$/g, '');
  const env = [...proxyEnv({ http: proxyUrl, https: proxyUrl, noProxy }), 'NODE_USE_ENV_PROXY=1'];
  const trust = hostTrust(opts.settings, opts.env ?? process.env);
  const readOnlyMounts: AgentEgressSettings['readOnlyMounts'] = [];
  if (trust.caBundle) {
    env.push(...trustEnv(CONTAINER_CA_PATH));
    readOnlyMounts.push({ host: trust.caBundle, container: CONTAINER_CA_PATH });
  }
  return { env, readOnlyMounts, basicCredential: Buffer.from(`nightshift:${opts.token}`).toString('base64') };
}
