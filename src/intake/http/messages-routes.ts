import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QueueUnavailableError } from '../../errors.js';
import { isMessageId } from '../../message/ids.js';
import type { MessageView } from '../../message/types.js';
import { LogEvent } from '../../observability/events.js';
import type { MessageStore } from '../../queue/message-store.js';
import type { AbuseGuard } from '../../security/abuse-guard.js';
import type { Credential, CredentialStore } from '../../security/credentials/store.js';
import { type Denial, isDenial } from '../../security/verdict.js';
import { type AcceptDeps, acceptSubmission } from '../accept.js';
import { addBearerAuth, principalOf } from './auth.js';
import { composeSubmission } from './compose.js';
import { HttpErrors, sendDenial, sendError } from './errors.js';
import { checkIdempotencyKey, checkMessageRequest } from './request-checks.js';
import {
  AUTHENTICATED_ERRORS,
  acceptedResponseSchema,
  errorResponses,
  messageViewResponseSchema,
} from './response-schemas.js';
import { type MessageRequest, messageBodySchema, messageParamsSchema } from './schemas.js';

/** How /v1/openapi.json describes the bearer routes (intake/http/openapi.ts). */
const BEARER_ROUTE = { tags: ['messages'], security: [{ bearer: [] }] } as const;

const idempotencyHeaderSchema = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      description: 'same key, same credential, within 24 h: the first id, nothing new queued',
    },
  },
} as const;

export interface MessagesRoutesDeps {
  credentials: CredentialStore;
  abuseGuard: AbuseGuard;
  accept: AcceptDeps;
  store: MessageStore;
}

function credentialOf(request: FastifyRequest): Credential {
  // The onRequest hook answers 401 before a handler runs without one.
  if (!request.apiCredential) throw new Error('API route reached without a credential');
  return request.apiCredential;
}

function isJsonBody(request: FastifyRequest): boolean {
  const type = request.headers['content-type'] ?? '';
  return /^application\/json\s*(;|$)/i.test(type);
}

/** The contract's GET shape, field by field: the owning credential is not shown. */
function publicView(view: MessageView): MessageView {
  return {
    id: view.id,
    status: view.status,
    from: view.from,
    subject: view.subject,
    createdAt: view.createdAt,
    attempts: view.attempts,
    recipients: view.recipients.map(({ address, status, detail }) => ({ address, status, detail })),
    events: view.events.map(({ type, at, detail }) => ({ type, at, detail })),
  };
}

/**
 * `POST /v1/messages` and `GET /v1/messages/:id` (CONTRACT §HTTP API), in their own
 * encapsulated plugin so the bearer hook covers exactly these routes.
 */
export function messagesRoutes(deps: MessagesRoutesDeps) {
  return async function registerMessagesRoutes(app: FastifyInstance): Promise<void> {
    addBearerAuth(app, deps);

    const refuse = (request: FastifyRequest, reply: FastifyReply, denial: Denial) => {
      request.log.info(
        { event: LogEvent.messageRejected, protocol: 'http', code: denial.code },
        'message refused',
      );
      return sendDenial(reply, denial);
    };

    app.post(
      '/v1/messages',
      {
        schema: {
          ...BEARER_ROUTE,
          summary: 'Queue a message',
          headers: idempotencyHeaderSchema,
          body: messageBodySchema,
          response: {
            202: acceptedResponseSchema,
            ...errorResponses([400, 408, 413, 415, 422, ...AUTHENTICATED_ERRORS]),
          },
        },
        // Accepted only through the door with principalOf(): see addBearerAuth.
        config: { confirmsAuthAtStage: true },
        // A body-less POST has no parser to refuse it: still not JSON, so 415.
        preValidation: async (request, reply) =>
          isJsonBody(request) ? undefined : sendError(reply, HttpErrors.unsupportedMediaType),
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const idempotency = checkIdempotencyKey(request.headers['idempotency-key']);
        if (isDenial(idempotency)) return refuse(request, reply, idempotency);
        const checked = checkMessageRequest(request.body as MessageRequest);
        if (isDenial(checked)) return refuse(request, reply, checked);
        const submission = await composeSubmission(checked, { idempotencyKey: idempotency.key });
        const result = await acceptSubmission(deps.accept, principal, submission);
        if (!result.accepted) return refuse(request, reply, result.denial);
        return reply.code(202).send({ id: result.id, status: result.held ? 'held' : 'queued' });
      },
    );

    app.get(
      '/v1/messages/:id',
      {
        schema: {
          ...BEARER_ROUTE,
          summary: 'A message, its recipients and events',
          params: messageParamsSchema,
          response: {
            200: messageViewResponseSchema,
            ...errorResponses([404, ...AUTHENTICATED_ERRORS]),
          },
        },
      },
      async (request, reply) => {
        const credential = credentialOf(request);
        const { id } = request.params as { id: string };
        if (!isMessageId(id)) return sendError(reply, HttpErrors.notFound);
        let view: Awaited<ReturnType<MessageStore['view']>>;
        try {
          view = await deps.store.view(id);
        } catch (error) {
          throw new QueueUnavailableError('message store unreachable', { cause: error });
        }
        // Another credential's message is "not found" too: do not reveal that it exists.
        // By id, not name: a revoked name created again owns none of the old messages.
        if (!view || view.credentialId !== credential.id) {
          return sendError(reply, HttpErrors.notFound);
        }
        return reply.code(200).send(publicView(view));
      },
    );
  };
}
