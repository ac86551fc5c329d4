import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Form, normalizeOrigin } from '../../security/forms/form-store.js';

/**
 * The page's origin: `Origin`, or without one the origin of `Referer` (CONTRACT §Lead
 * forms). Browsers send `Origin` on every cross-origin POST; a request with neither is
 * refused, since nothing then says which page it came from.
 */
export function requestOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== '' && origin !== 'null')
    return normalizeOrigin(origin);
  const referer = request.headers.referer;
  return typeof referer === 'string' ? normalizeOrigin(referer) : undefined;
}

export function isOriginAllowed(form: Form, origin: string | undefined): origin is string {
  return origin !== undefined && form.origins.includes(origin);
}

/**
 * CORS by hand rather than @fastify/cors: the allowed origins are per form and live in
 * Redis, so they are known only after the form is read, which is what this route does
 * first anyway. Only an allowed origin is ever echoed; `Vary: Origin` keeps caches honest.
 */
export function allowOrigin(reply: FastifyReply, origin: string): void {
  reply.header('Access-Control-Allow-Origin', origin);
  reply.header('Vary', 'Origin');
}

export function answerPreflight(reply: FastifyReply, origin: string): FastifyReply {
  allowOrigin(reply, origin);
  reply.header('Access-Control-Allow-Methods', 'POST, GET');
  reply.header('Access-Control-Allow-Headers', 'Content-Type');
  reply.header('Access-Control-Max-Age', '600');
  return reply.code(204).send();
}
