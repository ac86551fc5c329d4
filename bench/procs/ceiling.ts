/**
 * Helper process: the HTTP ceiling of issue 5 — a bare fastify route that parses the
 * JSON and does one Redis LPUSH of the body (on a redis-server with appendfsync always,
 * like the relay's), answering 202. Everything the relay does beyond that costs rate.
 */
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { helperOptions, serveHelper } from '../lib/helper-side.js';

const options = helperOptions<{ socket: string }>();
const redis = new Redis({ path: options.socket });
const app = Fastify({ logger: false, bodyLimit: 26_214_400 });
// Keep the raw text (what gets pushed) and still parse it, as any JSON API must.
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
  try {
    done(null, { raw: body as string, json: JSON.parse(body as string) as unknown });
  } catch (error) {
    done(error as Error, undefined);
  }
});
let n = 0;
app.post('/v1/messages', async (request, reply) => {
  await redis.lpush('bench:ceiling', (request.body as { raw: string }).raw);
  return reply.code(202).send({ id: `ceiling-${n++}`, status: 'queued' });
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
serveHelper({ port: typeof address === 'object' && address ? address.port : 0 }, {}, async () => {
  await app.close();
  redis.disconnect();
});
