import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENTS_FIELD, RECIPIENT_FIELD_PREFIX } from '../../src/queue/record-layout.js';
import type { DeliveryHarness } from '../support/delivery-harness.js';
import { useDeliveryFixture } from '../support/delivery-harness.js';

/**
 * Issue 11, the per-message footprint: a message's recipients and events live in its
 * record hash (record-layout.ts). A record written before that layout (its own `:rcpt`
 * hash and `:events` list, events as JSON objects) is still read, and its next change folds
 * it into the new layout in the same script.
 */

/**
 * Turn a message into what the previous layout wrote: recipients and events in two keys
 * of their own, events as JSON objects, the envelope order in a `recipients` field.
 */
async function rewriteAsLegacy(h: DeliveryHarness, id: string): Promise<void> {
  const { redis, keys } = h.services;
  const record = await redis.hgetall(keys.message(id));
  const states = Object.entries(record).filter(([field]) =>
    field.startsWith(RECIPIENT_FIELD_PREFIX),
  );
  const entries = (record[EVENTS_FIELD] ?? '').split('\n').map((line) => {
    const [type, at, detail] = JSON.parse(line) as [string, number, string];
    return JSON.stringify({ type, at: new Date(at).toISOString(), detail });
  });
  await redis
    .multi()
    .hdel(keys.message(id), EVENTS_FIELD, ...states.map(([field]) => field))
    .hset(
      keys.message(id),
      'recipients',
      JSON.stringify(states.map(([field]) => field.slice(RECIPIENT_FIELD_PREFIX.length))),
    )
    .hset(
      keys.recipients(id),
      ...states.flatMap(([field, state]) => [field.slice(RECIPIENT_FIELD_PREFIX.length), state]),
    )
    .rpush(keys.events(id), ...entries)
    .exec();
}

async function legacyKeys(h: DeliveryHarness, id: string): Promise<number> {
  const { redis, keys } = h.services;
  return redis.exists(keys.recipients(id), keys.events(id));
}

describe('record layout: recipients and events in the record', () => {
  const fixture = useDeliveryFixture();

  it('writes no key but the record for a message, through delivery', async () => {
    const { upstream, h } = await fixture.scripted({
      rcpt: (address) => (address.startsWith('bad') ? 550 : 250),
    });
    const id = await h.submit(['good@example.net', 'bad@example.net']);
    assert.equal(await legacyKeys(h, id), 0);
    const queued = await h.services.store.view(id);
    assert.deepEqual(
      queued?.recipients.map((r) => [r.address, r.status]),
      [
        ['good@example.net', 'queued'],
        ['bad@example.net', 'queued'],
      ],
    );
    assert.deepEqual(
      queued?.events.map((event) => event.type),
      ['queued'],
    );
    assert.ok(Date.parse(queued?.events[0]?.at ?? '') > 0, 'an event keeps its time');

    await h.startWorker(upstream);
    await h.waitForStatus(id, ['partial']);
    const done = await h.services.store.view(id);
    assert.deepEqual(
      done?.recipients.map((r) => [r.address, r.status]),
      [
        ['good@example.net', 'delivered'],
        ['bad@example.net', 'bounced'],
      ],
    );
    assert.equal(done?.events[0]?.type, 'queued');
    assert.ok((done?.events.length ?? 0) >= 2, 'the outcome appended its events');
    assert.equal(await legacyKeys(h, id), 0, 'still no key but the record');
  });

  it('keeps the envelope order of several recipients when the record is a hashtable', async () => {
    const h = await fixture.harness();
    const order = ['zed', 'amy', 'max', 'bob', 'kim', 'eve'].map((name) => `${name}@example.net`);
    // A value past hash-max-listpack-value turns the record into a hashtable, whose fields
    // come back in no particular order.
    const id = await h.submit(order, { subject: 's'.repeat(2048) });
    const { redis, keys } = h.services;
    assert.equal(await redis.call('OBJECT', 'ENCODING', keys.message(id)), 'hashtable');
    assert.deepEqual(
      (await h.services.store.view(id))?.recipients.map((r) => r.address),
      order,
    );
    assert.deepEqual((await h.services.store.get(id))?.recipientOrder, order);
  });

  it('reads a record of the previous layout and folds it in at its next change', async () => {
    const { fake, upstream, h } = await fixture.scripted({
      rcpt: (address) => (address.startsWith('bad') ? 550 : 250),
    });
    const pending = await h.submit(['first@example.net', 'second@example.net']);
    const before = await h.services.store.view(pending);
    await rewriteAsLegacy(h, pending);
    assert.equal(await legacyKeys(h, pending), 2, 'the legacy keys were written');
    assert.deepEqual(await h.services.store.view(pending), before, 'read the same as before');

    await h.startWorker(upstream);
    await h.waitForStatus(pending, ['delivered']);
    assert.equal(await legacyKeys(h, pending), 0, 'the outcome folded the old keys in');
    const delivered = await h.services.store.view(pending);
    assert.deepEqual(delivered?.events[0], before?.events[0], 'the old events come first');
    assert.ok((delivered?.events.length ?? 0) > 1);
    assert.deepEqual(
      delivered?.recipients.map((r) => r.status),
      ['delivered', 'delivered'],
    );
    const load = await h.services.store.loadForDelivery(pending);
    assert.deepEqual(load?.pending, [], 'nothing left to deliver');

    // An operator retry of a legacy bounced record (MARK_RETRIED) folds it too.
    const bounced = await h.submit(['bad@example.net']);
    await h.waitForStatus(bounced, ['bounced']);
    await rewriteAsLegacy(h, bounced);
    fake.script({ rcpt: () => 250 });
    assert.deepEqual(await h.services.store.markRetried(bounced, 'retried by test'), {
      reset: 1,
    });
    assert.equal(await legacyKeys(h, bounced), 0);
    const retried = await h.services.store.view(bounced);
    assert.equal(retried?.status, 'queued');
    assert.equal(retried?.events.at(-1)?.type, 'retried');
    assert.equal(retried?.events[0]?.type, 'queued');
  });
});
