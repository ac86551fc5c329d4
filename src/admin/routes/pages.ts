import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.js';
import { readMessageParts } from '../mime-view.js';
import { parseMessageSearch } from '../search-query.js';
import { renderAttacks } from '../views/attacks.js';
import { renderBans } from '../views/bans.js';
import { renderCapturedList, renderCapturedMessage } from '../views/captured.js';
import { renderAttacksSvg, renderThroughputSvg } from '../views/chart.js';
import { renderCredentials } from '../views/credentials.js';
import { renderFailed } from '../views/failed.js';
import { renderMessage } from '../views/message.js';
import { renderMessages } from '../views/messages.js';
import { renderOverview } from '../views/overview.js';
import { readFailedFilter } from './failed-filter.js';
import { queryField } from './form.js';
import { flashOf, notFoundPage, pageContext, sendPage } from './respond.js';

const FAILED_SHOWN = 50;
const CAPTURED_PAGE = 25;

function pageNumber(query: unknown): number {
  const page = Number.parseInt(queryField(query, 'page') || '1', 10);
  return Number.isFinite(page) && page > 0 ? Math.min(page, 10_000) : 1;
}

/** The admin pages (GET only: reading never changes anything). */
export function pageRoutes(deps: AdminDeps) {
  return async function registerPageRoutes(app: FastifyInstance): Promise<void> {
    app.get('/', async (request, reply) => {
      const [stats, upstreams, pause] = await Promise.all([
        deps.operator.stats(),
        deps.upstreams.list(deps.upstreamLabels),
        deps.operator.pauseState(),
      ]);
      return sendPage(
        reply,
        renderOverview(pageContext(request, 'overview'), {
          stats,
          upstreams,
          pause,
          flash: flashOf(request.query),
        }),
      );
    });

    app.get('/throughput.svg', async (_request, reply) => {
      const points = await deps.throughput.read(60);
      return reply.type('image/svg+xml; charset=utf-8').send(renderThroughputSvg(points).value);
    });

    app.get('/messages', async (request, reply) => {
      const search = parseMessageSearch(request.query as Record<string, unknown>);
      const result = await deps.operator.search(search);
      return sendPage(reply, renderMessages(pageContext(request, 'messages'), search, result));
    });

    app.get<{ Params: { id: string } }>('/messages/:id', async (request, reply) => {
      const view = await deps.operator.show(request.params.id);
      if (!view) return sendPage(reply, notFoundPage(request), 404);
      const raw = await deps.operator.rawMessage(view.id);
      const parts = raw ? readMessageParts(raw) : undefined;
      return sendPage(
        reply,
        renderMessage(pageContext(request, 'messages'), {
          view,
          parts,
          showBody: queryField(request.query, 'body') === '1',
          flash: flashOf(request.query),
        }),
      );
    });

    app.get('/failed', async (request, reply) => {
      const { form, filter } = readFailedFilter(request.query);
      const { matched, rows } = await deps.operator.listFailed(filter, FAILED_SHOWN);
      const retriedText = queryField(request.query, 'retried');
      const retried = /^\d{1,7}$/.test(retriedText) ? Number(retriedText) : undefined;
      return sendPage(
        reply,
        renderFailed(pageContext(request, 'failed'), { filter: form, matched, rows, retried }),
      );
    });

    app.get('/captured', async (request, reply) => {
      const page = pageNumber(request.query);
      const context = pageContext(request, 'captured');
      if (!deps.captureStore) {
        return sendPage(
          reply,
          renderCapturedList(context, { items: [], page, hasMore: false, enabled: false }),
        );
      }
      const offset = (page - 1) * CAPTURED_PAGE;
      const { total, items } = await deps.captureStore.list(CAPTURED_PAGE, offset);
      return sendPage(
        reply,
        renderCapturedList(context, {
          items,
          page,
          hasMore: offset + items.length < total,
          enabled: true,
        }),
      );
    });

    app.get<{ Params: { id: string } }>('/captured/:id', async (request, reply) => {
      const found = await deps.captureStore?.get(request.params.id);
      if (!found) return sendPage(reply, notFoundPage(request), 404);
      return sendPage(
        reply,
        renderCapturedMessage(pageContext(request, 'captured'), {
          meta: found.meta,
          parts: readMessageParts(found.raw),
          showBody: queryField(request.query, 'body') === '1',
        }),
      );
    });

    app.get('/attacks', async (request, reply) => {
      const [view, bans] = await Promise.all([deps.attacks.read(), deps.abuseGuard.listBans()]);
      const banned = new Set(bans.map((ban) => ban.ip));
      return sendPage(reply, renderAttacks(pageContext(request, 'attacks'), { view, banned }));
    });

    app.get('/attacks.svg', async (_request, reply) => {
      const { hours } = await deps.attacks.read();
      return reply.type('image/svg+xml; charset=utf-8').send(renderAttacksSvg(hours).value);
    });

    app.get('/bans', async (request, reply) => {
      const bans = await deps.abuseGuard.listBans();
      return sendPage(
        reply,
        renderBans(pageContext(request, 'bans'), { bans, flash: flashOf(request.query) }),
      );
    });

    app.get('/credentials', async (request, reply) => {
      const credentials = await deps.credentials.list();
      return sendPage(
        reply,
        renderCredentials(pageContext(request, 'credentials'), {
          credentials,
          flash: flashOf(request.query),
        }),
      );
    });
  };
}
