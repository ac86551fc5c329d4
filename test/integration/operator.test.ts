import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useDeliveryFixture } from '../support/delivery-harness.js';

describe('queue operator: stats, show, retry', () => {
  const { scripted: setup } = useDeliveryFixture();

  it('retries a bounced message once the upstream is fixed, and it is delivered', async () => {
    const { fake, upstream, h } = await setup({ rcpt: () => 550 });
    await h.startWorker(upstream);
    const id = await h.submit(['a@example.net']);
    await h.waitForStatus(id, ['bounced']);

    fake.script({ rcpt: () => 250 });
    assert.deepEqual(await h.operator.retry(id), { retried: true });
    await h.waitForStatus(id, ['delivered']);
    const view = await h.operator.show(id);
    assert.deepEqual(
      view?.events.map((e) => e.type),
      ['queued', 'bounced', 'retried', 'delivered'],
    );
    assert.equal(fake.deliveriesTo('a@example.net'), 1);
    const again = await h.operator.retry(id);
    assert.equal(again.retried, false);
    assert.match(again.reason ?? '', /delivered/);
    assert.deepEqual(await h.operator.retry('0000000000000nosuchid'), {
      retried: false,
      reason: 'no such message',
    });
  });

  it('gives an expired message a fresh lifetime on retry', async () => {
    const { fake, upstream, h } = await setup({ rcpt: () => 451 });
    await h.startWorker(upstream, { baseMs: 100, maxDelayMs: 200, lifetimeMs: 600 });
    const id = await h.submit(['a@example.net']);
    await h.waitForStatus(id, ['expired']);
    const attemptsBefore = fake.rcptAttempts('a@example.net');

    fake.script({ rcpt: () => 250 });
    assert.equal((await h.operator.retry(id)).retried, true);
    await h.waitForStatus(id, ['delivered']);
    assert.equal(fake.rcptAttempts('a@example.net'), attemptsBefore + 1);
    assert.ok((await h.services.store.get(id))?.retryFromMs, 'retryFrom recorded');
  });

  it('retryAllFailed: a dry run counts without changing anything, then retries the matches', async () => {
    const { fake, upstream, h } = await setup({
      rcpt: (address) => (address.startsWith('bad') ? 550 : 250),
    });
    await h.startWorker(upstream);
    const bounced = await h.submit(['bad1@example.net']);
    const partial = await h.submit(['good@example.net', 'bad2@example.net']);
    const delivered = await h.submit(['good2@example.net']);
    await h.waitForStatus(bounced, ['bounced']);
    await h.waitForStatus(partial, ['partial']);
    await h.waitForStatus(delivered, ['delivered']);

    const stats = await h.operator.stats();
    assert.deepEqual(stats.byStatus, { bounced: 1, partial: 1, delivered: 1 });
    assert.equal(stats.oldestQueuedAgeSeconds, null);

    const dry = await h.operator.retryAllFailed({ dryRun: true });
    assert.equal(dry.matched, 2);
    assert.deepEqual([...dry.ids].sort(), [bounced, partial].sort());
    assert.equal(
      (await h.services.store.get(bounced))?.status,
      'bounced',
      'dry run changed nothing',
    );
    assert.equal((await h.services.store.events(partial)).length, 3);

    const onlyPartial = await h.operator.retryAllFailed({
      dryRun: true,
      filter: { status: 'partial' },
    });
    assert.deepEqual(onlyPartial.ids, [partial]);
    const otherCredential = await h.operator.retryAllFailed({
      dryRun: true,
      filter: { credential: 'someone-else' },
    });
    assert.equal(otherCredential.matched, 0);
    const future = await h.operator.retryAllFailed({
      dryRun: true,
      filter: { since: Date.now() + 60_000 },
    });
    assert.equal(future.matched, 0);

    fake.script({ rcpt: () => 250 });
    const real = await h.operator.retryAllFailed({ dryRun: false });
    assert.equal(real.matched, 2);
    await h.waitForStatus(bounced, ['delivered']);
    await h.waitForStatus(partial, ['delivered']);
    assert.equal(fake.deliveriesTo('good@example.net'), 1, 'delivered recipients not resent');
    assert.equal(fake.deliveriesTo('bad2@example.net'), 1);
  });

  it('reports queue counts and the oldest queued age, and will not retry a message in delivery', async () => {
    const { upstream, h } = await setup({ rcpt: () => 451 });
    const id = await h.submit(['a@example.net']);
    const queued = await h.operator.stats(Date.now() + 5000);
    assert.equal(queued.waiting, 1);
    assert.deepEqual(queued.byStatus, { queued: 1 });
    assert.ok((queued.oldestQueuedAgeSeconds ?? 0) >= 4);

    await h.startWorker(upstream, { baseMs: 60_000, maxDelayMs: 60_000, lifetimeMs: 3_600_000 });
    await h.waitForStatus(id, ['deferred']);
    const deferred = await h.operator.stats();
    assert.equal(deferred.deferred, 1);
    assert.deepEqual(deferred.byStatus, { deferred: 1 });
    assert.deepEqual(await h.operator.retry(id), {
      retried: false,
      reason: 'message is still being delivered',
    });
  });
});
