import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createKeys } from '../../src/redis/keys.js';
import { WebhookEndpointStore } from '../../src/webhooks/endpoint-store.js';
import { DEFAULT_WEBHOOK_EVENTS } from '../../src/webhooks/event-types.js';
import { useSinkWorld } from '../support/faults-harness.js';
import type { RelayProcess } from '../support/relay-process.js';
import { waitUntil } from '../support/wait-until.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

const KILLS = 20;
const MESSAGES = 200;
const WORKER_ENV = {
  POSTWARDEN_WEBHOOK_ALLOW_PRIVATE: 'true',
  POSTWARDEN_WEBHOOK_RETRY_BASE: '100ms',
  POSTWARDEN_WORKER_CONCURRENCY: '4',
};

/**
 * Issue 13: the worker SIGKILLed repeatedly while outcomes and webhook events flow.
 * The event is written in the same Lua step as the outcome (the outbox), moved to the
 * webhook queue with deterministic job ids and removed only after, and a killed worker's
 * webhook job comes back (stall): so every delivered recipient has its event delivered at
 * least once. Duplicates (a kill between the receiver's 2xx and the job's completion) are
 * reported, not asserted: at-least-once is the contract, and receivers dedupe by webhook-id.
 */
describe('fault: worker SIGKILLed while webhook events flow', { timeout: 540_000 }, () => {
  const fixture = useSinkWorld();

  it(`every delivered message has its message.delivered event at the receiver across ${KILLS} kills`, async () => {
    const { sink, world } = fixture;
    const receiver = await startWebhookReceiver();
    const client = new Redis({ path: world.redis.socket });
    try {
      await client.ping(); // the store writes in a MULTI, which needs a ready connection
      const endpoint = await new WebhookEndpointStore(client, createKeys()).add({
        url: receiver.url,
        events: DEFAULT_WEBHOOK_EVENTS,
      });
      await world.startRelay('intake');
      const ids = new Set<string>();
      let sent = 0;
      const topUp = async (count: number) => {
        await Promise.all(
          Array.from({ length: 10 }, async (_, lane) => {
            for (let n = lane; n < count; n += 10) {
              const result = await world.send(`webhook-kill-${sent + n}`, 'http');
              assert.ok(result.acked && result.id, 'the intake alone acknowledges every message');
              ids.add(result.id);
            }
          }),
        );
        sent += count;
      };
      await topUp(MESSAGES);

      let kills = 0;
      let worker: RelayProcess | undefined;
      while (kills < KILLS) {
        if (ids.size - sink.received.length < 40) await topUp(50);
        const sinkBefore = sink.received.length;
        const hooksBefore = receiver.received.length;
        worker = await world.startRelay('worker', WORKER_ENV);
        const current = worker;
        // Kill only while both mail and webhooks are moving.
        await waitUntil(
          () =>
            (sink.received.length > sinkBefore && receiver.received.length > hooksBefore) ||
            current.child.exitCode !== null,
          30_000,
          `the restarted worker to deliver mail and webhooks (after ${kills} kills)`,
          10,
        );
        assert.equal(current.child.exitCode, null, `worker exited early: ${current.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 300));
        await current.kill('SIGKILL');
        // The kill fired: the process ended by SIGKILL, not by itself.
        assert.equal(current.child.signalCode, 'SIGKILL', 'the worker died of the SIGKILL');
        kills++;
      }

      worker = await world.startRelay('worker', WORKER_ENV);
      const deliveredIds = () =>
        new Set(
          receiver
            .events()
            .filter((event) => event.type === 'message.delivered')
            .map((event) => String(event.data.id)),
        );
      await waitUntil(
        () => [...ids].every((id) => deliveredIds().has(id)),
        240_000,
        'a message.delivered event for every message',
        200,
      );
      const missing = [...ids].filter((id) => !deliveredIds().has(id));
      assert.deepEqual(missing, [], 'messages without their webhook event');

      const perWebhookId = new Map<string, number>();
      for (const event of receiver.events())
        perWebhookId.set(event.webhookId, (perWebhookId.get(event.webhookId) ?? 0) + 1);
      const duplicates = [...perWebhookId.values()].reduce((sum, n) => sum + (n - 1), 0);
      const perMessage = new Map<string, number>();
      for (const event of receiver.events())
        perMessage.set(String(event.data.id), (perMessage.get(String(event.data.id)) ?? 0) + 1);
      // One recipient each, default events: exactly one distinct event per message.
      assert.ok(
        [...perMessage.keys()].every((id) => ids.has(id)),
        'no event for an unknown message',
      );
      assert.equal(perWebhookId.size, ids.size, 'one distinct webhook-id per outcome');
      console.log(
        `# webhook-worker-kill: ${kills} kills, ${ids.size} messages, ${receiver.received.length} webhook posts, ${perWebhookId.size} distinct events, ${duplicates} duplicate posts (same webhook-id), mail duplicates ${sink.received.length - new Set(sink.received.map((m) => m.subject)).size}`,
      );
      void endpoint;
      await worker.kill('SIGTERM');
    } finally {
      client.disconnect();
      await receiver.close();
    }
  });
});
