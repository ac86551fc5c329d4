import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QueueUnavailableError } from '../../../errors.js';
import { isMessageId } from '../../../message/ids.js';
import type { Submission } from '../../../message/types.js';
import { LogEvent } from '../../../observability/events.js';
import { type Denial, isDenial } from '../../../security/verdict.js';
import { addBearerAuth } from '../auth.js';
import { HttpErrors } from '../errors.js';
import type { MessagesRoutesDeps } from '../messages-routes.js';
import { checkIdempotencyKey } from '../request-checks.js';
import { dialectErrorHandler } from './answers.js';
import { resendRefusal, sendResendDenial, sendResendError } from './resend-errors.js';
import { resendEmailObject, resendToMessageRequest } from './resend-mapping.js';
import {
  type ResendEmail,
  resendBatchSchema,
  resendEmailSchema,
  resendParamsSchema,
} from './resend-schemas.js';
import { batchItemKey, credentialOf, isJsonBody, precheck, prepare, submit } from './submit.js';

/** Dialect routes are not part of /v1: the OpenAPI document leaves them out. */
const HIDDEN = { hide: true } as const;

function refuse(request: FastifyRequest, reply: FastifyReply, denial: Denial): FastifyReply {
  request.log.info(
    { event: LogEvent.messageRejected, protocol: 'http', dialect: 'resend', code: denial.code },
    'message refused',
  );
  return sendResendDenial(request, reply, denial);
}

/** One batch item's refusal names its place, as Resend's strict batch does. */
function atIndex(denial: Denial, index: number): Denial {
  return { ...denial, message: `emails[${index}]: ${denial.message}` };
}

async function prepareEmail(
  email: ResendEmail,
  key: string | undefined,
): Promise<Submission | Denial> {
  const request = resendToMessageRequest(email);
  return isDenial(request) ? request : prepare(request, key);
}

/**
 * The Resend dialect (CONTRACT §Compatible APIs): `POST /emails`, `POST /emails/batch`,
 * `GET /emails/:id` with `Authorization: Bearer` — the official `resend` SDK works with
 * `RESEND_BASE_URL` pointing here. Its own encapsulated plugin: its bearer hook answers
 * in Resend's error shape and covers exactly these routes.
 */
export function resendRoutes(deps: MessagesRoutesDeps) {
  return async function registerResendRoutes(app: FastifyInstance): Promise<void> {
    addBearerAuth(app, deps, { refusal: resendRefusal });
    app.setErrorHandler(dialectErrorHandler(sendResendError));
    const jsonOnly = async (request: FastifyRequest, reply: FastifyReply) =>
      isJsonBody(request)
        ? undefined
        : sendResendError(request, reply, HttpErrors.unsupportedMediaType);
    const idempotencyKey = (request: FastifyRequest) => {
      const checked = checkIdempotencyKey(request.headers['idempotency-key']);
      return isDenial(checked) ? { ...checked, code: 'invalid_idempotency_key' as const } : checked;
    };

    app.post(
      '/emails',
      {
        schema: { ...HIDDEN, body: resendEmailSchema },
        // Accepted only through the door with principalOf() (submit): see addBearerAuth.
        config: { confirmsAuthAtStage: true },
        preValidation: jsonOnly,
      },
      async (request, reply) => {
        const credential = credentialOf(request);
        const key = idempotencyKey(request);
        if ('code' in key) {
          return sendResendError(request, reply, { status: 400, ...key });
        }
        const prepared = await prepareEmail(request.body as ResendEmail, key.key);
        if (isDenial(prepared)) return refuse(request, reply, prepared);
        const outcome = await submit(deps.accept, request, credential, prepared);
        if (!outcome.accepted) return refuse(request, reply, outcome.denial);
        return reply.code(200).send({ id: outcome.id });
      },
    );

    /**
     * Strict (Resend's default, `x-batch-validation: strict`): every email is checked —
     * fields, addresses, grants, limits — before any is queued, and one refusal refuses
     * the batch. A temporary refusal while queueing (rate limit, Redis) can come after
     * some were queued: with an Idempotency-Key (one per batch; each email gets its own
     * derived key) the retry queues none of them twice. Permissive: each email on its own,
     * refusals listed in `errors` by index.
     */
    app.post(
      '/emails/batch',
      { schema: { ...HIDDEN, body: resendBatchSchema }, preValidation: jsonOnly },
      async (request, reply) => {
        const credential = credentialOf(request);
        const key = idempotencyKey(request);
        if ('code' in key) return sendResendError(request, reply, { status: 400, ...key });
        const permissive = request.headers['x-batch-validation'] === 'permissive';
        const emails = request.body as ResendEmail[];
        const prepared = await Promise.all(
          emails.map(async (email, index) => {
            const submission = await prepareEmail(email, batchItemKey(key.key, index));
            if (isDenial(submission) || permissive) return submission;
            return precheck(credential, deps.accept, submission) ?? submission;
          }),
        );
        const refused = prepared.findIndex((item) => isDenial(item));
        if (!permissive && refused !== -1) {
          return refuse(request, reply, atIndex(prepared[refused] as Denial, refused));
        }
        const outcomes = await Promise.all(
          prepared.map((item) =>
            isDenial(item)
              ? { accepted: false as const, denial: item }
              : submit(deps.accept, request, credential, item),
          ),
        );
        const data: Array<{ id: string }> = [];
        const errors: Array<{ index: number; message: string }> = [];
        for (const [index, outcome] of outcomes.entries()) {
          if (outcome.accepted) data.push({ id: outcome.id });
          else if (!permissive) return refuse(request, reply, atIndex(outcome.denial, index));
          else errors.push({ index, message: outcome.denial.message });
        }
        return reply.code(200).send(permissive ? { data, errors } : { data });
      },
    );

    app.get(
      '/emails/:id',
      { schema: { ...HIDDEN, params: resendParamsSchema } },
      async (request, reply) => {
        const credential = credentialOf(request);
        const { id } = request.params as { id: string };
        if (!isMessageId(id)) return sendResendError(request, reply, HttpErrors.notFound);
        let view: Awaited<ReturnType<MessagesRoutesDeps['store']['view']>>;
        try {
          view = await deps.store.view(id);
        } catch (error) {
          throw new QueueUnavailableError('message store unreachable', { cause: error });
        }
        // Another credential's message is not found either (as GET /v1/messages/:id).
        if (!view || view.credentialId !== credential.id) {
          return sendResendError(request, reply, HttpErrors.notFound);
        }
        return reply.code(200).send(resendEmailObject(view));
      },
    );
  };
}
