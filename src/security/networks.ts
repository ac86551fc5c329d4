import { BlockList, isIPv6 } from 'node:net';
import { plainIp } from '../observability/events.js';

/**
 * Lists built empty (the default for trusted networks and proxies): isInNetworks answers
 * them without BlockList.check, which builds a SocketAddress per call — a per-request
 * cost on the HTTP hot path for a list that can match nothing.
 */
const EMPTY_LISTS = new WeakSet<BlockList>();

/** IP addresses and CIDR networks (validated by config/schema.ts) as a set to check peers against. */
export function networkBlockList(networks: readonly string[]): BlockList {
  const list = new BlockList();
  if (networks.length === 0) EMPTY_LISTS.add(list);
  for (const entry of networks) {
    const [address = '', bits] = entry.split('/');
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

/** Whether `ip` (IPv4-mapped IPv6 read as IPv4) is in `list`. */
export function isInNetworks(list: BlockList, ip: string | undefined): boolean {
  if (EMPTY_LISTS.has(list)) return false;
  const plain = plainIp(ip);
  return plain !== '' && list.check(plain, isIPv6(plain) ? 'ipv6' : 'ipv4');
}
