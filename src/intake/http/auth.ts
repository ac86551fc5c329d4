import type { FastifyReply, FastifyRequest } from 'fastify';
import { QueueUnavailableError } from '../../errors.js';
import type { AbuseGuard } from '../../security/abuse-guard.js';
import type { Credential, CredentialStore } from '../../security/credentials/store.js';
import { type Denial, deny, isDenial } from '../../security/verdict.js';
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
function refuseUnread(
  request: FastifyRequest,
  reply: FastifyReply,
  denial: Denial,
  options: BearerAuthOptions,
): FastifyReply {
  reply.header('connection', 'close');
  return options.refuse ? options.refuse(request, reply, denial) : sendDenial(reply, denial);
}

/** How a compatible dialect (intake/http/dialects) reads the secret and answers a refusal. */
export interface BearerAuthOptions {
  /** Where the secret is (default: `Authorization: Bearer`; Postmark: its token header). */
  secretOf?: (request: FastifyRequest) => string | undefined;
  /** The refusal in the dialect's own error shape (default: ours). */
  refuse?: (request: FastifyRequest, reply: FastifyReply, denial: Denial) => FastifyReply;
}

/**
 * The API's onRequest hook: it runs before the body is read, so a banned or
 * unauthenticated client cannot make us parse a large body. Order (CONTRACT §HTTP API,
 * §Abuse guard): a banned IP is refused first (403), then a missing, unknown or revoked
 * secret is 401 and counts as a failure against the IP (user null: a bearer has no name).
 * A secret not yet proven in this process is checked only in an abuse-guard slot, so
 * guesses sent at once get no more checks than one after another.
 */
export function createBearerAuth(deps: BearerAuthDeps, options: BearerAuthOptions = {}) {
  const secretOf = options.secretOf ?? bearerSecret;
  async function check(ip: string, secret: string | undefined): Promise<Denial | Credential> {
    if (secret !== undefined && deps.credentials.isProvenSecret(secret)) {
      // Both reads go out together: one round trip. A banned address is still refused.
      const [banned, credential] = await Promise.all([
        deps.abuseGuard.isBanned(ip),
        deps.credentials.authenticateBySecret(secret),
      ]);
      if (banned) return BANNED;
      if (credential) return credential;
      await deps.abuseGuard.recordFailure({ ip, protocol: 'http', user: null });
      return UNAUTHORIZED;
    }
    const slot = await deps.abuseGuard.reserve(ip);
    if (!slot.ok) return slot.reason === 'banned' ? BANNED : BUSY;
    const credential = secret ? await deps.credentials.authenticateBySecret(secret) : undefined;
    const settled = await deps.abuseGuard.settle(
      slot.reservation,
      credential ? { ok: true } : { ok: false, failure: { ip, protocol: 'http', user: null } },
    );
    if (credential && settled.allowed) return credential;
    return credential ? BANNED : UNAUTHORIZED;
  }

  return async function bearerAuth(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> {
    let verdict: Denial | Credential;
    try {
      verdict = await check(clientIp(request), secretOf(request));
    } catch (error) {
      // Redis unreachable: say so (503) rather than letting anyone through or answering 500.
      throw new QueueUnavailableError('credential store unreachable', { cause: error });
    }
    if (isDenial(verdict)) return refuseUnread(request, reply, verdict, options);
    request.apiCredential = verdict;
    return undefined;
  };
}

const BANNED = deny('banned', 'this client address is banned');
const UNAUTHORIZED = deny('unauthorized', 'a valid bearer token is required');
/** Every check this address may have before a ban is in flight: try again in a moment. */
const BUSY = deny('rate_limited', 'too many authentication attempts at once', 1);
