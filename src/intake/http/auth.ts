import type { FastifyInstance, FastifyRequest } from 'fastify';
import { QueueUnavailableError } from '../../errors.js';
import type { AbuseGuard } from '../../security/abuse-guard.js';
import type { Credential, CredentialStore } from '../../security/credentials/store.js';
import { type Denial, deny, isDenial } from '../../security/verdict.js';
import type { Principal } from '../accept.js';
import { clientIp } from './client-ip.js';
import { nativeRefusal, type RefusalReply, sendRefusal } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The credential the bearer token proved; set by the API's onRequest hook. */
    apiCredential: Credential | null;
    /** The client address's ban key, for the stage step (principalOf); set with apiCredential. */
    apiBanKey: string | null;
    /**
     * Set when the hook took the bearer on this process's last check of it, unread (the
     * fast path): the stage step confirms it, and any refusal is checked in full first.
     */
    apiAuthUnconfirmed: { ip: string; secret: string } | null;
  }
  interface FastifyContextConfig {
    /**
     * The route answers success only after staging through the door with principalOf(),
     * whose stage step re-checks the credentials version and the ban in the same atomic
     * step as its write: the bearer hook may then skip its own reads (addBearerAuth).
     */
    confirmsAuthAtStage?: boolean;
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

/** How a compatible dialect (intake/http/dialects) reads the secret and words a refusal. */
export interface BearerAuthOptions {
  /** Where the secret is (default: `Authorization: Bearer`; Postmark: its token header). */
  secretOf?: (request: FastifyRequest) => string | undefined;
  /** The refusal in the dialect's own error shape (default: ours). */
  refusal?: (request: FastifyRequest, denial: Denial) => RefusalReply;
}

/** The door's principal for an authenticated API request (after addBearerAuth's hook). */
export function principalOf(request: FastifyRequest): Principal {
  // The onRequest hook answers 401 before a handler runs without one.
  if (!request.apiCredential) throw new Error('API route reached without a credential');
  return {
    credential: request.apiCredential,
    ip: clientIp(request),
    banKey: request.apiBanKey ?? undefined,
  };
}

/**
 * The API's bearer check, on every route of the plugin `app`. Its onRequest hook runs
 * before the body is read, so a banned or unauthenticated client cannot make us parse a
 * large body. Order (CONTRACT §HTTP API, §Abuse guard): a banned IP is refused first
 * (403), then a missing, unknown or revoked secret is 401 and counts as a failure against
 * the IP (user null: a bearer has no name). A secret not yet proven in this process is
 * checked only in an abuse-guard slot, so guesses sent at once get no more checks than
 * one after another.
 *
 * The fast path (issue 14: each Redis round trip waits for an fsync): on a route that
 * confirmsAuthAtStage, a secret this process authenticated within the credential cache's
 * TTL is taken without reading Redis. The stage step then refuses the message if the
 * address is banned or any credential changed since (the door then reads it again), in
 * the same step as its write, so no message is queued on a stale secret or from a banned
 * address. Whatever else such a request is answered — 4xx or 5xx — is checked in full
 * before it goes out (onSend): a banned or refused client gets the 403 or 401 it would
 * have got before its body, and its secret leaves the fast path.
 */
export function addBearerAuth(
  app: FastifyInstance,
  deps: BearerAuthDeps,
  options: BearerAuthOptions = {},
): void {
  const secretOf = options.secretOf ?? bearerSecret;
  const refusal = options.refusal ?? nativeRefusal;
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

  app.decorateRequest('apiCredential', null);
  app.decorateRequest('apiBanKey', null);
  app.decorateRequest('apiAuthUnconfirmed', null);

  app.addHook('onRequest', async (request, reply) => {
    const ip = clientIp(request);
    const secret = secretOf(request);
    request.apiBanKey = deps.abuseGuard.banKeyOf(ip) ?? null;
    if (secret !== undefined && request.routeOptions.config.confirmsAuthAtStage) {
      const recent = deps.credentials.recentlyAuthenticated(secret);
      if (recent) {
        request.apiCredential = recent;
        request.apiAuthUnconfirmed = { ip, secret };
        return undefined;
      }
    }
    let verdict: Denial | Credential;
    try {
      verdict = await check(ip, secret);
    } catch (error) {
      // Redis unreachable: say so (503) rather than letting anyone through or answering 500.
      throw new QueueUnavailableError('credential store unreachable', { cause: error });
    }
    if (isDenial(verdict)) {
      // Sent before the body was read: the connection closes after it, so a refused
      // client cannot keep the socket by trickling the rest of its body (or send the next
      // request on it without reconnecting, which a ban then sees).
      reply.header('connection', 'close');
      return sendRefusal(reply, refusal(request, verdict));
    }
    request.apiCredential = verdict;
    return undefined;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const unconfirmed = request.apiAuthUnconfirmed;
    if (!unconfirmed || reply.statusCode < 400) return payload;
    request.apiAuthUnconfirmed = null;
    let verdict: Denial | Credential;
    try {
      verdict = await check(unconfirmed.ip, unconfirmed.secret);
    } catch {
      // Redis unreachable: the answer already made (a refusal, never a 2xx) stands.
      deps.credentials.forgetRecent(unconfirmed.secret);
      return payload;
    }
    if (!isDenial(verdict)) return payload;
    deps.credentials.forgetRecent(unconfirmed.secret);
    const refused = refusal(request, verdict);
    reply.headers(refused.headers).code(refused.status);
    return JSON.stringify(refused.body);
  });
}

const BANNED = deny('banned', 'this client address is banned');
const UNAUTHORIZED = deny('unauthorized', 'a valid bearer token is required');
/** Every check this address may have before a ban is in flight: try again in a moment. */
const BUSY = deny('rate_limited', 'too many authentication attempts at once', 1);
