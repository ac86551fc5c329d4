import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  type AdminSession,
  parseCookies,
  SESSION_COOKIE,
  type SessionStore,
  tokensEqual,
} from './session.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The admin session proved by the cookie; set by the admin onRequest hook. */
    adminSession: AdminSession | null;
  }
  interface FastifyContextConfig {
    /** Admin routes reachable without a session (login, static files). */
    adminPublic?: boolean;
  }
}

/** CONTRACT §Admin page + the issue: strict headers on every admin response. */
export const ADMIN_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function isApiRequest(request: FastifyRequest): boolean {
  return request.url.startsWith('/admin/api/') || request.url === '/admin/api';
}

export function sendJsonError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
): FastifyReply {
  return reply.code(status).type('application/json').send({ error: { code, message } });
}

/** The CSRF token a request carries: the `X-CSRF-Token` header or the `_csrf` form field. */
export function csrfTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-csrf-token'];
  if (typeof header === 'string') return header;
  const body = request.body as Record<string, unknown> | null | undefined;
  const field = body && typeof body === 'object' ? body._csrf : undefined;
  return typeof field === 'string' ? field : undefined;
}

/**
 * The admin context's hooks, in order:
 * onRequest — headers on everything; then, for every non-public route (unknown /admin URLs
 * included), a live session or nothing: pages redirect to the login (302), the API answers
 * 401 JSON (CONTRACT §Admin page). The session is checked before any body is read.
 * preHandler — every state-changing request needs the session's CSRF token; without it
 * the handler never runs, so nothing changes (403).
 */
export function createAdminGuard(sessions: SessionStore) {
  return {
    async onRequest(
      request: FastifyRequest,
      reply: FastifyReply,
    ): Promise<FastifyReply | undefined> {
      reply.headers(ADMIN_SECURITY_HEADERS);
      request.adminSession = null;
      if (request.routeOptions.config?.adminPublic === true) return undefined;
      const cookie = parseCookies(request.headers.cookie).get(SESSION_COOKIE);
      const session = await sessions.get(cookie);
      if (session) {
        request.adminSession = session;
        return undefined;
      }
      if (isApiRequest(request)) {
        return sendJsonError(reply, 401, 'unauthorized', 'log in to the admin page first');
      }
      return reply.code(302).header('Location', '/admin/login').send();
    },

    async preHandler(
      request: FastifyRequest,
      reply: FastifyReply,
    ): Promise<FastifyReply | undefined> {
      if (request.method === 'GET' || request.method === 'HEAD') return undefined;
      if (request.routeOptions.config?.adminPublic === true) return undefined;
      const session = request.adminSession;
      if (session && tokensEqual(csrfTokenOf(request), session.csrf)) return undefined;
      return sendJsonError(
        reply,
        403,
        'csrf_failed',
        'missing or wrong CSRF token; nothing was changed',
      );
    },
  };
}
