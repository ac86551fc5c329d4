import type { FastifyError, FastifyInstance } from 'fastify';
import type { AdminDeps } from './deps.js';
import { createAdminGuard, isApiRequest, sendJsonError } from './guard.js';
import { actionRoutes } from './routes/actions.js';
import { apiRoutes } from './routes/api.js';
import { authRoutes } from './routes/auth-routes.js';
import { containmentRoutes } from './routes/containment-routes.js';
import { addFormParser } from './routes/form.js';
import { formsAdminRoutes } from './routes/forms.js';
import { pageRoutes } from './routes/pages.js';
import { notFoundPage, sendPage } from './routes/respond.js';
import { staticRoutes } from './routes/static-routes.js';
import { suppressionsAdminRoutes } from './routes/suppressions.js';
import { webhooksAdminRoutes } from './routes/webhooks.js';

export interface AdminRoute {
  method: string;
  url: string;
  /** public: login and static files; page: 302 to the login without a session; api: 401. */
  access: 'public' | 'page' | 'api';
}

export type AdminPlugin = ((app: FastifyInstance) => Promise<void>) & {
  /** Every route the plugin registered (filled at registration), for the security tests. */
  readonly routes: readonly AdminRoute[];
};

/**
 * The admin page (CONTRACT §Admin page) as one of the HTTP listener's plugins. Everything lives
 * in one encapsulated context under /admin, so its hooks, form parser and error handling
 * apply to admin routes only. The hooks are added before any route (ARCHITECTURE: no
 * auto-loading where hook order matters): headers → session → CSRF → handler.
 */
export function createAdminPlugin(deps: AdminDeps): AdminPlugin {
  const routes: AdminRoute[] = [];
  const guard = createAdminGuard(deps.sessions);

  async function admin(app: FastifyInstance): Promise<void> {
    app.decorateRequest('adminSession', null);
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const access = route.config?.adminPublic
        ? 'public'
        : route.url.startsWith('/admin/api/')
          ? 'api'
          : 'page';
      for (const method of methods) {
        if (method !== 'HEAD') routes.push({ method, url: route.url, access });
      }
    });
    app.addHook('onRequest', guard.onRequest);
    app.addHook('preHandler', guard.preHandler);
    addFormParser(app);
    app.setNotFoundHandler((request, reply) =>
      isApiRequest(request)
        ? sendJsonError(reply, 404, 'not_found', 'not found')
        : sendPage(reply, notFoundPage(request), 404),
    );
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 500;
      if (status >= 500) request.log.error({ err: error }, 'admin request failed');
      const code =
        status === 413 ? 'too_large' : status >= 500 ? 'internal_error' : 'invalid_request';
      return sendJsonError(reply, status, code, status >= 500 ? 'internal error' : 'bad request');
    });
    await app.register(staticRoutes);
    await app.register(authRoutes(deps));
    await app.register(pageRoutes(deps));
    await app.register(actionRoutes(deps));
    await app.register(apiRoutes(deps));
    await app.register(containmentRoutes(deps));
    await app.register(formsAdminRoutes(deps));
    await app.register(suppressionsAdminRoutes(deps));
    await app.register(webhooksAdminRoutes(deps));
  }

  const plugin = async (app: FastifyInstance): Promise<void> => {
    await app.register(admin, { prefix: '/admin' });
  };
  return Object.assign(plugin, { routes });
}
