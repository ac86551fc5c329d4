import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { plainIp } from '../../observability/events.js';
import type { AdminDeps } from '../deps.js';
import {
  LOGIN_COOKIE,
  parseCookies,
  randomToken,
  SESSION_COOKIE,
  SESSION_MAX_AGE_SECONDS,
  serializeCookie,
  tokensEqual,
} from '../session.js';
import { renderLogin } from '../views/login.js';
import { ADMIN_BODY_LIMIT, field } from './form.js';

const LOGIN_TOKEN_SECONDS = 30 * 60;
const BANNED = 'This address is banned after repeated failed logins.';
const MAX_PASSWORD_LENGTH = 1024;

function clientIp(request: FastifyRequest): string {
  // The socket peer, or what a trusted proxy reports (runtime/http-server.ts trustProxy):
  // never a header the client chose, so bans are not steerable by it.
  return plainIp(request.ip);
}

/**
 * Login and logout. A failed login counts for the abuse guard like any failed
 * authentication (CONTRACT §Abuse guard, protocol `admin`); a banned IP cannot log in.
 * The login form carries a double-submit token against login CSRF; a successful login
 * always starts a brand-new session (no fixation).
 */
export function authRoutes(deps: AdminDeps) {
  return async function registerAuthRoutes(app: FastifyInstance): Promise<void> {
    const { sessions, secureCookies: secure } = deps;

    function showLogin(reply: FastifyReply, status: number, error?: string): FastifyReply {
      const token = randomToken();
      reply.header(
        'Set-Cookie',
        serializeCookie(LOGIN_COOKIE, token, { secure, maxAgeSeconds: LOGIN_TOKEN_SECONDS }),
      );
      return reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(renderLogin(token, error).value);
    }

    app.get('/login', { config: { adminPublic: true } }, async (request, reply) => {
      const current = await sessions.get(parseCookies(request.headers.cookie).get(SESSION_COOKIE));
      if (current) return reply.code(302).header('Location', '/admin').send();
      return showLogin(reply, 200);
    });

    app.post(
      '/login',
      { config: { adminPublic: true }, bodyLimit: ADMIN_BODY_LIMIT },
      async (request, reply) => {
        const ip = clientIp(request);
        if (await deps.abuseGuard.isBanned(ip)) return showLogin(reply, 403, BANNED);
        const cookieToken = parseCookies(request.headers.cookie).get(LOGIN_COOKIE);
        if (!tokensEqual(cookieToken, field(request.body, '_login'))) {
          // No password was checked: nothing to count. The fresh form carries a new token.
          return showLogin(reply, 403, 'The login form expired; please try again.');
        }
        // The password is checked only in an abuse-guard slot: guesses sent at once get
        // no more checks than one after another, and none once the address is banned.
        const slot = await deps.abuseGuard.reserve(ip);
        if (!slot.ok) {
          return slot.reason === 'banned'
            ? showLogin(reply, 403, BANNED)
            : showLogin(reply, 429, 'Too many login attempts at once; try again in a moment.');
        }
        const password = field(request.body, 'password').slice(0, MAX_PASSWORD_LENGTH);
        const right = await deps.settings.verifyAdminPassword(password);
        const settled = await deps.abuseGuard.settle(
          slot.reservation,
          right ? { ok: true } : { ok: false, failure: { ip, protocol: 'admin', user: 'admin' } },
        );
        if (!right) {
          deps.logger.debug({ ip }, 'admin login failed');
          return showLogin(reply, 401, 'Wrong password.');
        }
        if (!settled.allowed) return showLogin(reply, 403, BANNED);
        const session = await sessions.create();
        reply.header('Set-Cookie', [
          serializeCookie(SESSION_COOKIE, session.id, {
            secure,
            maxAgeSeconds: SESSION_MAX_AGE_SECONDS,
          }),
          serializeCookie(LOGIN_COOKIE, '', { secure, maxAgeSeconds: 0 }),
        ]);
        return reply.code(303).header('Location', '/admin').send();
      },
    );

    app.post('/logout', { bodyLimit: ADMIN_BODY_LIMIT }, async (request, reply) => {
      if (request.adminSession) await sessions.destroy(request.adminSession.id);
      reply.header('Set-Cookie', serializeCookie(SESSION_COOKIE, '', { secure, maxAgeSeconds: 0 }));
      return reply.code(303).header('Location', '/admin/login').send();
    });
  };
}
