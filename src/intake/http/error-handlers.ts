import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { PostwardenError, QueueUnavailableError } from '../../errors.js';
import { errorBody, HttpErrors } from './errors.js';
import { ServerBusyError } from './inflight-hook.js';

export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
}

/** Client errors without a more specific answer: status → the code shown. */
const CLIENT_ERROR_CODES: Readonly<Record<number, string>> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  409: 'conflict',
  413: 'too_large',
  414: 'not_found',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large',
};

/**
 * Any error thrown in a route or hook → the contract's error shape. fastify's client
 * errors keep their status; everything else is a 500 without details (no stack, no
 * internals). QueueUnavailableError is the Redis outage: 503, never a 202.
 */
export function classifyError(error: FastifyError): ErrorAnswer {
  if (error instanceof QueueUnavailableError) {
    return {
      status: 503,
      code: 'queue_unavailable',
      message: 'queue unavailable, try again later',
    };
  }
  if (error instanceof ServerBusyError) {
    return { status: 503, code: 'server_busy', message: error.message };
  }
  if (error.validation) return { status: 400, code: 'invalid_request', message: error.message };
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'too_large', message: 'request body exceeds the size limit' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return HttpErrors.unsupportedMediaType;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'invalid_request', message: 'the body is not valid JSON' };
    // An over-long :id cannot name a message.
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return HttpErrors.notFound;
  }
  if (error instanceof SyntaxError) {
    return { status: 400, code: 'invalid_request', message: 'the body is not valid JSON' };
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = CLIENT_ERROR_CODES[status];
    // PostwardenError messages are written to be shown; fastify's are replaced.
    const message = error instanceof PostwardenError ? error.message : 'the request was refused';
    return code ? { status, code, message } : { status: 400, code: 'invalid_request', message };
  }
  return HttpErrors.internal;
}

/** The app's error handler: log what is ours to fix, answer in the contract's shape. */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const answer = classifyError(error);
  if (error instanceof ServerBusyError) {
    // Its body is left unread (or half read): close rather than read the rest (GOTCHAS).
    reply.header('Retry-After', String(error.retryAfterSeconds)).header('Connection', 'close');
  }
  if (answer.code === 'queue_unavailable') {
    request.log.warn({ err: { message: error.message } }, 'queue unavailable');
  } else if (answer.status >= 500) {
    request.log.error({ err: error }, 'request failed');
  }
  return reply.code(answer.status).send(errorBody(answer.code, answer.message));
}

/**
 * Malformed HTTP (bad request line, header overflow, timeouts) never reaches fastify's
 * routing; answer it in our shape too before closing the socket.
 */
export function handleClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) return;
  const [status, code] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request_timeout']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers_too_large']
        : [400, 'invalid_request'];
  const body = JSON.stringify(errorBody(code, 'malformed HTTP request'));
  socket.end(
    `HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
