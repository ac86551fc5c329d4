import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LogEvent } from '../../../observability/events.js';
import type { Credential } from '../../../security/credentials/store.js';
import { type Denial, isDenial } from '../../../security/verdict.js';
import { checkRecipient } from '../../accept.js';
import { addBearerAuth } from '../auth.js';
import { denialAnswer, HttpErrors } from '../errors.js';
import type { MessagesRoutesDeps } from '../messages-routes.js';
import { dialectErrorHandler } from './answers.js';
import {
  inactiveRecipientsMessage,
  postmarkError,
  postmarkRefusal,
  sendPostmarkDenial,
  sendPostmarkError,
} from './postmark-errors.js';
import { postmarkToMessageRequest } from './postmark-mapping.js';
import {
  type PostmarkEmail,
  postmarkBatchSchema,
  postmarkEmailSchema,
} from './postmark-schemas.js';
import { credentialOf, isJsonBody, prepare, submit } from './submit.js';

/** Dialect routes are not part of /v1: the OpenAPI document leaves them out. */
const HIDDEN = { hide: true } as const;

const TOKEN_HEADER = 'x-postmark-server-token';

function serverToken(request: FastifyRequest): string | undefined {
  const token = request.headers[TOKEN_HEADER];
  return typeof token === 'string' && token.length > 0 ? token.trim() : undefined;
}

interface Sent {
  To: string;
  SubmittedAt: string;
  MessageID: string;
  ErrorCode: 0;
  Message: 'OK';
}

type Result = { sent: Sent } | { denial: Denial };

/** One email through the native checks, composition and door. */
async function sendEmail(
  deps: MessagesRoutesDeps,
  request: FastifyRequest,
  credential: Credential,
  email: PostmarkEmail,
): Promise<Result> {
  const input = postmarkToMessageRequest(email);
  if (isDenial(input)) return { denial: input };
  const submission = await prepare(input, undefined);
  if (isDenial(submission)) return { denial: submission };
  const outcome = await submit(deps.accept, request, credential, submission);
  if (outcome.accepted) {
    return {
      sent: {
        To: email.To ?? '',
        SubmittedAt: new Date().toISOString(),
        MessageID: outcome.id,
        ErrorCode: 0,
        Message: 'OK',
      },
    };
  }
  if (outcome.denial.code !== 'recipient_not_allowed') return { denial: outcome.denial };
  // Name every refused recipient, where the SDK's InactiveRecipientsError looks for them.
  const refused = submission.envelope.to.filter((to) => checkRecipient(credential, to));
  return { denial: { ...outcome.denial, message: inactiveRecipientsMessage(refused) } };
}

function logRefusal(request: FastifyRequest, denial: Denial): void {
  request.log.info(
    { event: LogEvent.messageRejected, protocol: 'http', dialect: 'postmark', code: denial.code },
    'message refused',
  );
}

/**
 * The Postmark dialect (CONTRACT §Compatible APIs): `POST /email` and `POST /email/batch`
 * with `X-Postmark-Server-Token` — the official `postmark` SDK works with
 * `new ServerClient(SECRET, {useHttps: false, requestHost: 'host:port'})`. Its own
 * encapsulated plugin, so its token hook and error shape cover exactly these routes.
 * Postmark has no Idempotency-Key; a batch answers per email, as Postmark does.
 */
export function postmarkRoutes(deps: MessagesRoutesDeps) {
  return async function registerPostmarkRoutes(app: FastifyInstance): Promise<void> {
    addBearerAuth(app, deps, { secretOf: serverToken, refusal: postmarkRefusal });
    app.setErrorHandler(dialectErrorHandler(sendPostmarkError));
    const jsonOnly = async (request: FastifyRequest, reply: FastifyReply) =>
      isJsonBody(request)
        ? undefined
        : sendPostmarkError(request, reply, HttpErrors.unsupportedMediaType);

    app.post(
      '/email',
      {
        schema: { ...HIDDEN, body: postmarkEmailSchema },
        // Accepted only through the door with principalOf() (submit): see addBearerAuth.
        config: { confirmsAuthAtStage: true },
        preValidation: jsonOnly,
      },
      async (request, reply) => {
        const result = await sendEmail(
          deps,
          request,
          credentialOf(request),
          request.body as PostmarkEmail,
        );
        if ('sent' in result) return reply.code(200).send(result.sent);
        logRefusal(request, result.denial);
        return sendPostmarkDenial(request, reply, result.denial);
      },
    );

    app.post(
      '/email/batch',
      { schema: { ...HIDDEN, body: postmarkBatchSchema }, preValidation: jsonOnly },
      async (request, reply) => {
        const credential = credentialOf(request);
        const emails = request.body as PostmarkEmail[];
        const results = await Promise.all(
          emails.map((email) => sendEmail(deps, request, credential, email)),
        );
        const answers = results.map((result, index) => {
          if ('sent' in result) return result.sent;
          logRefusal(request, result.denial);
          const { body } = postmarkError({
            ...denialAnswer(result.denial),
            message: result.denial.message,
          });
          return { ...body, To: emails[index]?.To ?? '' };
        });
        return reply.code(200).send(answers);
      },
    );
  };
}
