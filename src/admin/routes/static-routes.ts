import type { FastifyInstance } from 'fastify';
import { ADMIN_CSS } from '../static/admin-css.js';
import { ADMIN_JS } from '../static/admin-js.js';

/**
 * The admin page's one script and one stylesheet, served by the relay itself (nothing is
 * loaded from outside; CSP 'self'). Kept as modules so the build needs no asset copying.
 * Public: the login page needs the stylesheet, and neither file holds anything secret.
 */
export async function staticRoutes(app: FastifyInstance): Promise<void> {
  const assets: Array<[string, string, string]> = [
    ['/static/admin.js', 'text/javascript; charset=utf-8', ADMIN_JS],
    ['/static/admin.css', 'text/css; charset=utf-8', ADMIN_CSS],
  ];
  for (const [url, type, content] of assets) {
    app.get(url, { config: { adminPublic: true } }, async (_request, reply) =>
      reply.type(type).send(content),
    );
  }
}
