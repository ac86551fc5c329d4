import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Keys } from '../redis/keys.js';
import type { WebhookEndpoint, WebhookEndpointStore } from './endpoint-store.js';
import { type OutboxEvent, payloadOf } from './event-types.js';
import type { WebhookJobData, WebhookQueue } from './webhook-queue.js';

/** Outbox entries moved per round. */
const BATCH = 100;
/** How often an empty outbox is looked at again. */
const POLL_MS = 200;

export function matches(endpoint: WebhookEndpoint, event: OutboxEvent): boolean {
  if (endpoint.disabled) return false;
  if (!endpoint.events.some((type) => type === event.type)) return false;
  return !endpoint.credentialId || endpoint.credentialId === event.credentialId;
}

/**
 * Move outbox entries (written by the outcome Lua) into the webhook queue: one job per
 * event and matching endpoint, with a deterministic id; an entry leaves the outbox only
 * after its jobs exist (LREM of that exact entry, so two dispatchers on two workers can
 * run at once: the second adds the same ids, ignored, and removes nothing). A crash
 * between the two steps re-adds the same ids: no duplicate, nothing lost.
 */
export async function dispatchOnce(deps: {
  redis: Redis;
  keys: Keys;
  endpoints: WebhookEndpointStore;
  queue: WebhookQueue;
  logger: Logger;
}): Promise<number> {
  const outbox = deps.keys.webhookOutbox();
  const raw = await deps.redis.lrange(outbox, 0, BATCH - 1);
  if (raw.length === 0) return 0;
  const endpoints = await deps.endpoints.list();
  const jobs: WebhookJobData[] = [];
  for (const line of raw) {
    let event: OutboxEvent;
    try {
      event = JSON.parse(line) as OutboxEvent;
    } catch {
      deps.logger.warn({ entry: line.slice(0, 80) }, 'unreadable webhook outbox entry dropped');
      continue;
    }
    const body = JSON.stringify(payloadOf(event));
    for (const endpoint of endpoints) {
      if (!matches(endpoint, event)) continue;
      jobs.push({
        eventId: event.id,
        endpointId: endpoint.id,
        type: event.type,
        eventAt: event.at,
        body,
      });
    }
  }
  await deps.queue.addAll(jobs);
  const pipeline = deps.redis.pipeline();
  for (const line of raw) pipeline.lrem(outbox, 1, line);
  await pipeline.exec();
  return raw.length;
}

/** Run dispatchOnce until stopped; errors (Redis away) are logged and the loop goes on. */
export function startDispatcher(deps: Parameters<typeof dispatchOnce>[0]): {
  stop(): Promise<void>;
} {
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      let moved = 0;
      try {
        moved = await dispatchOnce(deps);
      } catch (error) {
        deps.logger.debug({ err: error }, 'webhook dispatcher round failed');
      }
      if (moved === 0 && !stopped) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, POLL_MS).unref();
        });
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
