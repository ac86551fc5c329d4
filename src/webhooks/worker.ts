import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AuditLog } from '../observability/audit-log.js';
import { LogEvent } from '../observability/events.js';
import type { WebhookOutcome } from '../observability/metrics.js';
import { WorkerActivity } from '../observability/worker-activity.js';
import { closeRedis, createRedis } from '../redis/connections.js';
import type { Keys } from '../redis/keys.js';
import { checkWebhookTarget, type Resolver } from '../security/webhook-target.js';
import { nextWebhookTry, webhookRetryDelay } from './backoff.js';
import { startDispatcher } from './dispatcher.js';
import { type WebhookAttempt, WebhookEndpointStore } from './endpoint-store.js';
import { postWebhook, type SendResult, signedHeaders, WEBHOOK_TIMEOUT_MS } from './send.js';
import { type WebhookJobData, WebhookQueue } from './webhook-queue.js';

/** Webhook sends in flight per worker process: their own, apart from mail delivery's. */
export const WEBHOOK_CONCURRENCY = 10;

export interface WebhookWorkerDeps {
  redisUrl: string;
  keys: Keys;
  logger: Logger;
  audit: AuditLog;
  retryBaseMs: number;
  lifetimeMs: number;
  allowPrivate: boolean;
  /** Host name resolution (tests: loopback names only). */
  resolve?: Resolver | undefined;
  /** The clock of the rotate window (tests move it past 24 h). */
  now?: (() => number) | undefined;
  timeoutMs?: number | undefined;
  onOutcome?: ((outcome: WebhookOutcome) => void) | undefined;
  watchdog?: StartWatchdog | undefined;
  watchdogIntervalMs?: number | undefined;
}

export interface WebhookWorker {
  close(): Promise<void>;
  /** The BullMQ worker sending now (the watchdog may replace it). */
  current(): Worker<WebhookJobData>;
  /** How many times the watchdog replaced a worker that took no jobs. */
  recreations(): number;
}

/**
 * The delivery worker's watchdog (delivery/watchdog.ts), handed in by the worker role so
 * this room does not import delivery/: a BullMQ worker that reports running but takes no
 * waiting job (seen after Sentinel failovers, GOTCHAS.md) is recreated.
 */
export type StartWatchdog = (
  probe: { waitingJobs(): Promise<number>; takeStarted(): number; running(): number },
  options: { intervalMs: number; concurrency: number; recreate(reason: string): Promise<void> },
) => { stop(): void };

/** The watchdog's look: two deaf checks in a row (20 s) recreate the worker. */
const WATCHDOG_INTERVAL_MS = 10_000;

/** An attempt that failed and will be tried again after the backoff. */
class RetryLater extends Error {}

/**
 * The worker role's webhook part: the dispatcher (outbox → jobs) and a BullMQ worker of
 * its own that signs and sends each job (CONTRACT §Webhooks): 2xx ends it, 410 disables
 * the endpoint, anything else (timeout, refused, SSRF-refused now) is retried from the
 * base delay, doubling, capped at 10 h, and given up past the lifetime.
 */
export async function startWebhookWorker(deps: WebhookWorkerDeps): Promise<WebhookWorker> {
  const { keys, logger } = deps;
  const redis = createRedis(deps.redisUrl, 'worker', 'webhooks');
  redis.on('error', (error) => logger.debug({ err: error }, 'webhook redis connection error'));
  const endpoints = new WebhookEndpointStore(redis, keys, deps.now);
  const queue = new WebhookQueue(redis, keys);
  const dispatcher = startDispatcher({ redis, keys, endpoints, queue, logger });

  async function record(job: Job<WebhookJobData>, attempt: Omit<WebhookAttempt, 'payload'>) {
    await endpoints
      .recordAttempt(job.data.endpointId, { ...attempt, payload: job.data.body })
      .catch(() => {});
    deps.onOutcome?.(attempt.outcome);
  }

  async function processJob(job: Job<WebhookJobData>): Promise<string> {
    const { data } = job;
    const endpoint = await endpoints.get(data.endpointId);
    if (!endpoint || endpoint.disabled) return 'skipped';
    const failures = job.attemptsMade + 1;
    const base = { eventId: data.eventId, type: data.type, attempt: failures };
    const log = logger.child({ webhook: endpoint.id, eventId: data.eventId });
    // Checked again at every try (the address may have moved, or the switch been turned off).
    const check = await checkWebhookTarget(endpoint.url, {
      allowPrivate: deps.allowPrivate,
      resolve: deps.resolve,
    });
    let result: SendResult;
    if (!check.ok) {
      result = { error: `refused: ${check.reason}`, latencyMs: 0 };
    } else {
      const headers = signedHeaders(
        endpoints.signingSecrets(endpoint),
        data.eventId,
        new Date(),
        data.body,
      );
      result = await postWebhook(check.target, headers, data.body, deps.timeoutMs);
    }
    const at = new Date().toISOString();
    const answer = { statusCode: result.statusCode, error: result.error };
    const code = result.statusCode;
    if (code !== undefined && code >= 200 && code < 300) {
      await record(job, {
        at,
        ...base,
        ...answer,
        latencyMs: result.latencyMs,
        outcome: 'delivered',
      });
      log.info({ event: LogEvent.webhookAttempt, statusCode: code }, 'webhook delivered');
      return 'delivered';
    }
    if (code === 410) {
      await endpoints.disable(endpoint.id, `410 Gone at ${at}`);
      await record(job, {
        at,
        ...base,
        ...answer,
        latencyMs: result.latencyMs,
        outcome: 'disabled',
      });
      await deps.audit
        .append({
          actor: 'relay',
          action: 'webhook-disable',
          target: endpoint.id,
          detail: 'the receiver answered 410 Gone',
        })
        .catch(() => {});
      log.warn(
        { event: LogEvent.webhookDisabled, statusCode: code },
        'webhook endpoint disabled (410)',
      );
      throw new UnrecoverableError('endpoint answered 410: disabled');
    }
    const due = nextWebhookTry(
      { baseMs: deps.retryBaseMs, lifetimeMs: deps.lifetimeMs },
      failures,
      data.eventAt,
      Date.now(),
    );
    const why = code !== undefined ? `HTTP ${code}` : (result.error ?? 'error');
    if (due === undefined) {
      await record(job, {
        at,
        ...base,
        ...answer,
        latencyMs: result.latencyMs,
        outcome: 'gave_up',
      });
      log.warn(
        { event: LogEvent.webhookGaveUp, ...answer, tries: failures },
        'webhook event given up',
      );
      throw new UnrecoverableError(`given up after ${failures} tries: ${why}`);
    }
    await record(job, {
      at,
      ...base,
      ...answer,
      latencyMs: result.latencyMs,
      outcome: 'failed',
      nextRetryAt: new Date(due).toISOString(),
    });
    log.info({ event: LogEvent.webhookAttempt, ...answer }, 'webhook try failed; retried later');
    throw new RetryLater(why);
  }

  const activity = new WorkerActivity();
  async function createWorker(): Promise<{ worker: Worker<WebhookJobData>; connection: Redis }> {
    const connection = createRedis(deps.redisUrl, 'worker', 'webhook-worker');
    connection.on('error', (error) =>
      logger.debug({ err: error }, 'webhook redis connection error'),
    );
    const worker = new Worker<WebhookJobData>(keys.webhookQueueName(), processJob, {
      connection,
      prefix: keys.queuePrefix(),
      concurrency: WEBHOOK_CONCURRENCY,
      // A send outlives the default 30 s lock only by the timeout; keep a margin.
      lockDuration: Math.max(30_000, (deps.timeoutMs ?? WEBHOOK_TIMEOUT_MS) * 3),
      settings: {
        backoffStrategy: (attemptsMade: number) =>
          webhookRetryDelay(deps.retryBaseMs, attemptsMade),
      },
      // A killed worker's job comes back (at least once), never fails for having stalled.
      maxStalledCount: Number.MAX_SAFE_INTEGER,
    });
    worker.on('error', (error) => logger.error({ err: error }, 'webhook worker error'));
    activity.track(worker);
    await worker.waitUntilReady();
    return { worker, connection };
  }
  async function retire(old: { worker: Worker<WebhookJobData>; connection: Redis }) {
    await old.worker.close().catch(() => {});
    await closeRedis(old.connection);
  }

  let current = await createWorker();
  let recreations = 0;
  const watchdog = deps.watchdog?.(
    {
      waitingJobs: async () => (await queue.queue.getJobCounts('waiting')).waiting ?? 0,
      takeStarted: () => activity.takeStarted(),
      running: () => activity.running(),
    },
    {
      intervalMs: deps.watchdogIntervalMs ?? WATCHDOG_INTERVAL_MS,
      concurrency: WEBHOOK_CONCURRENCY,
      async recreate(reason) {
        logger.warn({ event: LogEvent.workerRecreated, reason }, 'webhook worker recreated');
        const old = current;
        activity.retire(old.worker);
        current = await createWorker();
        recreations += 1;
        void retire(old);
      },
    },
  );

  let closing: Promise<void> | undefined;
  return {
    current: () => current.worker,
    recreations: () => recreations,
    close() {
      closing ??= (async () => {
        watchdog?.stop();
        await dispatcher.stop();
        await retire(current);
        await queue.close();
        await closeRedis(redis);
      })();
      return closing;
    },
  };
}
