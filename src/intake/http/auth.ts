import type { FastifyReply, FastifyRequest } from 'fastify';
import { QueueUnavailableError } from '../../errors.js';
import type { AbuseGuard } from '../../security/abuse-guard.js';
import type { Credential, CredentialStore } from '../../security/credentials/store.js';
import { type Denial, deny } from '../../security/verdict.js';
import { clientIp } from './client-ip.js';
import { sendDenial } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The credential the bearer token proved; set by the API's onRequest hook. */
    apiCredential: Credential | null;
  }
}

export interface BearerAuthDeps {
  credentials: CredentialStore;
  abuseGuard: AbuseGuard;
}

const BEARER_RE = /^Bearer +(\S+) *$/i;

function bearerSecret(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return typeof header === 'string' ? BEARER_RE.exec(header)?.[1] : undefined;
}

/**
 * A refusal sent before the body was read: the connection closes after it, so a refused
 * client cannot keep the socket by trickling the rest of its body (or send the next
 * request on it without reconnecting, which a ban then sees).
 */
function refuseUnread(reply: FastifyReply, denial: Denial): FastifyReply {
  reply.header('connection', 'close');
  return sendDenial(reply, denial);
}

/**
 * The API's onRequest hook: it runs before the body is read, so a banned or
 * unauthenticated client cannot make us parse a large body. Order (CONTRACT §HTTP API,
 * §Abuse guard): a banned IP is refused first (403), then a missing, unknown or revoked
 * secret is 401 and counts as a failure against the IP (user null: a bearer has no name).
 */
export function createBearerAuth(deps: BearerAuthDeps) {
  return async function bearerAuth(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> {
    const ip = clientIp(request);
    try {
      // Both reads go out together: one Redis round trip instead of two in a row. The
      // verdict order is unchanged — a banned address is refused whatever its token.
      const secret = bearerSecret(request);
      const [banned, credential] = await Promise.all([
        deps.abuseGuard.isBanned(ip),
        secret ? deps.credentials.authenticateBySecret(secret) : undefined,
      ]);
      if (banned) return refuseUnread(reply, deny('banned', 'this client address is banned'));
      if (!credential) {
        await deps.abuseGuard.recordFailure({ ip, protocol: 'http', user: null });
        return refuseUnread(reply, deny('unauthorized', 'a valid bearer token is required'));
      }
      request.apiCredential = credential;
      return undefined;
    } catch (error) {
      // Redis unreachable: say so (503) rather than letting anyone through or answering 500.
      throw new QueueUnavailableError('credential store unreachable', { cause: error });
    }
  };
}
