import { isIPv4, isIPv6 } from 'node:net';
import { plainIp } from '../observability/events.js';

/** The eight 16-bit groups of an IPv6 address (`::` expanded, an IPv4 tail converted). */
function ipv6Groups(ip: string): number[] | undefined {
  let text = ip.split('%')[0] ?? '';
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (isIPv4(tail)) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - left.length - right.length;
  if (rest === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...new Array<string>(missing).fill('0'), ...right].map((group) =>
    Number.parseInt(group, 16),
  );
  return groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff)
    ? groups
    : undefined;
}

/**
 * What the abuse guard counts and bans (CONTRACT §Abuse guard): an IPv4 address as
 * written (`::ffff:1.2.3.4` is IPv4), an IPv6 client by its /64 — one subscriber's
 * network, where every host can pick a new address at will, so per-address counting would
 * never reach a ban. `2001:db8:1:2::/64` also names itself (for `bans unban`).
 */
export function guardAddress(ip: string): string {
  const plain = plainIp(ip.trim());
  const [address = '', bits] = plain.split('/');
  if (!isIPv6(address) || (bits !== undefined && bits !== '64')) return plain;
  const groups = ipv6Groups(address);
  if (!groups) return plain;
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}
