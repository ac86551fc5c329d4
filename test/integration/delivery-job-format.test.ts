import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Submission } from '../../src/message/types.js';
import { BULLMQ_VERSION_WRITTEN } from '../../src/queue/delivery-job.js';
import { MailQueue } from '../../src/queue/mail-queue.js';
import { Staging } from '../../src/queue/staging.js';
import { closeRedis, createRedis, waitForReady } from '../../src/redis/connections.js';
import { createKeys } from '../../src/redis/keys.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/wait-until.js';

const SHOP = { id: 'cred-shop', name: 'shop' };

function submission(subject: string, idempotencyKey?: string): Submission {
  return {
    protocol: 'http',
    envelope: { from: 'orders@example.com', to: ['a@example.net'] },
    raw: Buffer.from(`From: orders@example.com\r\nSubject: ${subject}\r\n\r\nhello\r\n`),
    headerSenders: ['orders@example.com'],
    fromHeader: 'orders@example.com',
    subject,
    messageIdHeader: `<${subject}@example.com>`,
    idempotencyKey,
  };
}

/**
 * The stage script writes each new message's delivery job itself, in BullMQ's format
 * (src/queue/delivery-job.ts). Here that job is compared with the one BullMQ's own add
 * writes for the same options, and BullMQ's reader and worker are shown to take it.
 */
describe("the stage script's delivery job is BullMQ's", () => {
  let server: TestRedis;
  let redis: Redis;
  let queue: MailQueue;
  let staging: Staging;
  const keys = createKeys('jobfmt');
  const prefix = `${keys.queuePrefix()}:${keys.queueName()}`;

  before(async () => {
    server = await startTestRedis();
    redis = createRedis(server.url, 'producer', 'test');
    await waitForReady(redis, 5000);
    queue = new MailQueue(redis, keys);
    staging = new Staging(redis, keys, queue);
  });
  beforeEach(async () => {
    await redis.flushall();
  });
  after(async () => {
    await queue.close();
    await closeRedis(redis);
    await server.cleanup();
  });

  /** A job hash with its id and timestamp taken out, and its opts parsed. */
  async function jobShape(id: string) {
    const hash = await redis.hgetall(`${prefix}:${id}`);
    assert.ok(hash.name, `job ${id} exists`);
    const opts = JSON.parse(hash.opts ?? '{}') as Record<string, unknown>;
    assert.equal(opts.jobId, id);
    assert.ok(Math.abs(Number(hash.timestamp) - Date.now()) < 60_000, 'a current timestamp');
    return {
      ...hash,
      timestamp: 'now',
      data: JSON.parse((hash.data ?? '').replace(id, 'ID')),
      opts: { ...opts, jobId: 'ID' },
    };
  }

  /** The events stream's entries for `id`, without their stream ids. */
  async function eventsOf(id: string): Promise<string[][]> {
    const entries = await redis.xrange(`${prefix}:events`, '-', '+');
    return entries
      .map(([, fields]) => fields)
      .filter((fields) => fields.includes(id))
      .map((fields) => fields.map((field) => (field === id ? 'ID' : field)));
  }

  it('is written for the version of BullMQ installed, which package.json pins exactly', () => {
    const require = createRequire(import.meta.url);
    const installed = (require('bullmq/package.json') as { version: string }).version;
    assert.equal(installed, BULLMQ_VERSION_WRITTEN);
    const manifest = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { dependencies: Record<string, string> };
    assert.equal(manifest.dependencies.bullmq, BULLMQ_VERSION_WRITTEN);
  });

  it('has the same hash, list entries, marker and events as a job BullMQ adds', async () => {
    await queue.enqueue('reference00000000000000');
    const reference = await jobShape('reference00000000000000');
    const staged = await staging.stage(SHOP, submission('format'));
    assert.ok(staged && !staged.duplicate);
    assert.deepEqual(await jobShape(staged.id), reference);
    assert.deepEqual(await eventsOf(staged.id), await eventsOf('reference00000000000000'));
    assert.deepEqual(await redis.lrange(`${prefix}:wait`, 0, -1), [
      staged.id,
      'reference00000000000000',
    ]);
    assert.deepEqual(await redis.zrange(`${prefix}:marker`, '0', '-1', 'WITHSCORES'), ['0', '0']);
    assert.equal(await redis.get(`${prefix}:id`), '2', 'the job counter counts both');
  });

  it("is read by BullMQ's Queue: state, name, data and options", async () => {
    const staged = await staging.stage(SHOP, submission('reader'));
    assert.ok(staged);
    assert.equal(await queue.queue.getJobState(staged.id), 'waiting');
    const job = await queue.queue.getJob(staged.id);
    assert.ok(job);
    assert.equal(job.name, 'deliver');
    assert.deepEqual(job.data, { id: staged.id });
    assert.equal(job.opts.attempts, 1_000_000);
    assert.deepEqual(job.opts.backoff, { type: 'postwarden' });
    assert.equal((await queue.counts()).waiting, 1);
  });

  it('is taken and completed by a BullMQ worker, then removed (removeOnComplete)', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) {
      const staged = await staging.stage(SHOP, submission(`work-${n}`));
      assert.ok(staged);
      ids.push(staged.id);
    }
    const connection = createRedis(server.url, 'worker', 'test-worker');
    const taken: string[] = [];
    const worker = new Worker(
      keys.queueName(),
      async (job) => {
        taken.push((job.data as { id: string }).id);
        return 'ok';
      },
      { connection, prefix: keys.queuePrefix() },
    );
    try {
      await waitUntil(() => taken.length === ids.length, 10_000, 'the worker to take every job');
      assert.deepEqual([...taken].sort(), [...ids].sort());
      await waitUntil(
        async () => (await redis.exists(...ids.map((id) => `${prefix}:${id}`))) === 0,
        10_000,
        'completed jobs removed',
      );
    } finally {
      await worker.close();
      await closeRedis(connection);
    }
  });

  it('sets no marker while the queue is paused, as BullMQ does', async () => {
    await queue.pause();
    await queue.enqueue('reference00000000000001');
    const staged = await staging.stage(SHOP, submission('paused'));
    assert.ok(staged);
    assert.equal(await redis.exists(`${prefix}:marker`), 0);
    assert.equal(
      await queue.queue.getJobState(staged.id),
      await queue.queue.getJobState('reference00000000000001'),
    );
    await queue.resume();
  });

  it('is not written for a repeated Idempotency-Key', async () => {
    const first = await staging.stage(SHOP, submission('idem', 'key-1'));
    assert.ok(first);
    const before = await redis.lrange(`${prefix}:wait`, 0, -1);
    const repeat = await staging.stage(SHOP, submission('idem', 'key-1'));
    assert.ok(repeat?.duplicate);
    assert.equal(repeat.id, first.id);
    assert.deepEqual(await redis.lrange(`${prefix}:wait`, 0, -1), before, 'no second job');
    const jobHashes = (await redis.keys(`${prefix}:*`)).filter(
      (key) => !/:(wait|meta|id|events|marker)$/.test(key),
    );
    assert.deepEqual(jobHashes, [`${prefix}:${first.id}`], "one job hash, the first message's");
  });
});
