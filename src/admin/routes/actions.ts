import type { FastifyInstance } from 'fastify';
import { PostwardenError } from '../../errors.js';
import type { AdminDeps } from '../deps.js';
import { renderCredentials } from '../views/credentials.js';
import { readFailedFilter } from './failed-filter.js';
import { ADMIN_BODY_LIMIT, field } from './form.js';
import { pageContext, redirectTo, sendPage } from './respond.js';

const options = { bodyLimit: ADMIN_BODY_LIMIT };

function positiveInt(text: string): number | undefined | 'invalid' {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return /^\d{1,7}$/.test(trimmed) && Number(trimmed) > 0 ? Number(trimmed) : 'invalid';
}

/** A form field of patterns, separated by commas or white space. */
function patternList(text: string): string[] {
  return text.split(/[\s,]+/).filter((pattern) => pattern !== '');
}

/**
 * The admin's state changes — each a form POST that the guard lets through only with the
 * session's CSRF token — calling the same operations as the CLI (queue/operator,
 * security/*), then redirecting (POST → 303 → GET).
 */
export function actionRoutes(deps: AdminDeps) {
  return async function registerActionRoutes(app: FastifyInstance): Promise<void> {
    app.post<{ Params: { id: string } }>('/messages/:id/retry', options, async (request, reply) => {
      const { retried } = await deps.operator.retry(request.params.id);
      const href = `/admin/messages/${encodeURIComponent(request.params.id)}`;
      return redirectTo(reply, `${href}?flash=${retried ? 'retried' : 'not_retried'}`);
    });

    app.post('/failed/retry', options, async (request, reply) => {
      const { form, filter } = readFailedFilter(request.body);
      const { ids } = await deps.operator.retryAllFailed({ dryRun: false, filter });
      const search = new URLSearchParams({ ...form, retried: String(ids.length) });
      return redirectTo(reply, `/admin/failed?${search.toString()}`);
    });

    app.post('/bans/unban', options, async (request, reply) => {
      const ip = field(request.body, 'ip').trim().slice(0, 64);
      const lifted = ip !== '' && (await deps.security.unban(ip));
      return redirectTo(reply, `/admin/bans?flash=${lifted ? 'unbanned' : 'not_banned'}`);
    });

    app.post('/credentials', options, async (request, reply) => {
      const context = pageContext(request, 'credentials');
      const rate = positiveInt(field(request.body, 'rate'));
      const maxRecipients = positiveInt(field(request.body, 'maxRecipients'));
      const allowFrom = patternList(field(request.body, 'allowFrom'));
      const allowTo = patternList(field(request.body, 'allowTo'));
      const show = async (status: number, extra: Parameters<typeof renderCredentials>[1]) =>
        sendPage(reply, renderCredentials(context, extra), status);
      if (rate === 'invalid' || maxRecipients === 'invalid') {
        return show(400, {
          credentials: await deps.credentials.list(),
          flash: { kind: 'error', text: 'Rate and max recipients are positive whole numbers.' },
        });
      }
      try {
        const { credential, secret } = await deps.security.createCredential({
          name: field(request.body, 'name').trim(),
          allowFrom,
          allowTo,
          ratePerMinute: rate,
          maxRecipients,
        });
        // The secret is answered in this response only (no redirect: it must not be in a URL).
        return show(201, {
          credentials: await deps.credentials.list(),
          created: { name: credential.name, secret },
        });
      } catch (error) {
        if (!(error instanceof PostwardenError)) throw error;
        return show(400, {
          credentials: await deps.credentials.list(),
          flash: { kind: 'error', text: error.message },
        });
      }
    });

    app.post<{ Params: { name: string } }>(
      '/credentials/:name/revoke',
      options,
      async (request, reply) => {
        const revoked = await deps.security.revokeCredential(request.params.name);
        return redirectTo(reply, `/admin/credentials?flash=${revoked ? 'revoked' : 'not_found'}`);
      },
    );
  };
}
