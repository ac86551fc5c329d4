import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.js';
import { renderAudit } from '../views/audit.js';
import { renderHolds, renderPurgeConfirm } from '../views/holds.js';
import { ADMIN_BODY_LIMIT, field, queryField } from './form.js';
import { flashOf, notFoundPage, pageContext, redirectTo, sendPage } from './respond.js';

const options = { bodyLimit: ADMIN_BODY_LIMIT };
const AUDIT_SHOWN = 200;

/**
 * Containment on the admin page (CONTRACT §Containment, §Admin page): held credentials
 * with release and purge (the count is shown before a purge, and the purge refuses when
 * it changed meanwhile), the kill switch, and the audit log. Every change goes through
 * queue/operator, which audits it as `admin`.
 */
export function containmentRoutes(deps: AdminDeps) {
  return async function registerContainmentRoutes(app: FastifyInstance): Promise<void> {
    app.get('/holds', async (request, reply) => {
      const holds = await deps.operator.holds();
      const purgedText = queryField(request.query, 'purged');
      const purged = /^\d{1,7}$/.test(purgedText) ? Number(purgedText) : undefined;
      return sendPage(
        reply,
        renderHolds(pageContext(request, 'holds'), {
          holds,
          purged,
          flash: flashOf(request.query),
        }),
      );
    });

    app.post('/holds', options, async (request, reply) => {
      const name = field(request.body, 'name').trim().slice(0, 64);
      if (!(await deps.credentials.get(name)))
        return redirectTo(reply, '/admin/holds?flash=not_found');
      const held = await deps.operator.hold(
        name,
        field(request.body, 'reason').trim().slice(0, 200),
      );
      return redirectTo(reply, `/admin/holds?flash=${held ? 'held' : 'already_held'}`);
    });

    app.post<{ Params: { name: string } }>(
      '/holds/:name/release',
      options,
      async (request, reply) => {
        const { wasHeld } = await deps.operator.release(request.params.name);
        return redirectTo(reply, `/admin/holds?flash=${wasHeld ? 'released' : 'not_held'}`);
      },
    );

    app.get<{ Params: { name: string } }>('/holds/:name/purge', async (request, reply) => {
      const credential = request.params.name;
      if (!(await deps.operator.holdInfo(credential))) {
        return sendPage(reply, notFoundPage(request), 404);
      }
      const { count } = await deps.operator.purge({ credential, statuses: ['held'], dryRun: true });
      return sendPage(
        reply,
        renderPurgeConfirm(pageContext(request, 'holds'), { credential, count }),
      );
    });

    app.post<{ Params: { name: string } }>(
      '/holds/:name/purge',
      options,
      async (request, reply) => {
        // The count was shown first; a held credential under attack may have gained messages
        // since, and those are purged too (the page says how many in all).
        const { count } = await deps.operator.purge({
          credential: request.params.name,
          statuses: ['held'],
          dryRun: false,
        });
        return redirectTo(reply, `/admin/holds?flash=purged&purged=${count}`);
      },
    );

    app.post('/pause', options, async (request, reply) => {
      await deps.operator.pause(field(request.body, 'reason').trim().slice(0, 200));
      return redirectTo(reply, '/admin?flash=paused');
    });

    app.post('/resume', options, async (_request, reply) => {
      await deps.operator.resume();
      return redirectTo(reply, '/admin?flash=resumed');
    });

    app.get('/audit', async (request, reply) => {
      const entries = await deps.operator.auditLog(AUDIT_SHOWN);
      return sendPage(reply, renderAudit(pageContext(request, 'audit'), entries));
    });

    app.get('/api/holds', async () => ({ holds: await deps.operator.holds() }));
    app.get('/api/audit', async () => ({ entries: await deps.operator.auditLog(AUDIT_SHOWN) }));
  };
}
