import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.js';
import { renderForms } from '../views/forms.js';
import { ADMIN_BODY_LIMIT } from './form.js';
import { flashOf, pageContext, redirectTo, sendPage } from './respond.js';

/**
 * Lead forms in the admin page (issue 12): the list with embed snippets, the quarantine
 * and its release — the same operations `postwarden forms` calls.
 */
export function formsAdminRoutes(deps: AdminDeps) {
  return async function registerFormsAdminRoutes(app: FastifyInstance): Promise<void> {
    app.get('/forms', async (request, reply) => {
      const [forms, spam] = await Promise.all([deps.forms.list(), deps.forms.spam()]);
      return sendPage(
        reply,
        renderForms(pageContext(request, 'forms'), {
          forms,
          spam,
          baseUrl: `${request.protocol}://${request.host}`,
          flash: flashOf(request.query),
        }),
      );
    });

    app.post<{ Params: { name: string } }>(
      '/forms/:name/remove',
      { bodyLimit: ADMIN_BODY_LIMIT },
      async (request, reply) => {
        const removed = await deps.forms.remove(request.params.name);
        return redirectTo(reply, `/admin/forms?flash=${removed ? 'form_removed' : 'not_found'}`);
      },
    );

    app.post<{ Params: { id: string } }>(
      '/forms/spam/:id/release',
      { bodyLimit: ADMIN_BODY_LIMIT },
      async (request, reply) => {
        const result = await deps.forms.release(request.params.id);
        return redirectTo(
          reply,
          `/admin/forms?flash=${result.released ? 'form_released' : 'not_found'}`,
        );
      },
    );
  };
}
