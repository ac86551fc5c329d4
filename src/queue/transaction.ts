import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '../errors.js';

/**
 * MULTI … EXEC on a shared connection without an ioredis pipeline object. ioredis builds
 * each `multi()` by copying every script defined on the connection onto a new object —
 * BullMQ defines about 65 — which measured ~0.1 ms of CPU per call, about as much as the
 * rest of accepting a message. Instead MULTI, the commands and EXEC are written here in
 * one synchronous step: ioredis writes each command to the socket as it is called, and
 * nothing else can run (so nothing else can be written to this connection) until the
 * step returns. If `send` throws, DISCARD closes the transaction instead of EXEC, so the
 * connection is never left inside a MULTI.
 *
 * The socket is corked for that step and written in one go after it. Uncorked, a write
 * failing in the middle of the step (Redis just died) made ioredis refuse the remaining
 * commands, so it held the MULTI but not the EXEC among its unanswered commands — and it
 * resends those after reconnecting: the new connection sat inside a MULTI forever (found
 * by the Redis SIGKILL fault test). Corked, nothing is written during the step, so ioredis
 * counts all of it as sent or none of it; what it resends is then an unanswered suffix of
 * MULTI, commands, EXEC, which never holds a MULTI without its EXEC.
 *
 * `send` must call commands on `redis` synchronously (before any await) and return their
 * promises; each resolves to "QUEUED". The result is EXEC's reply, one entry per command;
 * a length other than the number of promises means something did not go into the
 * transaction and is an error.
 */
export async function inTransaction(
  redis: Redis,
  send: () => Promise<unknown>[],
): Promise<unknown[]> {
  if (redis.status !== 'ready') {
    throw new QueueUnavailableError(`Redis connection is ${redis.status}`);
  }
  const { stream } = redis;
  let sent: Promise<unknown>[];
  let count: number;
  stream.cork();
  try {
    const multi = redis.call('MULTI');
    let queued: Promise<unknown>[];
    try {
      queued = send();
    } catch (error) {
      redis.call('DISCARD').catch(() => {});
      multi.catch(() => {});
      throw error;
    }
    count = queued.length;
    sent = [multi, ...queued, redis.call('EXEC')];
  } finally {
    stream.uncork();
  }
  const replies = await Promise.all(sent);
  const results = replies[replies.length - 1];
  if (!Array.isArray(results) || results.length !== count) {
    throw new QueueUnavailableError('transaction did not hold exactly the commands sent');
  }
  for (const result of results) if (result instanceof Error) throw result;
  return results;
}
