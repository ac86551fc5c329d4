import type { BlockList, Socket } from 'node:net';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
} from 'fastify';
import { handleClientError, handleError } from '../intake/http/error-handlers.js';
import { HttpErrors, sendError } from '../intake/http/errors.js';
import { plainIp } from '../observability/events.js';
import { healthRoutes, type Readiness } from '../observability/health.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createMetricsPlugin } from '../observability/metrics-plugin.js';
import { ConnectionLimiter } from '../security/connection-limits.js';
import { isInNetworks, networkBlockList } from '../security/networks.js';

export interface HttpServerOptions {
  logger: Logger;
  /** Largest request body (the intake: POSTWARDEN_MAX_MESSAGE_BYTES; 413 too_large). */
  bodyLimit: number;
  /** Headers and body must arrive within this (POSTWARDEN_HTTP_REQUEST_TIMEOUT): 408. */
  requestTimeoutMs: number;
  /** Peers whose X-Forwarded-For names the client (POSTWARDEN_TRUSTED_PROXIES). */
  trustedProxies: readonly string[];
  /** POSTWARDEN_HTTP_TLS=on: HTTPS with this pair. */
  tls?: { key: string; cert: string } | undefined;
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
    // fastify never times a request out by default (GOTCHAS): a body trickled a byte at a
    // time would hold its socket as long as the client likes. Node answers 408 (our shape,
    // handleClientError) and closes; its check runs every connectionsCheckingInterval. Node
    // applies the request timeout only with a headers timeout no longer than it (seen: a
    // 1 s request timeout fired after the default 60 s headers timeout), so both are given
    // to the server itself.
    requestTimeout: options.requestTimeoutMs,
    http: {
      requestTimeout: options.requestTimeoutMs,
      headersTimeout: Math.min(60_000, options.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(1000, options.requestTimeoutMs),
    },
    // The client IP is the socket peer, except behind a listed proxy: there it is the
    // right-most X-Forwarded-For address not itself trusted (proxy-addr's walk), so a
    // client cannot dodge a ban with a header of its own, and one client's failures do
    // not ban the proxy (GOTCHAS: a numeric trustProxy trusts nothing; list addresses).
    trustProxy: options.trustedProxies.length > 0 ? [...options.trustedProxies] : false,
    ...(options.tls ? { https: { key: options.tls.key, cert: options.tls.cert } } : {}),
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

  limitConnectionsPerAddress(app, networkBlockList(options.trustedProxies));
  app.setNotFoundHandler((_request, reply) => sendError(reply, HttpErrors.notFound));
  app.setErrorHandler(handleError);

  await app.register(healthRoutes(options.readiness, options.paused));
  await app.register(createMetricsPlugin(options.metrics));
  for (const plugin of options.plugins) await app.register(plugin);
  return app;
}

/** CONTRACT §Retention and bounded resources: at most 50 HTTP connections per client address. */
const CONNECTIONS_PER_ADDRESS = 50;

/**
 * One address cannot take every socket (slowloris): past its share, a new connection is
 * closed at once, before a byte of it is read. The count is per process and per peer
 * address (IPv4 written plainly).
 */
function limitConnectionsPerAddress(app: FastifyInstance, proxies: BlockList): void {
  const limiter = new ConnectionLimiter(CONNECTIONS_PER_ADDRESS);
  // A TLS listener hands over its sockets as 'secureConnection'; count the raw ones.
  app.server.on('connection', (socket: Socket) => {
    const ip = plainIp(socket.remoteAddress);
    // A proxy carries many clients: its connections are not one client's.
    if (isInNetworks(proxies, ip)) return;
    if (!limiter.tryOpen(ip)) {
      socket.destroy();
      return;
    }
    socket.once('close', () => limiter.release(ip));
  });
}
