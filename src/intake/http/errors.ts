import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Denial, DenialCode } from '../../security/verdict.js';

/**
 * The HTTP edge's one table (ARCHITECTURE §2): a Denial code → status and the contract's
 * error code (CONTRACT §HTTP API). No other file in the HTTP intake picks a status for a
 * policy decision.
 */
const DENIAL_STATUS: Readonly<Record<DenialCode, { status: number; code: string }>> = {
  unauthorized: { status: 401, code: 'unauthorized' },
  banned: { status: 403, code: 'banned' },
  sender_not_allowed: { status: 403, code: 'sender_not_allowed' },
  // HTTP composes From: from `from`, so a header sender refusal is the same answer.
  header_sender_not_allowed: { status: 403, code: 'sender_not_allowed' },
  recipient_not_allowed: { status: 403, code: 'recipient_not_allowed' },
  too_large: { status: 413, code: 'too_large' },
  too_many_recipients: { status: 422, code: 'too_many_recipients' },
  rate_limited: { status: 429, code: 'rate_limited' },
  credential_held: { status: 429, code: 'credential_held' },
  invalid_request: { status: 400, code: 'invalid_request' },
  queue_unavailable: { status: 503, code: 'queue_unavailable' },
};

/** The status and contract code a denial gets (a dialect starts from it: dialects/). */
export function denialAnswer(denial: Denial): { status: number; code: string } {
  return DENIAL_STATUS[denial.code];
}

/** HTTP-only answers that are not policy denials. */
export const HttpErrors = {
  notFound: { status: 404, code: 'not_found', message: 'not found' },
  unsupportedMediaType: {
    status: 415,
    code: 'unsupported_media_type',
    message: 'the body must be application/json',
  },
  internal: { status: 500, code: 'internal_error', message: 'internal error' },
} as const;

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** A refusal as it goes out: status, headers and body (ours, or a dialect's: dialects/). */
export interface RefusalReply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** `Retry-After` for a denial that has one (rate limits, a busy server). */
export function retryAfterHeaders(denial: Denial): Record<string, string> {
  return denial.retryAfterSeconds === undefined
    ? {}
    : { 'Retry-After': String(Math.max(1, Math.ceil(denial.retryAfterSeconds))) };
}

/** `{"error":{code,message}}` with the status the table gives the denial. */
export function nativeRefusal(_request: FastifyRequest, denial: Denial): RefusalReply {
  const { status, code } = DENIAL_STATUS[denial.code];
  const headers = retryAfterHeaders(denial);
  if (denial.code === 'unauthorized') headers['WWW-Authenticate'] = 'Bearer';
  return { status, headers, body: errorBody(code, denial.message) };
}

export function sendRefusal(reply: FastifyReply, refusal: RefusalReply): FastifyReply {
  return reply.headers(refusal.headers).code(refusal.status).send(refusal.body);
}

/** Send `{"error":{code,message}}` with the status the table gives the denial. */
export function sendDenial(reply: FastifyReply, denial: Denial): FastifyReply {
  return sendRefusal(reply, nativeRefusal(reply.request, denial));
}

export function sendError(
  reply: FastifyReply,
  error: { status: number; code: string; message: string },
): FastifyReply {
  return reply.code(error.status).send(errorBody(error.code, error.message));
}
