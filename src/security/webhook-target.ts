import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Host name → its addresses (injectable: tests resolve only loopback names). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every address. */
export const systemResolver: Resolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => ({
    address: entry.address,
    family: entry.family === 6 ? 6 : 4,
  }));

/**
 * Where a webhook may not point unless POSTWARDEN_WEBHOOK_ALLOW_PRIVATE=true (SSRF;
 * CONTRACT §Webhooks): this host, private networks, link-local (cloud metadata at
 * 169.254.169.254), unique-local, unspecified, CGNAT and multicast. IPv4-mapped IPv6
 * (`::ffff:127.0.0.1`, `::ffff:7f00:1`) is checked against the IPv4 ranges (node's
 * BlockList reads it so; the unit test pins it), and the deprecated IPv4-compatible form
 * (::/96) is refused whole: both are how a loopback or private IPv4 address is smuggled
 * past a check that reads only IPv4.
 */
const REFUSED = (() => {
  const list = new BlockList();
  for (const [net, bits] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const) {
    list.addSubnet(net, bits, 'ipv4');
  }
  for (const [net, bits] of [
    ['::', 96],
    ['fe80::', 10],
    ['fc00::', 7],
    ['ff00::', 8],
  ] as const) {
    list.addSubnet(net, bits, 'ipv6');
  }
  list.addAddress('::1', 'ipv6');
  return list;
})();

/** Whether `ip` is an address a webhook may not reach without the switch. */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return true; // not an address at all: refuse rather than guess
  return REFUSED.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

/** A checked target: the URL and the one address the request must connect to. */
export interface CheckedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export type TargetCheck = { ok: true; target: CheckedTarget } | { ok: false; reason: string };

/**
 * Check a webhook URL: http(s) only, no user:password in it, and its host resolved now;
 * every address it resolves to must be public (unless `allowPrivate`). The caller
 * connects to `target.address` (not to the name again), so a DNS answer that changes
 * between this check and the connect (rebinding) cannot swap in another address.
 */
export async function checkWebhookTarget(
  raw: string,
  options: { allowPrivate: boolean; resolve?: Resolver | undefined },
): Promise<TargetCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `not a URL: ${raw}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'only http:// and https:// webhook URLs are allowed' };
  }
  if (url.username || url.password) {
    return { ok: false, reason: 'a webhook URL may not carry a user name or password' };
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (options.resolve ?? systemResolver)(host);
    } catch (error) {
      return {
        ok: false,
        reason: `cannot resolve ${host}: ${(error as { code?: string }).code ?? 'error'}`,
      };
    }
  }
  const first = addresses[0];
  if (!first) return { ok: false, reason: `${host} resolves to no address` };
  if (!options.allowPrivate) {
    const refused = addresses.find((entry) => isPrivateAddress(entry.address));
    if (refused) {
      return {
        ok: false,
        reason: `${host} resolves to ${refused.address}, a loopback, private, link-local or unique-local address (set POSTWARDEN_WEBHOOK_ALLOW_PRIVATE=true to allow it)`,
      };
    }
  }
  return { ok: true, target: { url, address: first.address, family: first.family } };
}
