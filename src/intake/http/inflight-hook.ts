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
 * Every request body is counted against the process's byte budget before it is held:
 * a declared Content-Length is reserved before a byte is read (refused whole, unread, when
 * it does not fit), and a body without one (chunked) is counted as its bytes arrive, the
 * request refused at the first chunk that would pass the budget. The reservation is given
 * back when the response is finished or the connection dies, whichever way the request
 * ended (202, an error, a timeout, a client gone).
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
      const limit = bodyLimitOf(request);
      const declared = Number(request.headers['content-length']);
      if (declared > 0) {
        // Over the body limit is fastify's 413, not a busy server: reserve nothing for it.
        if (declared <= limit && !reservation.ensure(declared)) throw new ServerBusyError();
        return payload; // Node ends the body at Content-Length: nothing more to count.
      }
      // A chunked body is counted on its way to the parser. Multipart is read by its plugin
      // from the raw request, not from here, so it is left alone (browsers send a length).
      if (request.headers['transfer-encoding'] === undefined || isMultipart(request)) {
        return payload;
      }
      return payload.pipe(countingStream(reservation, limit));
    });
  };
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}

function isMultipart(request: FastifyRequest): boolean {
  return /^multipart\//i.test(request.headers['content-type'] ?? '');
}

function bodyLimitOf(request: FastifyRequest): number {
  const limit = request.routeOptions.bodyLimit;
  return typeof limit === 'number' && limit > 0 ? limit : Number.POSITIVE_INFINITY;
}

/** Passes the body through, reserving each byte as it arrives (up to the body limit). */
function countingStream(reservation: Reservation, limit: number): Transform {
  let received = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      received += chunk.length;
      // Past the body limit fastify's parser answers 413 itself.
      if (received <= limit && !reservation.ensure(received)) {
        reservation.release();
        callback(new ServerBusyError());
        return;
      }
      callback(null, chunk);
    },
  });
}
