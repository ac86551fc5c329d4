import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
} from 'fastify';
import { handleClientError, handleError } from '../intake/http/error-handlers.js';
import { HttpErrors, sendError } from '../intake/http/errors.js';
import { healthRoutes, type Readiness } from '../observability/health.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createMetricsPlugin } from '../observability/metrics-plugin.js';

export interface HttpServerOptions {
  logger: Logger;
  /** Largest request body (the intake: POSTWARDEN_MAX_MESSAGE_BYTES; 413 too_large). */
  bodyLimit: number;
  readiness: () => Readiness;
  /** Whether delivery is paused (the kill switch), as /readyz reports it. */
  paused?: () => Promise<boolean>;
  metrics: Metrics;
  /** The role's own routes: the API and the admin page on an intake, none on a worker. */
  plugins: readonly FastifyPluginAsync[];
}

/**
 * The HTTP listener every role has (CONTRACT §HTTP API): `/healthz`, `/readyz` and
 * `/metrics`, then the role's plugins. Every answer that is not a success is
 * `{"error":{"code","message"}}` — never a stack, never fastify's default shape — which is
 * why the intake's error handlers are the server's, whatever the role.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    // Request logs use fastify's default serializers: method, url, addresses — no
    // headers (Authorization) and no bodies.
    loggerInstance: options.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit,
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

  // Only JSON bodies (and the admin's own form parser): any other type is a 415.
  app.removeContentTypeParser('text/plain');

  app.setNotFoundHandler((_request, reply) => sendError(reply, HttpErrors.notFound));
  app.setErrorHandler(handleError);

  await app.register(healthRoutes(options.readiness, options.paused));
  await app.register(createMetricsPlugin(options.metrics));
  for (const plugin of options.plugins) await app.register(plugin);
  return app;
}
