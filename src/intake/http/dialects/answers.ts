import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { classifyError, type ErrorAnswer } from '../error-handlers.js';

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
