import type { FastifyInstance } from 'fastify';
import type { MessagesRoutesDeps } from '../messages-routes.js';
import { postmarkRoutes } from './postmark.js';
import { resendRoutes } from './resend.js';

/**
 * The compatible dialects (CONTRACT §Compatible APIs) on the intake's HTTP listener, each
 * in its own encapsulated plugin beside `/v1/messages`, all through the same door.
 */
export function dialectsPlugin(deps: MessagesRoutesDeps) {
  return async function registerDialects(app: FastifyInstance): Promise<void> {
    await app.register(resendRoutes(deps));
    await app.register(postmarkRoutes(deps));
  };
}
