import type { FastifyInstance, FastifyRequest } from 'fastify';
import { QueueUnavailableError } from '../../errors.js';
import type { SuppressionList } from '../../queue/suppressions.js';
import type { AbuseGuard } from '../../security/abuse-guard.js';
import type { Credential, CredentialStore } from '../../security/credentials/store.js';
import { addBearerAuth } from './auth.js';
import { HttpErrors, sendError } from './errors.js';
import { deleteSuppressionSchema, listSuppressionsSchema } from './suppression-schemas.js';

export interface SuppressionsRoutesDeps {
  credentials: CredentialStore;
  abuseGuard: AbuseGuard;
  suppressions: Pick<SuppressionList, 'list' | 'remove'>;
}

function credentialOf(request: FastifyRequest): Credential {
  // The onRequest hook answers 401 before a handler runs without one.
  if (!request.apiCredential) throw new Error('API route reached without a credential');
  return request.apiCredential;
}

/** Redis unreachable: 503 queue_unavailable, as the message routes answer. */
async function reading<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new QueueUnavailableError('suppression list unreachable', { cause: error });
  }
}

/**
 * `GET /v1/suppressions` and `DELETE /v1/suppressions/:address` (CONTRACT §Suppressions):
 * a bearer sees and changes only its own credential's list — by the credential's immutable
 * id, so a name created again starts with an empty one. Forms have no secret, so a form
 * principal never reaches these. Own encapsulated plugin: the bearer hook covers exactly
 * these routes.
 */
export function suppressionsRoutes(deps: SuppressionsRoutesDeps) {
  return async function registerSuppressionsRoutes(app: FastifyInstance): Promise<void> {
    addBearerAuth(app, deps);

    app.get('/v1/suppressions', { schema: listSuppressionsSchema }, async (request, reply) => {
      const credential = credentialOf(request);
      const query = request.query as { limit?: string; after?: string };
      const limit = query.limit === undefined ? undefined : Number(query.limit);
      const page = await reading(() =>
        deps.suppressions.list(credential.id, { after: query.after, limit }),
      );
      return reply.code(200).send({
        data: page.entries.map((entry) => ({
          address: entry.address,
          reason: entry.reason,
          createdAt: entry.at,
        })),
        ...(page.next ? { next: page.next } : {}),
      });
    });

    app.delete(
      '/v1/suppressions/:address',
      { schema: deleteSuppressionSchema },
      async (request, reply) => {
        const credential = credentialOf(request);
        const { address } = request.params as { address: string };
        const removed = await reading(() => deps.suppressions.remove(credential.id, address));
        if (!removed) return sendError(reply, HttpErrors.notFound);
        return reply.code(204).send();
      },
    );
  };
}
