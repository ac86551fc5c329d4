import type { FastifyRequest } from 'fastify';
import { plainIp } from '../../observability/events.js';

/**
 * The client's address is the socket's peer, never a forwarded header (trustProxy is
 * off): bans and auth-failure counts must not be steerable by the client. IPv4-mapped
 * IPv6 is written plainly, as the contract wants in logs and bans.
 */
export function clientIp(request: FastifyRequest): string {
  return plainIp(request.socket.remoteAddress);
}
