import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '../../src/errors.js';
import { MailQueue } from '../../src/queue/mail-queue.js';
import { createRedis, waitForReady } from '../../src/redis/connections.js';
import { DurabilityMonitor } from '../../src/redis/durability.js';
import { createKeys } from '../../src/redis/keys.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/wait-until.js';

describe('MailQueue on a fail-fast producer connection', () => {
  let server: TestRedis;
  let redis: Redis;
  let queue: MailQueue;
  let durability: DurabilityMonitor;

  before(async () => {
    server = await startTestRedis();
    redis = createRedis(server.url, 'producer', 'test');
    redis.on('error', () => {});
    await waitForReady(redis, 5000);
    queue = new MailQueue(redis, createKeys('mq'));
    durability = new DurabilityMonitor(redis, 'fsync', 200);
    await durability.refresh();
    durability.start();
  });

  after(async () => {
    durability.close();
    await queue.close();
    redis.disconnect();
    await server.cleanup();
  });

  it('enqueues once per id (a repeated add of the same id is a no-op)', async () => {
    await queue.enqueue('aaaaaaaaaaaaaaaaaaaa1');
    await queue.enqueue('aaaaaaaaaaaaaaaaaaaa1');
    assert.equal(await queue.hasJob('aaaaaaaaaaaaaaaaaaaa1'), true);
    assert.equal((await queue.counts()).waiting, 1);
  });

  it('fails within 5 s with QueueUnavailableError while Redis is down, and recovers by itself', async () => {
    await server.stop();
    const started = Date.now();
    await assert.rejects(queue.enqueue('aaaaaaaaaaaaaaaaaaaa2'), QueueUnavailableError);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    // The failed write can reject before ioredis has handled the socket's close (its
    // status is still 'ready' for a tick; this failed CI once), so the monitor is polled.
    await waitUntil(() => !durability.state.ok, 1000, 'durability reported not met while down');

    server = await server.restart();
    await waitUntil(() => durability.state.ok, 10_000, 'durability to be confirmed again');
    await queue.enqueue('aaaaaaaaaaaaaaaaaaaa3');
    assert.equal(await queue.hasJob('aaaaaaaaaaaaaaaaaaaa3'), true);
    // The job acknowledged before the outage survived it (AOF, appendfsync always).
    assert.equal(await queue.hasJob('aaaaaaaaaaaaaaaaaaaa1'), true);
  });

  it('reports durability not met for a Redis without appendfsync always', async () => {
    const loose = await startTestRedis({ appendfsync: 'everysec' });
    const client = createRedis(loose.url, 'producer', 'loose');
    await waitForReady(client, 5000);
    const state = await new DurabilityMonitor(client, 'fsync').refresh();
    assert.equal(state.ok, false);
    assert.match(state.reason, /appendfsync/);
    const memory = await new DurabilityMonitor(client, 'memory').refresh();
    assert.equal(memory.ok, true);
    await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const evicting = await new DurabilityMonitor(client, 'memory').refresh();
    assert.equal(evicting.ok, false);
    assert.match(evicting.reason, /noeviction/);
    client.disconnect();
    await loose.cleanup();
  });
});
