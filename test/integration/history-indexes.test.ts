import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FormQuarantine } from '../../src/queue/form-quarantine.js';
import { Retention } from '../../src/queue/retention.js';
import type { DeliveryHarness } from '../support/delivery-harness.js';
import { useDeliveryFixture } from '../support/delivery-harness.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * Issue 11: counts, per-status sets and the address index are kept by the same scripts
 * that change a message's status, so they always equal a recount of the records; retention
 * deletes final messages whole and never a pending one.
 */

/** The counts the relay shows equal the records' own statuses and the per-status sets. */
async function assertCountsRight(h: DeliveryHarness, what: string): Promise<void> {
  const [stats, recount] = await Promise.all([h.operator.stats(), h.services.store.countRecords()]);
  assert.deepEqual(stats.byStatus, recount, `counts after ${what}`);
  const { redis, keys } = h.services;
  for (const [status, n] of Object.entries(recount)) {
    assert.equal(await redis.zcard(keys.statusIndex(status)), n, `${status} set after ${what}`);
  }
}

/** Every key whose name contains `id` (SCAN: fine for a test's few hundred keys). */
async function keysNaming(h: DeliveryHarness, id: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await h.services.redis.scan(cursor, 'MATCH', `*${id}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
}

describe('history: indexes, counts and retention', () => {
  const fixture = useDeliveryFixture();

  it('keeps counts equal to a recount through deliver, defer, bounce, expire, hold, release, purge and retry', async () => {
    const { fake, upstream, h } = await fixture.scripted({
      rcpt: (address) => (address.startsWith('bad') ? 550 : address.startsWith('slow') ? 451 : 250),
    });
    await assertCountsRight(h, 'nothing');
    const delivered = await h.submit(['good@example.net']);
    const bounced = await h.submit(['bad@example.net']);
    const partial = await h.submit(['good2@example.net', 'bad2@example.net']);
    const expiring = await h.submit(['slow@example.net']);
    await assertCountsRight(h, 'staging (queued)');
    assert.equal((await h.operator.stats()).byStatus.queued, 4);
    assert.notEqual((await h.operator.stats()).oldestQueuedAgeSeconds, null);

    await h.startWorker(upstream, { baseMs: 300, maxDelayMs: 300, lifetimeMs: 1500 });
    await h.waitForStatus(delivered, ['delivered']);
    await h.waitForStatus(bounced, ['bounced']);
    await h.waitForStatus(partial, ['partial']);
    await h.waitForStatus(expiring, ['deferred']);
    await assertCountsRight(h, 'deliver, bounce, partial, defer');
    await h.waitForStatus(expiring, ['expired']);
    await assertCountsRight(h, 'expire');

    await h.operator.hold('shop', 'testing');
    const held = await h.submit(['good3@example.net']);
    const toPurge = await h.submit(['good4@example.net']);
    assert.equal((await h.services.store.get(held))?.status, 'held');
    await assertCountsRight(h, 'hold');
    assert.equal((await h.operator.purge({ statuses: ['held'], dryRun: true })).count, 2);
    await h.services.holds.purgeMessage(toPurge, 'shop', ['held']);
    await assertCountsRight(h, 'purge');
    await h.operator.release('shop');
    await h.waitForStatus(held, ['delivered']);
    await assertCountsRight(h, 'release and deliver');

    fake.script({ rcpt: () => 250 });
    const retried = await h.operator.retryAllFailed({ dryRun: false });
    assert.deepEqual([...retried.ids].sort(), [bounced, partial, expiring].sort());
    for (const id of [bounced, partial, expiring]) await h.waitForStatus(id, ['delivered']);
    await assertCountsRight(h, 'retry');
    assert.deepEqual((await h.operator.stats()).byStatus, { delivered: 5, purged: 1 });
    assert.equal((await h.operator.stats()).oldestQueuedAgeSeconds, null);
  });

  it('finds messages by recipient, sender, status and time window from the indexes', async () => {
    const { upstream, h } = await fixture.scripted({
      rcpt: (address) => (address.startsWith('bad') ? 550 : 250),
    });
    await h.startWorker(upstream);
    const a = await h.submit(['Alice@Example.net']);
    const b = await h.submit(['bad-bob@example.net'], {
      envelope: { from: 'billing@example.com', to: ['bad-bob@example.net'] },
      fromHeader: 'Billing <billing@example.com>',
    });
    await h.waitForStatus(a, ['delivered']);
    await h.waitForStatus(b, ['bounced']);
    const ids = async (search: Parameters<DeliveryHarness['operator']['search']>[0]) =>
      (await h.operator.search(search)).rows.map((row) => row.id);
    assert.deepEqual(await ids({ recipient: 'alice@example.NET', page: 1 }), [a]);
    assert.deepEqual(await ids({ sender: 'billing@example.com', page: 1 }), [b]);
    assert.deepEqual(await ids({ sender: 'orders@example.com', page: 1 }), [a]);
    assert.deepEqual(await ids({ status: 'bounced', page: 1 }), [b]);
    assert.deepEqual(
      await ids({ status: 'delivered', recipient: 'bad-bob@example.net', page: 1 }),
      [],
    );
    assert.deepEqual(
      await ids({ recipient: 'alice@example.net', to: '2000-01-01T00:00', page: 1 }),
      [],
    );
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    assert.deepEqual(await ids({ status: 'bounced', from: hourAgo, page: 1 }), [b]);
    assert.deepEqual(await ids({ recipient: 'nobody@example.net', page: 1 }), []);
    const failed = await h.operator.listFailed({}, 10);
    assert.equal(failed.matched, 1);
    assert.deepEqual(
      failed.rows.map((row) => row.id),
      [b],
    );

    // The address index is what answers: without its entry, the whole address finds nothing.
    const { redis, keys } = h.services;
    await redis.zrem(keys.addressIndex('alice@example.net'), a);
    assert.deepEqual(await ids({ recipient: 'alice@example.net', page: 1 }), []);
    // The repair puts it back (and finds the counts right).
    const repaired = await h.operator.reindex();
    assert.equal(repaired.scanned, 2);
    assert.deepEqual(await ids({ recipient: 'alice@example.net', page: 1 }), [a]);
  });

  it('reindex rebuilds lost indexes and drops entries of deleted records', async () => {
    const { upstream, h } = await fixture.scripted({ rcpt: () => 250 });
    await h.startWorker(upstream);
    const first = await h.submit(['one@example.net']);
    const second = await h.submit(['two@example.net']);
    await h.waitForStatus(first, ['delivered']);
    await h.waitForStatus(second, ['delivered']);
    const { redis, keys } = h.services;
    // As data from before the indexes: no counts, no status sets, no time index.
    await redis.del(keys.statusCounts(), keys.statusIndex('delivered'), keys.messageIndex());
    await redis.zadd(keys.statusIndex('bounced'), 1, 'ghost0000000000000000');
    await redis.hincrby(keys.statusCounts(), 'bounced', 1);
    assert.deepEqual((await h.operator.stats()).byStatus, { bounced: 1 });

    const result = await h.operator.reindex();
    assert.equal(result.scanned, 2);
    assert.equal(result.fixed, 2);
    assert.equal(result.stale, 1);
    assert.deepEqual(result.counts, { delivered: 2 });
    await assertCountsRight(h, 'reindex');
    assert.equal(await redis.zcard(keys.messageIndex()), 2);
    assert.equal((await h.operator.reindex()).fixed, 0, 'a second run finds nothing to fix');
  });

  it('retention deletes a final message whole after the window and keeps a deferred one of the same age', async () => {
    const { upstream, h } = await fixture.scripted({
      rcpt: (address) => (address.startsWith('slow') ? 451 : 250),
    });
    // Deferred with a long lifetime: it must outlive retention untouched.
    await h.startWorker(upstream, { baseMs: 60_000, maxDelayMs: 60_000, lifetimeMs: 3_600_000 });
    const delivered = await h.submit(['kept-briefly@example.net'], { idempotencyKey: 'order-1' });
    const deferred = await h.submit(['slow@example.net']);
    await h.waitForStatus(delivered, ['delivered']);
    await h.waitForStatus(deferred, ['deferred']);
    const { redis, keys } = h.services;
    const quarantine = new FormQuarantine(redis, keys);
    const spamId = await quarantine.keep('form:contact', 'contact', {
      protocol: 'http',
      envelope: { from: 'forms@localhost', to: ['sales@example.com'] },
      raw: Buffer.from('Subject: spam\r\n\r\nbuy\r\n'),
      headerSenders: [],
      fromHeader: 'forms@localhost',
      subject: 'spam',
      messageIdHeader: '<spam@localhost>',
    });
    const deleted: string[] = [];
    const retention = new Retention(redis, keys, {
      retentionMs: 1000,
      formQuarantine: quarantine,
      onDeleted: async (ids) => {
        deleted.push(...ids);
      },
    });
    assert.deepEqual(await retention.runOnce(), { deleted: 0, formPosts: 0 }, 'too young yet');
    assert.ok(await h.services.store.get(delivered));

    const lastEvent = Date.parse((await h.services.store.events(delivered)).at(-1)?.at ?? '');
    await waitUntil(() => Date.now() - lastEvent > 1200, 5000, 'the window to pass');
    const pass = await retention.runOnce();
    assert.equal(pass.deleted, 1);
    assert.equal(pass.formPosts, 1);
    assert.deepEqual(deleted, [delivered]);
    assert.equal(await h.operator.show(delivered), undefined, 'gone: the API answers 404');
    assert.deepEqual(await keysNaming(h, delivered), [], 'no key of it is left');
    assert.equal(await redis.exists(keys.addressIndex('kept-briefly@example.net')), 0);
    assert.equal(await redis.zscore(keys.messageIndex(), delivered), null);
    assert.equal(await redis.exists(keys.formSpam(spamId)), 0);
    assert.equal(await redis.zcard(keys.formSpamIndex()), 0);
    const idem = await keysNaming(h, ':idem:');
    assert.deepEqual(idem, [], 'its Idempotency-Key went with it');

    const kept = await h.services.store.get(deferred);
    assert.equal(kept?.status, 'deferred', 'a deferred message of the same age stays');
    assert.ok(await h.services.store.hasBody(deferred));
    await assertCountsRight(h, 'retention');
    assert.deepEqual((await h.operator.stats()).byStatus, { deferred: 1 });
  });
});
