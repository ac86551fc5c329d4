import type { FastifyInstance } from 'fastify';
import { dialectsPlugin } from './dialects/plugin.js';
import { type MessagesRoutesDeps, messagesRoutes } from './messages-routes.js';
import { type SuppressionsRoutesDeps, suppressionsRoutes } from './suppressions-routes.js';

export type ApiDeps = MessagesRoutesDeps & Pick<SuppressionsRoutesDeps, 'suppressions'>;

/**
 * The message API (CONTRACT §HTTP API) and its compatible dialects (§Compatible APIs) as
 * a plugin of the HTTP listener (runtime/http-server.ts builds the server, its error
 * shape and the health routes).
 */
export function createApiPlugin(deps: ApiDeps) {
  return async function apiPlugin(app: FastifyInstance): Promise<void> {
    await app.register(messagesRoutes(deps));
    await app.register(suppressionsRoutes(deps));
    await app.register(dialectsPlugin(deps));
  };
}
