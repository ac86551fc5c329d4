import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Denial } from '../../../security/verdict.js';
import { denialAnswer, type RefusalReply, retryAfterHeaders, sendRefusal } from '../errors.js';

/**
 * The Postmark dialect's error table: our contract code → Postmark's HTTP status and
 * `ErrorCode`, which the `postmark` SDK turns into its error classes (401 →
 * InvalidAPIKeyError; 422 → ApiInputError, with 300 InvalidEmailRequestError and 406
 * InactiveRecipientsError; 429 RateLimitExceededError; 500 InternalServerError; 503
 * ServiceUnavailablerError). Postmark's numbers where it has one for the meaning: 10 bad
 * or missing token, 300 invalid request, 400 sender signature not found (an ungranted
 * sender), 406 inactive recipient (a recipient outside --allow-to), 409 JSON required.
 * Anything else keeps our status and carries it as its ErrorCode, never 0 (0 is "OK").
 */
const BY_CODE: Readonly<Record<string, { status: number; errorCode: number }>> = {
  unauthorized: { status: 401, errorCode: 10 },
  invalid_request: { status: 422, errorCode: 300 },
  too_large: { status: 422, errorCode: 300 },
  too_many_recipients: { status: 422, errorCode: 300 },
  sender_not_allowed: { status: 422, errorCode: 400 },
  recipient_not_allowed: { status: 422, errorCode: 406 },
  unsupported_media_type: { status: 422, errorCode: 409 },
};

export interface PostmarkError {
  ErrorCode: number;
  Message: string;
}

export function postmarkError(answer: { status: number; code: string; message: string }): {
  status: number;
  body: PostmarkError;
} {
  if (answer.code === 'unauthorized') {
    return {
      status: 401,
      body: { ErrorCode: 10, Message: 'Request does not contain a valid Server token.' },
    };
  }
  const mapped = BY_CODE[answer.code] ?? { status: answer.status, errorCode: answer.status };
  return { status: mapped.status, body: { ErrorCode: mapped.errorCode, Message: answer.message } };
}

/**
 * A refused recipient in the words the SDK's InactiveRecipientsError reads its
 * `recipients` from ("Found inactive addresses: a, b. Inactive recipients are …").
 */
export function inactiveRecipientsMessage(addresses: readonly string[]): string {
  return (
    `You tried to send to recipient(s) that are not allowed. Found inactive addresses: ` +
    `${addresses.join(', ')}. Inactive recipients are ones outside this credential's --allow-to grants.`
  );
}

export function sendPostmarkError(
  _request: FastifyRequest,
  reply: FastifyReply,
  answer: { status: number; code: string; message: string },
): FastifyReply {
  const { status, body } = postmarkError(answer);
  return reply.code(status).send(body);
}

/** A policy denial (the door, the auth hook) as Postmark answers it. */
export function postmarkRefusal(_request: FastifyRequest, denial: Denial): RefusalReply {
  const { status, body } = postmarkError({ ...denialAnswer(denial), message: denial.message });
  return { status, headers: retryAfterHeaders(denial), body };
}

export function sendPostmarkDenial(
  request: FastifyRequest,
  reply: FastifyReply,
  denial: Denial,
): FastifyReply {
  return sendRefusal(reply, postmarkRefusal(request, denial));
}
