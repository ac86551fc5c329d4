import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueUnavailableError } from '../errors.js';
import type { Keys } from '../redis/keys.js';

/** What a delivery job carries: only the message id (no body, no secrets). */
export interface DeliveryJobData {
  id: string;
}

export const DELIVERY_JOB_NAME = 'deliver';
/** BullMQ's attempt counter is not our limit: the retry lifetime is (see retry-policy). */
const UNLIMITED_ATTEMPTS = 1_000_000;
const FAILED_JOB_RETENTION_SECONDS = 30 * 24 * 60 * 60;

function jobOptions(id: string): JobsOptions {
  return {
    jobId: id,
    attempts: UNLIMITED_ATTEMPTS,
    backoff: { type: 'postwarden' },
    removeOnComplete: true,
    removeOnFail: { age: FAILED_JOB_RETENTION_SECONDS },
  };
}

/** jobOptions' JSON after `{"jobId":"…",` (the same for every job). */
const OPTIONS_AFTER_ID = JSON.stringify(jobOptions('')).slice('{"jobId":"",'.length);

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
}

/**
 * The delivery queue in domain words; BullMQ stays inside queue/ and delivery/.
 * A new message gets its job from the door's stage script (Staging, in BullMQ's format:
 * jobKey, queueKeys, jobArgs); an operator retry gives a finished message a fresh one (`requeue`).
 */
export class MailQueue {
  readonly queue: Queue<DeliveryJobData>;
  readonly #redis: Redis;
  readonly #timeoutMs: number;

  constructor(redis: Redis, keys: Keys, options: { timeoutMs?: number } = {}) {
    this.#redis = redis;
    this.#timeoutMs = options.timeoutMs ?? 4000;
    this.queue = new Queue<DeliveryJobData>(keys.queueName(), {
      connection: redis,
      prefix: keys.queuePrefix(),
      skipWaitingForReady: true,
    });
    // A failed add is reported to its caller; the queue's own error event must not crash us.
    this.queue.on('error', () => {});
  }

  /**
   * Add the delivery job for `id`. Resolves only when Redis has it (and, with `waitAof`,
   * when it is on disk); rejects with QueueUnavailableError within the timeout otherwise.
   * Adding an id that already has a job is a no-op (BullMQ dedups by job id).
   */
  async enqueue(id: string, options: { waitAof?: boolean } = {}): Promise<void> {
    await withTimeout(this.#timeoutMs, async () => {
      await this.#add(id);
      if (options.waitAof) await this.#waitAof();
    });
  }

  async #add(id: string): Promise<void> {
    await this.queue.add(DELIVERY_JOB_NAME, { id }, jobOptions(id));
  }

  /**
   * The job hash of message `id`, as BullMQ's Queue names it: the first of the KEYS the
   * stage script (STAGE_MESSAGE) writes a new delivery job with, in BullMQ's own format
   * (see DELIVERY_JOB_LUA); queueKeys are the rest.
   */
  jobKey(id: string): string {
    return this.queue.toKey(id);
  }

  /** The queue's wait, meta, id, active, events and marker keys, as BullMQ's Queue names them. */
  queueKeys(): string[] {
    return (['wait', 'meta', 'id', 'active', 'events', 'marker'] as const).map((type) =>
      this.#queueKey(type),
    );
  }

  /** One of the queue's own keys, as BullMQ's Queue names it. */
  #queueKey(type: 'wait' | 'meta' | 'id' | 'active' | 'events' | 'marker'): string {
    return this.queue.keys[type] ?? `${this.queue.qualifiedName}:${type}`;
  }

  /** The job's name and its `opts` as BullMQ stores them (JSON), for the stage script. */
  jobArgs(id: string): [name: string, optsJson: string] {
    // JSON.stringify(jobOptions(id)), put together from its fixed part: ids are [0-9a-z]
    // (message/ids.ts), so the id needs no escaping. delivery-job-format.test.ts compares.
    const json = /^[0-9a-z]+$/.test(id)
      ? `{"jobId":"${id}",${OPTIONS_AFTER_ID}`
      : JSON.stringify(jobOptions(id));
    return [DELIVERY_JOB_NAME, json];
  }

  /**
   * Run the stage script — which writes the record, body and delivery job in one atomic
   * step — and then, per durability mode, wait until the write is on disk (WAITAOF) or on
   * replicas (WAIT): "accepted" comes after both. Rejects with QueueUnavailableError
   * within the timeout otherwise.
   */
  async writeDurably<T>(
    write: () => Promise<T>,
    options: { waitAof?: boolean; waitReplicas?: number } = {},
  ): Promise<T> {
    return withTimeout(this.#timeoutMs, async () => {
      const written = await write();
      if (options.waitAof) await this.#waitAof();
      if (options.waitReplicas) await this.#waitReplicas(options.waitReplicas);
      return written;
    });
  }

  /**
   * Remove the job of a message that will not be delivered (purged). Harmless if it
   * already ran: a worker finds nothing pending and ends it.
   */
  async discardJob(id: string): Promise<void> {
    await withTimeout(this.#timeoutMs, async () => {
      await this.queue.remove(id);
    });
  }

  /**
   * POSTWARDEN_DURABILITY=replicated: the MULTI above must have reached `replicas` replicas
   * before the client hears "accepted", so a failover to one of them loses nothing. WAIT
   * covers every earlier write of this connection, so one WAIT serves the accepts sent
   * before it. Redis 7.0 has no WAITAOF: WAIT confirms the replicas received the write.
   */
  async #waitReplicas(replicas: number): Promise<void> {
    const confirmed = await this.#redis.wait(replicas, Math.max(100, this.#timeoutMs - 1000));
    if (confirmed < replicas) {
      throw new QueueUnavailableError(`only ${confirmed} of ${replicas} replica(s) confirmed`);
    }
  }

  async #waitAof(): Promise<void> {
    const reply = (await this.#redis.call(
      'WAITAOF',
      '1',
      '0',
      String(this.#timeoutMs),
    )) as number[];
    if (!reply || (reply[0] ?? 0) < 1) throw new QueueUnavailableError('WAITAOF not confirmed');
  }

  async hasJob(id: string): Promise<boolean> {
    const state = await this.queue.getJobState(id);
    return state !== 'unknown';
  }

  async counts(): Promise<QueueCounts> {
    const counts = await this.queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'failed',
      'completed',
      'prioritized',
    );
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      completed: counts.completed ?? 0,
    };
  }

  /**
   * Operator retry of a finished (failed) message: its old job is replaced by a fresh one
   * with the same id, so it is tried at once with a new attempt budget.
   */
  async requeue(id: string): Promise<void> {
    await withTimeout(this.#timeoutMs, async () => {
      const job = await this.queue.getJob(id);
      if (job) {
        const state = await job.getState();
        if (state === 'active' || state === 'waiting' || state === 'delayed') return;
        await job.remove();
      }
    });
    await this.enqueue(id);
  }

  /**
   * Make sure a message that is pending again (released) has a job. A waiting or delayed
   * job will find it pending and deliver it. An active one may have looked before the
   * release (and will end without sending): wait for it to end, then add a fresh job —
   * which finds nothing pending if that run did deliver.
   */
  async ensureJob(id: string, deadlineMs = 60_000): Promise<void> {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const state = await this.queue.getJobState(id);
      if (state === 'waiting' || state === 'delayed' || state === 'prioritized') return;
      if (state !== 'active' || Date.now() > until) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await this.queue.remove(id).catch(() => 0);
    await this.enqueue(id);
  }

  /** BullMQ's meta hash of the queue; its `paused` field is the global pause (kill switch). */
  metaKey(): string {
    return this.#queueKey('meta');
  }

  /**
   * The kill switch: BullMQ's queue-level pause, kept in Redis, so every worker of every
   * process stops taking jobs (delayed ones due meanwhile wait too) until resume.
   */
  async pause(): Promise<void> {
    await this.queue.pause();
  }

  async resume(): Promise<void> {
    await this.queue.resume();
  }

  async isPaused(): Promise<boolean> {
    return this.queue.isPaused();
  }

  /**
   * A page of the ids of jobs not yet taken by a worker (waiting, delayed, prioritized):
   * what purge walks for queued/deferred messages. Only pending jobs, never history.
   */
  async pendingJobIds(start: number, count: number): Promise<string[]> {
    const jobs = await this.queue.getJobs(
      ['waiting', 'delayed', 'prioritized'],
      start,
      start + count - 1,
    );
    return jobs.flatMap((job) => (job?.data?.id ? [job.data.id] : []));
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => {});
  }
}

async function withTimeout<T>(ms: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new QueueUnavailableError(`no answer from Redis in ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } catch (error) {
    if (error instanceof QueueUnavailableError) throw error;
    throw new QueueUnavailableError((error as Error).message, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
