import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { RecipientOutcome } from '../message/types.js';
import { LogEvent } from '../observability/events.js';
import { Holds } from '../queue/holds.js';
import type { DeliveryJobData } from '../queue/mail-queue.js';
import { MailQueue } from '../queue/mail-queue.js';
import { MessageStore } from '../queue/message-store.js';
import { nextRetryDelay, type RetryPolicy, retryDelayMs } from '../queue/retry-policy.js';
import { closeRedis, createRedis } from '../redis/connections.js';
import type { Keys } from '../redis/keys.js';
import type { Upstream } from '../upstream/types.js';
import { deliverMessage } from './deliver.js';

export interface DeliveryWorkerDeps {
  redisUrl: string;
  keys: Keys;
  upstream: Upstream;
  retry: RetryPolicy;
  concurrency: number;
  logger: Logger;
  /** Metrics: once per recipient result, with the attempt's send duration in seconds. */
  onOutcome?: (outcome: RecipientOutcome, seconds: number) => void;
}

export interface DeliveryWorker {
  /** Stop taking jobs, let deliveries in flight finish within the deadline, close everything. */
  close(deadlineMs?: number): Promise<void>;
}

const DEFAULT_CLOSE_DEADLINE_MS = 30_000;
/** BullMQ's default job lock; its Worker constructor fills `opts.lockDuration` with it. */
const DEFAULT_LOCK_DURATION_MS = 30_000;
/**
 * A job taken just before a pause waits this long and looks again; meanwhile-due delayed
 * jobs stay in BullMQ's paused queue until resume.
 */
const PAUSED_RETRY_MS = 1000;

/**
 * Some recipients were deferred and the lifetime is not over: BullMQ retries the job after
 * the delay our backoffStrategy computes from `lifetimeStartMs`.
 */
class DeferredAttempt extends Error {
  readonly lifetimeStartMs: number;

  constructor(detail: string, lifetimeStartMs: number) {
    super(`deferred: ${detail}`);
    this.name = 'DeferredAttempt';
    this.lifetimeStartMs = lifetimeStartMs;
  }
}

/**
 * The contract's backoff (base, doubling, ±20 % jitter, capped, never past the lifetime).
 * `failures` is BullMQ's attemptsMade + 1: failed tries of this job so far, reset when an
 * operator requeues. A delay of 0 retries at once — at the deadline the attempt expires.
 */
export function createBackoffStrategy(retry: RetryPolicy) {
  return (failures: number, _type?: string, error?: Error): number => {
    if (error instanceof DeferredAttempt) {
      return nextRetryDelay(retry, failures, error.lifetimeStartMs, Date.now(), Math.random()) ?? 0;
    }
    // An unexpected failure (not an upstream answer): the same backoff, without the clamp.
    return retryDelayMs(retry, failures, Math.random());
  };
}

export async function startDeliveryWorker(deps: DeliveryWorkerDeps): Promise<DeliveryWorker> {
  const { keys, logger } = deps;
  // Worker connections wait out a Redis outage instead of failing jobs (ARCHITECTURE §10).
  const connection = createRedis(deps.redisUrl, 'worker', 'delivery-worker');
  const storeRedis = createRedis(deps.redisUrl, 'worker', 'delivery-store');
  for (const redis of [connection, storeRedis]) {
    redis.on('error', (error) => logger.debug({ err: error }, 'worker redis connection error'));
  }
  const store = new MessageStore(storeRedis, keys);
  // Only for checkBeforeSend's keys (the queue's meta hash): this queue adds no jobs.
  const holdsQueue = new MailQueue(storeRedis, keys);
  const holds = new Holds(storeRedis, keys, holdsQueue);
  const deliverDeps = {
    store,
    beforeSend: (id: string, credential: string) => holds.checkBeforeSend(id, credential),
    upstream: deps.upstream,
    retry: deps.retry,
    logger,
    onOutcome: deps.onOutcome,
  };

  const worker = new Worker<DeliveryJobData>(
    keys.queueName(),
    async (job: Job<DeliveryJobData>, token?: string) => {
      // extendLock answers 1 only while the lock still holds our token (and renews it for
      // the send ahead); 0 when it expired or another worker took the job meanwhile.
      const stillOwner = async () =>
        token === undefined ||
        (await job.extendLock(token, worker.opts.lockDuration ?? DEFAULT_LOCK_DURATION_MS)) === 1;
      const end = await deliverMessage({ ...deliverDeps, stillOwner }, job.data.id);
      if (end.kind === 'lost') {
        logger.warn(
          { event: LogEvent.deliveryAttempt, messageId: job.data.id },
          'job lock lost before sending (worker stalled); left to the worker that holds it now',
        );
        return 'lost';
      }
      if (end.kind === 'gone') return 'gone';
      if (end.kind === 'held') return 'held';
      if (end.kind === 'paused' && token !== undefined) {
        await job.moveToDelayed(Date.now() + PAUSED_RETRY_MS, token);
        throw new DelayedError();
      }
      if (end.kind === 'paused') throw new Error('delivery paused'); // retried by the backoff
      if (end.kind === 'retry') throw new DeferredAttempt(end.detail, end.lifetimeStartMs);
      // Expired: the job ends as failed and is never retried by BullMQ (only by an operator).
      if (end.kind === 'expired') throw new UnrecoverableError(`expired: ${end.detail}`);
      return end.status;
    },
    {
      connection,
      prefix: keys.queuePrefix(),
      concurrency: deps.concurrency,
      settings: { backoffStrategy: createBackoffStrategy(deps.retry) },
      // A job whose worker died is "stalled"; BullMQ's default (1) fails it for good after
      // the second stall, which would strand an accepted message. A stall is never the
      // message's fault: always put it back (the delivered mark prevents resends).
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    },
  );
  worker.on('error', (error) => logger.error({ err: error }, 'delivery worker error'));
  await worker.waitUntilReady();

  let closing: Promise<void> | undefined;
  return {
    close(deadlineMs = DEFAULT_CLOSE_DEADLINE_MS) {
      closing ??= (async () => {
        const graceful = worker.close().then(() => true);
        const timedOut = new Promise<boolean>((resolve) => {
          setTimeout(() => resolve(false), deadlineMs).unref();
        });
        if (!(await Promise.race([graceful, timedOut]))) {
          // Jobs still active are picked up again after the stall check; the delivered
          // mark keeps already-recorded recipients from being sent twice.
          logger.warn({ deadlineMs }, 'delivery worker close deadline passed; forcing');
          await worker.close(true).catch(() => {});
        }
        await deps.upstream.close().catch(() => {});
        await holdsQueue.close();
        await Promise.all([closeRedis(connection), closeRedis(storeRedis)]);
      })();
      return closing;
    },
  };
}
