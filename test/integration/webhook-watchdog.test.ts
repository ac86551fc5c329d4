import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startWatchdog } from '../../src/delivery/watchdog.js';
import { AuditLog } from '../../src/observability/audit-log.js';
import { createKeys } from '../../src/redis/keys.js';
import { WebhookEndpointStore } from '../../src/webhooks/endpoint-store.js';
import type { OutboxEvent } from '../../src/webhooks/event-types.js';
import { startWebhookWorker, type WebhookWorker } from '../../src/webhooks/worker.js';
import { silentLogger } from '../support/log-sink.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/wait-until.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * A webhook worker that reports running but takes no job (the BullMQ failure mode after a
 * Sentinel failover, GOTCHAS.md) is replaced by the delivery watchdog, and the events go
 * out. The deaf worker is a real one paused locally: running, taking nothing.
 */
describe('webhook worker watchdog', () => {
  let redis: TestRedis;
  let client: Redis;
  let receiver: WebhookReceiver;
  let worker: WebhookWorker | undefined;
  const keys = createKeys('wdog');

  before(async () => {
    redis = await startTestRedis();
    client = new Redis({ path: redis.socket });
    await client.ping(); // the store writes in a MULTI, which needs a ready connection
    receiver = await startWebhookReceiver();
  });

  after(async () => {
    await worker?.close();
    client?.disconnect();
    await receiver?.close();
    await redis?.cleanup();
  });

  it('recreates a deaf worker, and the new one sends what waited', async () => {
    await new WebhookEndpointStore(client, keys).add({
      url: receiver.url,
      events: ['message.delivered'],
    });
    worker = await startWebhookWorker({
      redisUrl: redis.url,
      keys,
      logger: silentLogger,
      audit: new AuditLog(client, keys),
      retryBaseMs: 100,
      lifetimeMs: 60_000,
      allowPrivate: true,
      watchdog: startWatchdog,
      watchdogIntervalMs: 200,
    });
    const deaf = worker.current();
    await deaf.pause(true);
    assert.equal(deaf.isRunning(), true, 'a locally paused worker still reports running');
    for (let n = 1; n <= 3; n += 1) {
      const event: OutboxEvent = {
        id: `ev${n}`,
        type: 'message.delivered',
        at: Date.now(),
        message: `m${n}`,
        credential: 'shop',
        credentialId: 'c1',
        recipient: `r${n}@example.net`,
        status: 'delivered',
        detail: '250 ok',
        attempts: 1,
      };
      await client.rpush(keys.webhookOutbox(), JSON.stringify(event));
    }
    await waitUntil(() => receiver.received.length >= 3, 15_000, 'three events sent');
    assert.ok(worker.recreations() >= 1, 'the watchdog recreated the worker');
    assert.notEqual(worker.current(), deaf);
    assert.deepEqual(
      receiver
        .events()
        .map((event) => event.webhookId)
        .sort(),
      ['ev1', 'ev2', 'ev3'],
    );
    assert.equal(await client.llen(keys.webhookOutbox()), 0, 'the outbox is emptied');
  });
});
