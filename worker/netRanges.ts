/**
 * Address ranges that are not the public internet: loopback, private networks (RFC 1918,
 * carrier-grade NAT), link-local and the cloud metadata / host agent addresses (AWS, GCP, Azure,
 * Alibaba, OpenStack: 169.254.169.254, 168.63.129.16, 100.100.100.200), IPv6 unique-local and
 * link-local. Hostile code (a repository's setup, an agent with egress) must not reach them.
 */
import { isIP } from 'node:net';

/** IPv4 ranges (CIDR) that are not public, in the order iptables rules list them. */
export const NON_PUBLIC_IPV4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '168.63.129.16/32',
] as const;

/** An IPv4 dotted quad as a 32-bit unsigned number. */
function ipv4(a: string): number {
  return a.split('.').reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
}

/** Whether IPv4 `address` is inside `cidr`. */
export function inCidr(address: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const n = Number(bits);
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (ipv4(address) & mask) === (ipv4(base) & mask);
}

/**
 * Whether an address (as `dns.lookup` returns it, IPv4-mapped IPv6 included) is not on the public
 * internet ({@link NON_PUBLIC_IPV4}; IPv6 `::`, `::1`, `fc00::/7`, `fe80::/10`).
 */
export function isNonPublicAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^::ffff:(?=\d+\.)/, '');
  if (isIP(a) === 4) return NON_PUBLIC_IPV4.some((c) => inCidr(a, c));
  if (isIP(a) !== 6) return true;
  return a === '::1' || a === '::' || /^f[cd]/.test(a) || /^fe[89ab]/.test(a);
}
