import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '../../src/errors.js';
import { inTransaction } from '../../src/queue/transaction.js';
import { createRedis, waitForReady } from '../../src/redis/connections.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';

describe('MULTI on the shared producer connection', () => {
  let server: TestRedis;
  let redis: Redis;

  before(async () => {
    server = await startTestRedis();
    redis = createRedis(server.url, 'producer', 'test');
    await waitForReady(redis, 5000);
  });

  after(async () => {
    redis.disconnect();
    await server.cleanup();
  });

  it('commits the commands together and returns their results', async () => {
    const results = await inTransaction(redis, () => [
      redis.set('tx:a', '1'),
      redis.incr('tx:counter'),
    ]);
    assert.deepEqual(results, ['OK', 1]);
    assert.equal(await redis.get('tx:a'), '1');
  });

  it('hands the whole transaction to the socket in one write', async () => {
    // A write failing half-way would leave ioredis holding MULTI without EXEC among the
    // commands it resends after reconnecting (the new connection would stay in MULTI).
    const socket = redis.stream as unknown as {
      _write: (...args: unknown[]) => void;
      _writev: (...args: unknown[]) => void;
    };
    const calls: string[] = [];
    const write = socket._write;
    const writev = socket._writev;
    socket._write = (...args) => {
      calls.push('write');
      write.apply(socket, args);
    };
    socket._writev = (...args) => {
      calls.push('writev');
      writev.apply(socket, args);
    };
    try {
      await inTransaction(redis, () => [redis.set('tx:b', '1'), redis.set('tx:c', '2')]);
    } finally {
      socket._write = write;
      socket._writev = writev;
    }
    assert.deepEqual(calls, ['writev']);
  });

  it('discards what was queued when the sender throws, and the connection stays usable', async () => {
    await assert.rejects(
      inTransaction(redis, () => {
        void redis.set('tx:never', '1');
        throw new Error('boom while queueing');
      }),
      /boom while queueing/,
    );
    // Inside a forgotten MULTI this would answer QUEUED instead of the value.
    assert.equal(await redis.set('tx:after', 'yes'), 'OK');
    assert.equal(await redis.get('tx:never'), null);
  });

  it('reports a command that failed inside the transaction', async () => {
    await redis.set('tx:text', 'not a number');
    await assert.rejects(
      inTransaction(redis, () => [redis.incr('tx:text')]),
      /not an integer/,
    );
  });

  it('refuses at once, without writing, when the connection is not ready', async () => {
    const closed = createRedis(server.url, 'producer', 'closed');
    await waitForReady(closed, 5000);
    const ended = new Promise((resolve) => closed.once('end', resolve));
    closed.disconnect();
    await ended;
    await assert.rejects(
      inTransaction(closed, () => [closed.set('tx:x', '1')]),
      QueueUnavailableError,
    );
  });
});
