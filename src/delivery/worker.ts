import { DelayedError, type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RecipientOutcome } from '../message/types.js';
import { LogEvent } from '../observability/events.js';
import { WorkerActivity } from '../observability/worker-activity.js';
import { Holds } from '../queue/holds.js';
import type { DeliveryJobData } from '../queue/mail-queue.js';
import { MailQueue } from '../queue/mail-queue.js';
import { MessageStore } from '../queue/message-store.js';
import { nextRetryDelay, type RetryPolicy, retryDelayMs } from '../queue/retry-policy.js';
import { SuppressionList } from '../queue/suppressions.js';
import { closeRedis, createRedis } from '../redis/connections.js';
import type { Keys } from '../redis/keys.js';
import type { Upstream } from '../upstream/types.js';
import { deliverMessage } from './deliver.js';
import { startWatchdog } from './watchdog.js';

export interface DeliveryWorkerDeps {
  redisUrl: string;
  keys: Keys;
  upstream: Upstream;
  retry: RetryPolicy;
  concurrency: number;
  logger: Logger;
  /** Metrics: once per recipient result, with the attempt's send duration in seconds. */
  onOutcome?: (outcome: RecipientOutcome, seconds: number) => void;
  /** How often the watchdog looks whether the worker still takes jobs (default 10 s). */
  watchdogIntervalMs?: number;
}

export interface DeliveryWorker {
  /** Stop taking jobs, let deliveries in flight finish within the deadline, close everything. */
  close(deadlineMs?: number): Promise<void>;
  /** The BullMQ worker delivering now (diagnostics; the watchdog may replace it). */
  current(): Worker<DeliveryJobData>;
  /** How many times the watchdog replaced a worker that took no jobs. */
  recreations(): number;
}

const DEFAULT_CLOSE_DEADLINE_MS = 30_000;
/** The watchdog's look: two deaf checks in a row (20 s) recreate the worker. */
const WATCHDOG_INTERVAL_MS = 10_000;
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
  const storeRedis = createRedis(deps.redisUrl, 'worker', 'delivery-store');
  storeRedis.on('error', (error) => logger.debug({ err: error }, 'worker redis connection error'));
  const store = new MessageStore(storeRedis, keys);
  // For checkBeforeSend's keys (the queue's meta hash) and the watchdog: adds no jobs.
  const queue = new MailQueue(storeRedis, keys);
  const holds = new Holds(storeRedis, keys, queue);
  const deliverDeps = {
    store,
    beforeSend: (id: string, credential: string) => holds.checkBeforeSend(id, credential),
    suppressions: new SuppressionList(storeRedis, keys),
    upstream: deps.upstream,
    retry: deps.retry,
    logger,
    onOutcome: deps.onOutcome,
  };

  async function processJob(job: Job<DeliveryJobData>, token?: string): Promise<string> {
    // extendLock answers 1 only while the lock still holds our token (and renews it for
    // the send ahead); 0 when it expired or another worker took the job meanwhile.
    const stillOwner = async () =>
      token === undefined || (await job.extendLock(token, DEFAULT_LOCK_DURATION_MS)) === 1;
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
  }

  const activity = new WorkerActivity();
  /** A BullMQ worker on a connection of its own, counted for the watchdog. */
  async function createWorker(): Promise<{ worker: Worker<DeliveryJobData>; connection: Redis }> {
    const connection = createRedis(deps.redisUrl, 'worker', 'delivery-worker');
    connection.on('error', (error) =>
      logger.debug({ err: error }, 'worker redis connection error'),
    );
    const worker = new Worker<DeliveryJobData>(keys.queueName(), processJob, {
      connection,
      prefix: keys.queuePrefix(),
      concurrency: deps.concurrency,
      settings: { backoffStrategy: createBackoffStrategy(deps.retry) },
      // A job whose worker died is "stalled"; BullMQ's default (1) fails it for good after
      // the second stall, which would strand an accepted message. A stall is never the
      // message's fault: always put it back (the delivered mark prevents resends).
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    });
    worker.on('error', (error) => logger.error({ err: error }, 'delivery worker error'));
    activity.track(worker);
    await worker.waitUntilReady();
    return { worker, connection };
  }

  let current: { worker: Worker<DeliveryJobData>; connection: Redis } = await createWorker();
  let recreations = 0;
  /** Stop a replaced worker in the background: what it runs may finish, the rest stalls back. */
  async function retire(old: typeof current, deadlineMs: number): Promise<void> {
    const graceful = old.worker.close().then(() => true);
    const timedOut = new Promise<boolean>((resolve) => {
      setTimeout(() => resolve(false), deadlineMs).unref();
    });
    if (!(await Promise.race([graceful, timedOut]))) {
      // Jobs still active are picked up again after the stall check; the delivered
      // mark keeps already-recorded recipients from being sent twice.
      logger.warn({ deadlineMs }, 'delivery worker close deadline passed; forcing');
      await old.worker.close(true).catch(() => {});
    }
    await closeRedis(old.connection);
  }

  const watchdog = startWatchdog(
    {
      waitingJobs: async () => ((await queue.isPaused()) ? 0 : (await queue.counts()).waiting),
      takeStarted: () => activity.takeStarted(),
      running: () => activity.running(),
    },
    {
      intervalMs: deps.watchdogIntervalMs ?? WATCHDOG_INTERVAL_MS,
      concurrency: deps.concurrency,
      async recreate(reason) {
        logger.warn({ event: LogEvent.workerRecreated, reason }, 'delivery worker recreated');
        const old = current;
        activity.retire(old.worker);
        current = await createWorker();
        recreations += 1;
        void retire(old, DEFAULT_CLOSE_DEADLINE_MS);
      },
    },
  );

  let closing: Promise<void> | undefined;
  return {
    current: () => current.worker,
    recreations: () => recreations,
    close(deadlineMs = DEFAULT_CLOSE_DEADLINE_MS) {
      closing ??= (async () => {
        watchdog.stop();
        await retire(current, deadlineMs);
        await deps.upstream.close().catch(() => {});
        await queue.close();
        await closeRedis(storeRedis);
      })();
      return closing;
    },
  };
}
