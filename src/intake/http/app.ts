import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { MessageStore } from '../../queue/message-store.js';
import type { DurabilityMonitor } from '../../redis/durability.js';
import type { AbuseGuard } from '../../security/abuse-guard.js';
import type { CredentialStore } from '../../security/credentials/store.js';
import type { AcceptDeps } from '../accept.js';
import { handleClientError, handleError } from './error-handlers.js';
import { HttpErrors, sendError } from './errors.js';
import { healthRoutes } from './health-routes.js';
import { messagesRoutes } from './messages-routes.js';

export interface HttpAppDeps {
  credentials: CredentialStore;
  abuseGuard: AbuseGuard;
  accept: AcceptDeps;
  store: MessageStore;
  durability: DurabilityMonitor;
  maxMessageBytes: number;
  logger: Logger;
  /** Extra plugins registered after the API routes (admin, metrics come later). */
  plugins?: Array<(app: FastifyInstance) => Promise<void>>;
}

/**
 * The HTTP listener's app (CONTRACT §HTTP API): the message API and health routes, then
 * `deps.plugins` (admin, metrics). Every answer that is not a success is
 * `{"error":{"code","message"}}` — never a stack, never fastify's default shape.
 */
export async function buildHttpApp(deps: HttpAppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    // Request logs use fastify's default serializers: method, url, addresses — no
    // headers (Authorization) and no bodies.
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // The contract's size limit applies to the request body (413 too_large).
    bodyLimit: deps.maxMessageBytes,
    // The client IP is the socket peer: forwarded headers would let clients dodge bans.
    trustProxy: false,
    // Router-level errors (bad URL encoding, over-long params) and malformed HTTP get
    // our shape too, not fastify's default.
    frameworkErrors: (error, request, reply) => handleError(error, request, reply),
    clientErrorHandler: handleClientError,
    ajv: {
      customOptions: {
        // Unknown fields are refused, not stripped; types are not coerced (GOTCHAS §fastify 5).
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
      },
    },
  });

  // Only JSON bodies: without the text/plain parser any other type is a 415.
  app.removeContentTypeParser('text/plain');

  app.setNotFoundHandler((_request, reply) => sendError(reply, HttpErrors.notFound));
  app.setErrorHandler(handleError);

  await app.register(healthRoutes(deps.durability));
  await app.register(messagesRoutes(deps));
  for (const plugin of deps.plugins ?? []) await app.register(plugin);
  return app;
}
