import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Denial } from '../../../security/verdict.js';
import { denialAnswer, type RefusalReply, retryAfterHeaders, sendRefusal } from '../errors.js';

/**
 * The Resend dialect's error table: our contract code (the native answer, errors.ts) →
 * Resend's `{"statusCode", "name", "message"}` with a name from the SDK's own list
 * (RESEND_ERROR_CODE_KEY in resend 6.x). The status stays ours unless Resend's differs
 * for the same meaning (field errors are 422 there, 400 here). A code not listed — one
 * another part of the relay adds later — gets a name by its status, never a 200.
 */
const BY_CODE: Readonly<Record<string, { name: string; status?: number }>> = {
  invalid_request: { name: 'validation_error', status: 422 },
  invalid_idempotency_key: { name: 'invalid_idempotency_key', status: 400 },
  // Resend answers an unverified sender domain or a recipient outside a test key's reach
  // with 403 validation_error: the nearest meaning to a grant refusal.
  sender_not_allowed: { name: 'validation_error' },
  recipient_not_allowed: { name: 'validation_error' },
  banned: { name: 'security_error' },
  too_large: { name: 'validation_error' },
  too_many_recipients: { name: 'validation_error' },
  unsupported_media_type: { name: 'validation_error' },
  rate_limited: { name: 'rate_limit_exceeded' },
  credential_held: { name: 'rate_limit_exceeded' },
  not_found: { name: 'not_found' },
  method_not_allowed: { name: 'method_not_allowed' },
  internal_error: { name: 'internal_server_error' },
};

function nameByStatus(status: number): string {
  if (status === 401) return 'missing_api_key';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'application_error';
  return 'validation_error';
}

export interface ResendError {
  statusCode: number;
  name: string;
  message: string;
}

/**
 * Our answer (status, contract code, message) in Resend's words. A refused secret is
 * `missing_api_key` (401) when none was sent and `invalid_api_key` (403) otherwise, as
 * Resend answers.
 */
export function resendError(
  request: FastifyRequest,
  answer: { status: number; code: string; message: string },
): ResendError {
  if (answer.code === 'unauthorized') {
    return request.headers.authorization === undefined
      ? {
          statusCode: 401,
          name: 'missing_api_key',
          message: 'Missing API key in the authorization header',
        }
      : { statusCode: 403, name: 'invalid_api_key', message: 'API key is invalid' };
  }
  const mapped = BY_CODE[answer.code];
  const statusCode = mapped?.status ?? answer.status;
  return { statusCode, name: mapped?.name ?? nameByStatus(statusCode), message: answer.message };
}

export function sendResendError(
  request: FastifyRequest,
  reply: FastifyReply,
  answer: { status: number; code: string; message: string },
): FastifyReply {
  const body = resendError(request, answer);
  return reply.code(body.statusCode).send(body);
}

/** A policy denial (the door, the auth hook) as Resend answers it. */
export function resendRefusal(request: FastifyRequest, denial: Denial): RefusalReply {
  const body = resendError(request, { ...denialAnswer(denial), message: denial.message });
  return { status: body.statusCode, headers: retryAfterHeaders(denial), body };
}

export function sendResendDenial(
  request: FastifyRequest,
  reply: FastifyReply,
  denial: Denial,
): FastifyReply {
  return sendRefusal(reply, resendRefusal(request, denial));
}
