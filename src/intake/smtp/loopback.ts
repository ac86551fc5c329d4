import { isIPv4, isIPv6 } from 'node:net';

/**
 * Is the client on this machine? (127.0.0.0/8, ::1, and those written IPv4-mapped.)
 * CONTRACT §SMTP submission: AUTH only over TLS, except for loopback clients.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  const text = (address ?? '').trim().toLowerCase();
  const mapped = /^(?:::|(?:0{1,4}:){5})ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  const ip = mapped?.[1] ?? text;
  if (isIPv4(ip)) return ip.split('.')[0] === '127';
  if (!isIPv6(ip)) return false;
  // ::1 in any spelling: every group zero except a final 1.
  const groups = expandIPv6(ip);
  return groups?.[7] === 1 && groups.slice(0, 7).every((g) => g === 0);
}

function expandIPv6(ip: string): number[] | undefined {
  if (ip.includes('.')) return undefined; // embedded IPv4 other than ::ffff: handled above
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined && missing !== 0) return undefined;
  const parts = [...left, ...Array<string>(Math.max(missing, 0)).fill('0'), ...right];
  return parts.length === 8 ? parts.map((part) => Number.parseInt(part, 16)) : undefined;
}
