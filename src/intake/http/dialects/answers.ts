import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Denial } from '../../../security/verdict.js';
import { classifyError, type ErrorAnswer } from '../error-handlers.js';

/** `Retry-After` for a denial that has one (rate limits, a busy server), as sendDenial sets it. */
export function setRetryAfter(reply: FastifyReply, denial: Denial): void {
  if (denial.retryAfterSeconds !== undefined) {
    reply.header('Retry-After', String(Math.max(1, Math.ceil(denial.retryAfterSeconds))));
  }
}

/**
 * A dialect's error handler: the error is classified exactly as the native API does it
 * (error-handlers.ts: validation, size, bad JSON, Redis outage, 500 without details) and
 * logged the same way; only the body is the dialect's.
 */
export function dialectErrorHandler(
  send: (request: FastifyRequest, reply: FastifyReply, answer: ErrorAnswer) => FastifyReply,
) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const answer = classifyError(error);
    if (answer.code === 'queue_unavailable') {
      request.log.warn({ err: { message: error.message } }, 'queue unavailable');
    } else if (answer.status >= 500) {
      request.log.error({ err: error }, 'request failed');
    }
    return send(request, reply, answer);
  };
}
