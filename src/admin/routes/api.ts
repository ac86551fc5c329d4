import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.js';
import { sendJsonError } from '../guard.js';
import { parseMessageSearch } from '../search-query.js';
import { readFailedFilter } from './failed-filter.js';
import { ADMIN_BODY_LIMIT, field } from './form.js';

/**
 * The admin's JSON API under /admin/api (the overview's refresh, scripts run by an
 * operator with a session). Same session and CSRF rules as the pages; no session → 401.
 */
export function apiRoutes(deps: AdminDeps) {
  return async function registerApiRoutes(app: FastifyInstance): Promise<void> {
    const options = { bodyLimit: ADMIN_BODY_LIMIT };

    app.get('/api/stats', async () => deps.operator.stats());

    app.get('/api/throughput', async () => ({ points: await deps.throughput.read(60) }));

    app.get('/api/upstreams', async () => ({
      upstreams: await deps.upstreams.list(deps.upstreamLabels),
    }));

    app.get('/api/messages', async (request) => {
      const search = parseMessageSearch(request.query as Record<string, unknown>);
      return { page: search.page, ...(await deps.operator.search(search)) };
    });

    app.get<{ Params: { id: string } }>('/api/messages/:id', async (request, reply) => {
      const view = await deps.operator.show(request.params.id);
      return view ?? sendJsonError(reply, 404, 'not_found', 'no such message');
    });

    app.post<{ Params: { id: string } }>('/api/messages/:id/retry', options, async (request) =>
      deps.operator.retry(request.params.id),
    );

    app.post('/api/failed/retry', options, async (request) => {
      const { filter } = readFailedFilter(request.body);
      // Dry run unless explicitly asked not to: the safe default for a bulk action.
      const flag = (request.body as Record<string, unknown> | null | undefined)?.dryRun;
      const dryRun = !(flag === false || flag === 'false');
      return deps.operator.retryAllFailed({ dryRun, filter });
    });

    app.get('/api/bans', async () => ({ bans: await deps.abuseGuard.listBans() }));

    app.get('/api/attacks', async () => deps.attacks.read());

    app.post('/api/bans/unban', options, async (request) => ({
      unbanned: await deps.security.unban(field(request.body, 'ip').trim().slice(0, 64)),
    }));

    app.get('/api/credentials', async () => ({ credentials: await deps.credentials.list() }));
  };
}
