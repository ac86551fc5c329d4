import type { FastifyInstance } from 'fastify';
import { PostwardenError } from '../../errors.js';
import type { SuppressionPage } from '../../queue/operator.js';
import type { AdminDeps } from '../deps.js';
import { renderSuppressions } from '../views/suppressions.js';
import { ADMIN_BODY_LIMIT, field, queryField } from './form.js';
import { flashOf, pageContext, redirectTo, sendPage } from './respond.js';

const options = { bodyLimit: ADMIN_BODY_LIMIT };
const PAGE = 100;

/**
 * Suppression lists in the admin page (issue 13): the list (every credential's, or one),
 * remove, and a manual add — the same operations `postwarden suppressions` calls, audited
 * as `admin` by queue/suppression-operator.
 */
export function suppressionsAdminRoutes(deps: AdminDeps) {
  return async function registerSuppressionsAdminRoutes(app: FastifyInstance): Promise<void> {
    app.get('/suppressions', async (request, reply) => {
      const credential = queryField(request.query, 'credential').trim().slice(0, 80);
      const after = queryField(request.query, 'after').slice(0, 400) || undefined;
      let page: SuppressionPage = { entries: [] };
      let flash = flashOf(request.query);
      try {
        page = await deps.suppressions.list({
          credential: credential || undefined,
          after,
          limit: PAGE,
        });
      } catch (error) {
        if (!(error instanceof PostwardenError) || error.code !== 'unknown_credential') throw error;
        flash = { kind: 'error', text: 'No credential or form by that name.' };
      }
      return sendPage(
        reply,
        renderSuppressions(pageContext(request, 'suppressions'), {
          entries: page.entries,
          credential,
          next: page.next,
          flash,
        }),
      );
    });

    app.post('/suppressions', options, async (request, reply) => {
      const credential = field(request.body, 'credential').trim().slice(0, 80);
      const address = field(request.body, 'address').trim().slice(0, 254);
      try {
        const change = await deps.suppressions.add(address, credential);
        const code = change.changed.length > 0 ? 'suppression_added' : 'already_suppressed';
        return redirectTo(reply, `/admin/suppressions?flash=${code}`);
      } catch (error) {
        if (!(error instanceof PostwardenError)) throw error;
        const code = error.code === 'unknown_credential' ? 'not_found' : 'bad_address';
        return redirectTo(reply, `/admin/suppressions?flash=${code}`);
      }
    });

    app.post('/suppressions/remove', options, async (request, reply) => {
      const removed = await deps.suppressions.removeEntry({
        owner: field(request.body, 'owner').slice(0, 200),
        credential: field(request.body, 'credential').slice(0, 200),
        address: field(request.body, 'address').slice(0, 320),
      });
      return redirectTo(
        reply,
        `/admin/suppressions?flash=${removed ? 'suppression_removed' : 'not_found'}`,
      );
    });
  };
}
