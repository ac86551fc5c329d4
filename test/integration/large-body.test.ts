import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { newMessageId } from '../../src/message/ids.js';
import type { Submission } from '../../src/message/types.js';
import { MailQueue } from '../../src/queue/mail-queue.js';
import { MessageStore } from '../../src/queue/message-store.js';
import { Staging, UPLOAD_PIECE_BYTES, UPLOAD_TTL_SECONDS } from '../../src/queue/staging.js';
import { createRedis, waitForReady } from '../../src/redis/connections.js';
import { createKeys } from '../../src/redis/keys.js';
import type { TlsPair } from '../../src/runtime/tls.js';
import { setupScriptedDelivery } from '../support/delivery-harness.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { testTlsPair } from '../support/tls.js';
import { waitUntil } from '../support/wait-until.js';

/** The owning credential of the messages staged here. */
const SHOP = { id: 'cr_shop', name: 'shop' };

/** A body over the upload threshold, not a whole number of pieces, no two pieces alike. */
function largeRaw(): Buffer {
  const head = 'From: orders@example.com\r\nTo: a@example.net\r\nSubject: big\r\n\r\n';
  const lines: string[] = [head];
  for (let n = 0, total = head.length; total < 3 * UPLOAD_PIECE_BYTES + 12_345; n++) {
    const line = `line ${n} ${'x'.repeat(n % 70)}\r\n`;
    lines.push(line);
    total += line.length;
  }
  return Buffer.from(lines.join(''), 'latin1');
}

function submission(raw: Buffer, idempotencyKey?: string): Submission {
  return {
    protocol: 'http',
    envelope: { from: 'orders@example.com', to: ['a@example.net'] },
    raw,
    headerSenders: ['orders@example.com'],
    fromHeader: 'orders@example.com',
    subject: 'big',
    messageIdHeader: '<big@example.com>',
    idempotencyKey,
  };
}

describe('a large body is written ahead in pieces and staged by rename', () => {
  let server: TestRedis;
  let redis: Redis;
  let store: MessageStore;
  let queue: MailQueue;
  let staging: Staging;
  let tls: TlsPair;
  const keys = createKeys('lb');
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    [server, tls] = await Promise.all([startTestRedis(), testTlsPair()]);
    redis = createRedis(server.url, 'producer', 'test');
    await waitForReady(redis, 5000);
    store = new MessageStore(redis, keys);
    queue = new MailQueue(redis, keys);
    staging = new Staging(redis, keys, queue);
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await queue.close();
    redis.disconnect();
    await server.cleanup();
  });

  async function uploadKeys(id: string): Promise<string[]> {
    return redis.keys(`${keys.body(id)}:upload:*`);
  }

  it('leaves a small body to the stage step', async () => {
    assert.equal(await staging.uploadBody('small', Buffer.alloc(UPLOAD_PIECE_BYTES)), undefined);
  });

  it('stages record, body and job together; the body byte-identical and without a TTL', async () => {
    const raw = largeRaw();
    const id = newMessageId();
    const upload = await staging.uploadBody(id, raw);
    assert.ok(upload);
    const ttl = await redis.ttl(upload.key);
    assert.ok(ttl > 0 && ttl <= UPLOAD_TTL_SECONDS, `upload TTL ${ttl}`);
    // Written ahead, but nothing of the message is visible yet.
    assert.equal(await store.get(id), undefined);
    assert.equal(await store.hasBody(id), false);

    assert.equal((await staging.commit(id, SHOP, submission(raw), upload)).owner, id);
    assert.equal((await store.get(id))?.size, raw.length);
    assert.ok((await redis.getBuffer(keys.body(id)))?.equals(raw), 'body byte for byte');
    assert.equal(await redis.ttl(keys.body(id)), -1, 'the upload TTL did not follow the body');
    assert.equal(await queue.hasJob(id), true);
    assert.deepEqual(await uploadKeys(id), []);
  });

  it('a repeated Idempotency-Key deletes its upload and writes nothing', async () => {
    const raw = largeRaw();
    const first = await staging.stage(SHOP, submission(raw, 'k-big'));
    assert.ok(first);
    const index = await redis.zcard(keys.messageIndex());
    const waiting = (await queue.counts()).waiting;
    const repeat = await staging.stage(SHOP, submission(raw, 'k-big'));
    assert.deepEqual(repeat, { id: first.id, duplicate: true, held: false });
    assert.equal(await redis.zcard(keys.messageIndex()), index);
    assert.equal((await queue.counts()).waiting, waiting, 'the job added for the repeat is gone');
    assert.deepEqual(await uploadKeys('*'), []);
  });

  it('a MULTI that never ran leaves no record, body or job, and the upload expires', async () => {
    const raw = largeRaw();
    const id = newMessageId();
    const own = createRedis(server.url, 'producer', 'test-drop');
    await waitForReady(own, 5000);
    const ownQueue = new MailQueue(own, keys);
    const ownStaging = new Staging(own, keys, ownQueue);
    try {
      const upload = await ownStaging.uploadBody(id, raw);
      assert.ok(upload);
      own.disconnect(); // Redis is gone for this connection before the MULTI.
      await assert.rejects(ownStaging.commit(id, SHOP, submission(raw), upload));
      assert.equal(await store.get(id), undefined);
      assert.equal(await store.hasBody(id), false);
      assert.equal(await queue.hasJob(id), false);
      // The best-effort DEL could not be sent on the dead connection: the TTL covers it.
      const ttl = await redis.ttl(upload.key);
      assert.ok(ttl > 0 && ttl <= UPLOAD_TTL_SECONDS, `upload TTL ${ttl}`);
    } finally {
      await ownQueue.close();
      own.disconnect();
    }
  });

  it('refuses to stage a message whose upload is gone (never a record without a body)', async () => {
    const raw = largeRaw();
    const id = newMessageId();
    const upload = await staging.uploadBody(id, raw);
    assert.ok(upload);
    await redis.del(upload.key); // Expired, or lost with a Redis that kept no data.
    await assert.rejects(staging.commit(id, SHOP, submission(raw), upload), /upload is missing/);
    assert.equal(await store.get(id), undefined);
    assert.equal(await store.hasBody(id), false);
  });

  it('delivers a large message accepted through the door byte for byte', async () => {
    const { fake, upstream, h } = await setupScriptedDelivery(server.url, tls, {}, cleanups);
    const raw = largeRaw();
    const id = await h.submit(['a@example.net'], { raw });
    await h.startWorker(upstream);
    await h.waitForStatus(id, ['delivered'], 30_000);
    await waitUntil(async () => fake.received.length === 1, 5000, 'the upstream to get it');
    assert.ok(fake.received[0]?.raw.equals(raw), 'delivered byte for byte');
  });
});
