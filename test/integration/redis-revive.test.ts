import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import {
  closeRedis,
  createRedis,
  REVIVE_DELAY_MS,
  waitForReady,
} from '../../src/redis/connections.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/wait-until.js';

/** ioredis's connector, private: what its failover detector disconnects. */
function connectorOf(redis: Redis): { disconnect(): void } {
  return (redis as unknown as { connector: { disconnect(): void } }).connector;
}

/**
 * ioredis ends a connection for good when a connect attempt is interrupted (during a
 * Sentinel failover: src/redis/connections.ts). A relay's connections must come back
 * from that; only closeRedis may leave one ended. Its own disconnect() or quit() is final.
 */
describe('a connection ioredis ended', () => {
  let server: TestRedis;
  before(async () => {
    server = await startTestRedis();
  });
  after(async () => {
    await server.cleanup();
  });

  for (const role of ['producer', 'worker'] as const) {
    it(`is connected again (${role})`, async () => {
      const redis = createRedis(server.url, role, `revive-${role}`);
      redis.on('error', () => {});
      try {
        await waitForReady(redis, 5000);
        const ended = new Promise((resolve) => redis.once('end', resolve));
        // What ioredis 6.0.0 does in a Sentinel failover: a reconnect begins, and its
        // connector is disconnected while it connects (there, by the failover detector).
        redis.once('connecting', () => connectorOf(redis).disconnect());
        redis.disconnect(true);
        await ended;
        assert.equal(redis.status, 'end', 'the connection really ended');
        await waitUntil(
          () => redis.status === 'ready',
          10 * REVIVE_DELAY_MS,
          'the connection back',
        );
        assert.equal(await redis.ping(), 'PONG');
      } finally {
        await closeRedis(redis);
      }
    });
  }

  it('stays closed after its own disconnect()', async () => {
    const redis: Redis = createRedis(server.url, 'worker', 'revive-disconnect');
    redis.on('error', () => {});
    await waitForReady(redis, 5000);
    const ended = new Promise((resolve) => redis.once('end', resolve));
    redis.disconnect();
    await ended;
    const deadline = Date.now() + 2 * REVIVE_DELAY_MS + 500;
    await waitUntil(() => redis.status !== 'end' || Date.now() > deadline, 5000, 'the window', 50);
    assert.equal(redis.status, 'end');
  });

  it('stays closed after closeRedis', async () => {
    const redis: Redis = createRedis(server.url, 'worker', 'revive-closed');
    redis.on('error', () => {});
    await waitForReady(redis, 5000);
    await closeRedis(redis);
    await waitUntil(() => redis.status === 'end', 5000, 'the connection closed');
    // Past two revive delays it has still not been connected again.
    const deadline = Date.now() + 2 * REVIVE_DELAY_MS + 500;
    await waitUntil(() => redis.status !== 'end' || Date.now() > deadline, 5000, 'the window', 50);
    assert.equal(redis.status, 'end');
  });
});
