import type { FastifyRequest } from 'fastify';
import { plainIp } from '../../observability/events.js';

/**
 * The client's address: the socket's peer, or behind a proxy listed in
 * POSTWARDEN_TRUSTED_PROXIES the address that proxy reports (fastify's trustProxy,
 * runtime/http-server.ts) — never a header a client could set itself, so bans and
 * auth-failure counts are not steerable. IPv4-mapped IPv6 is written plainly, as the
 * contract wants in logs and bans.
 */
export function clientIp(request: FastifyRequest): string {
  return plainIp(request.ip);
}
