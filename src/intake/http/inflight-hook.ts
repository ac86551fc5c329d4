import { Transform, type TransformCallback } from 'node:stream';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { PostwardenError } from '../../errors.js';
import type { InflightBudget, Reservation } from '../inflight-budget.js';

const ADMIN_PREFIX = '/admin/';

/** What a busy client is told to wait: long enough for a few large messages to finish. */
export const BUSY_RETRY_AFTER_SECONDS = 5;

/**
 * The process is over POSTWARDEN_MAX_INFLIGHT_BYTES: 503 `server_busy` with Retry-After
 * (CONTRACT §HTTP API), mapped by error-handlers.ts.
 */
export class ServerBusyError extends PostwardenError {
  readonly statusCode = 503;
  readonly retryAfterSeconds = BUSY_RETRY_AFTER_SECONDS;

  constructor() {
    super('server_busy', 'the relay is receiving too much mail at once; try again shortly');
    this.name = 'ServerBusyError';
  }
}

/**
 * What a JSON body holds while it is handled, as a multiple of its size: its text, the
 * parsed strings, a decoded attachment and the composed MIME are all alive at once.
 * Measured with bench/memory.ts (`--only-http`: 40 clients × 23 MB of JSON, mostly one
 * base64 attachment): one admitted body grew the process by 5.6–6.0× its size.
 */
export const JSON_BODY_WEIGHT = 6;

/**
 * Route config (`config: { multipartLimit }`) of a route whose multipart body is read by
 * @fastify/multipart from the raw request: fastify's bodyLimit does not apply to it, this
 * does.
 */
export interface MultipartLimitConfig {
  multipartLimit?: number;
}

/**
 * Every request body is counted against the process's byte budget before it is held, at
 * what it costs to handle (bodyWeight: ×6 for JSON, capped at the whole budget so one
 * request of the largest size always fits an idle relay): a declared Content-Length is
 * reserved before a byte is read (refused whole, unread, when it does not fit), and a body
 * without one (chunked) is counted as its bytes arrive, the request refused at the first
 * chunk that would pass the budget. A multipart body is read by its plugin from the raw
 * request, so it is reserved whole up front, at its declared length or its route's
 * multipart limit. The reservation is given back when the response is finished or the
 * connection dies, whichever way the request ended (202, an error, a timeout, a client
 * gone).
 *
 * Registered on the root instance (skip-override), before the API, forms and admin
 * plugins, so their routes — and any dialect added later — are all covered.
 */
export function inflightBudgetPlugin(budget: InflightBudget): FastifyPluginAsync {
  const plugin = async (app: FastifyInstance): Promise<void> => {
    app.addHook('preParsing', async (request, reply, payload) => {
      // The operator's controls (pause, hold, login) stay usable when the relay is full;
      // their bodies are small forms with a limit of their own.
      if (request.url.startsWith(ADMIN_PREFIX)) return payload;
      const reservation = budget.open('http');
      reply.raw.once('close', () => reservation.release());
      const cost = (bytes: number) => Math.min(bytes * bodyWeight(request), budget.limit);
      const declared = Number(request.headers['content-length']);
      if (isMultipart(request)) {
        const limit = multipartLimitOf(request);
        const whole = declared > 0 ? Math.min(declared, limit) : limit;
        if (Number.isFinite(whole) && !reservation.ensure(cost(whole))) {
          throw new ServerBusyError();
        }
        return payload;
      }
      const limit = bodyLimitOf(request);
      if (declared > 0) {
        // Over the body limit is fastify's 413, not a busy server: reserve nothing for it.
        if (declared <= limit && !reservation.ensure(cost(declared))) throw new ServerBusyError();
        return payload; // Node ends the body at Content-Length: nothing more to count.
      }
      // A chunked body is counted on its way to the parser.
      if (request.headers['transfer-encoding'] === undefined) return payload;
      return payload.pipe(countingStream(reservation, limit, cost));
    });
  };
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}

function isMultipart(request: FastifyRequest): boolean {
  return /^multipart\//i.test(request.headers['content-type'] ?? '');
}

function bodyWeight(request: FastifyRequest): number {
  return /^application\/([\w.+-]*\+)?json/i.test(request.headers['content-type'] ?? '')
    ? JSON_BODY_WEIGHT
    : 1;
}

function bodyLimitOf(request: FastifyRequest): number {
  const limit = request.routeOptions.bodyLimit;
  return typeof limit === 'number' && limit > 0 ? limit : Number.POSITIVE_INFINITY;
}

/** A route without a multipart limit of its own parses none (415): bodyLimit is the bound. */
function multipartLimitOf(request: FastifyRequest): number {
  const limit = (request.routeOptions.config as MultipartLimitConfig | undefined)?.multipartLimit;
  return typeof limit === 'number' && limit > 0 ? limit : bodyLimitOf(request);
}

/** Passes the body through, reserving each byte as it arrives (up to the body limit). */
function countingStream(
  reservation: Reservation,
  limit: number,
  cost: (bytes: number) => number,
): Transform {
  let received = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      received += chunk.length;
      // Past the body limit fastify's parser answers 413 itself.
      if (received <= limit && !reservation.ensure(cost(received))) {
        reservation.release();
        callback(new ServerBusyError());
        return;
      }
      callback(null, chunk);
    },
  });
}
