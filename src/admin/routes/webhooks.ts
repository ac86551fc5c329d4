import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.js';
import { renderWebhooks } from '../views/webhooks.js';
import { ADMIN_BODY_LIMIT } from './form.js';
import { flashOf, pageContext, redirectTo, sendPage } from './respond.js';

/**
 * Webhooks in the admin page (issue 13): endpoints with their recent attempts, and a
 * replay of one attempt's event (a CSRF-checked POST like every admin action; audited by
 * the shared operation).
 */
export function webhooksAdminRoutes(deps: AdminDeps) {
  return async function registerWebhooksAdminRoutes(app: FastifyInstance): Promise<void> {
    app.get('/webhooks', async (request, reply) => {
      const endpoints = (await deps.webhooks?.list()) ?? [];
      return sendPage(
        reply,
        renderWebhooks(pageContext(request, 'webhooks'), {
          endpoints,
          flash: flashOf(request.query),
        }),
      );
    });

    app.post<{ Params: { id: string; eventId: string } }>(
      '/webhooks/:id/replay/:eventId',
      { bodyLimit: ADMIN_BODY_LIMIT },
      async (request, reply) => {
        const replayed =
          (await deps.webhooks?.replay(request.params.id, request.params.eventId)) ?? false;
        return redirectTo(
          reply,
          `/admin/webhooks?flash=${replayed ? 'webhook_replayed' : 'not_found'}`,
        );
      },
    );
  };
}
