import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keys } from '../redis/keys.js';

/** What one webhook job carries: the event, its endpoint, and the body to sign and send. */
export interface WebhookJobData {
  /** The event's id: the `webhook-id` header, the same on every try. */
  eventId: string;
  endpointId: string;
  type: string;
  /** When the outcome happened (unix ms): the lifetime counts from here. */
  eventAt: number;
  /** The JSON body, fixed when the job is made so every try signs the same bytes. */
  body: string;
}

const JOB_NAME = 'webhook';
/**
 * Finished jobs are kept this long (and at most this many) so that a dispatcher re-run
 * after a crash between adding the jobs and removing the outbox entry (which adds the same
 * deterministic job ids again, within a round or at the next worker start) is deduplicated
 * by BullMQ instead of resending. Bounded both ways, so the queue's size does not grow
 * with the event rate; past it a re-run is an at-least-once duplicate with the same
 * webhook-id, which receivers dedupe on.
 */
const KEEP_COMPLETED = { age: 60 * 60, count: 10_000 };
const KEEP_FAILED = { age: 7 * 24 * 60 * 60, count: 10_000 };

/**
 * The webhook queue: its own BullMQ queue, so webhook sends have their own workers and
 * concurrency and never wait behind (or slow) mail delivery.
 */
export class WebhookQueue {
  readonly queue: Queue<WebhookJobData>;

  constructor(redis: Redis, keys: Keys) {
    this.queue = new Queue<WebhookJobData>(keys.webhookQueueName(), {
      connection: redis,
      prefix: keys.queuePrefix(),
      skipWaitingForReady: true,
    });
    this.queue.on('error', () => {});
  }

  /**
   * Add one job per (event, endpoint), id `<event>-<endpoint>`: adding the same pair
   * twice is a no-op while the first job is kept (KEEP_COMPLETED). Resolves when
   * Redis has them all.
   */
  async addAll(jobs: readonly WebhookJobData[], jobIdSuffix = ''): Promise<void> {
    if (jobs.length === 0) return;
    await this.queue.addBulk(
      jobs.map((data) => ({
        name: JOB_NAME,
        data,
        opts: {
          jobId: `${data.eventId}-${data.endpointId}${jobIdSuffix}`,
          attempts: Number.MAX_SAFE_INTEGER,
          backoff: { type: 'webhook' },
          removeOnComplete: KEEP_COMPLETED,
          removeOnFail: KEEP_FAILED,
        },
      })),
    );
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => {});
  }
}
