import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useDeliveryFixture } from '../support/delivery-harness.js';
import { waitUntil } from '../support/wait-until.js';

describe('delivery outcomes against a real SMTP upstream', () => {
  const { scripted: setup } = useDeliveryFixture();

  it('retries 4xx replies with backoff and delivers on the third attempt', async () => {
    const { fake, upstream, h } = await setup({ rcpt: (_a, n) => (n <= 2 ? 451 : 250) });
    await h.startWorker(upstream);
    const id = await h.submit(['a@example.net']);
    await h.waitForStatus(id, ['delivered']);
    const view = await h.services.store.view(id);
    assert.equal(view?.attempts, 3);
    assert.deepEqual(
      view?.events.map((e) => e.type),
      ['queued', 'deferred', 'deferred', 'delivered'],
    );
    assert.match(view?.events[1]?.detail ?? '', /a@example\.net: 451 /);
    assert.equal(fake.deliveriesTo('a@example.net'), 1);
    assert.equal(fake.received[0]?.secure, true, 'STARTTLS was used');
    assert.equal(await h.services.store.hasBody(id), false, 'body freed once all delivered');
  });

  it('bounces a 5xx after one attempt with the upstream reply in the events', async () => {
    const { fake, upstream, h } = await setup({ rcpt: () => 550 });
    await h.startWorker(upstream);
    const id = await h.submit(['nobody@example.net']);
    await h.waitForStatus(id, ['bounced']);
    const view = await h.services.store.view(id);
    assert.equal(view?.attempts, 1);
    assert.equal(view?.recipients[0]?.status, 'bounced');
    assert.match(view?.recipients[0]?.detail ?? '', /^550 /);
    const bounce = view?.events.find((e) => e.type === 'bounced');
    assert.match(bounce?.detail ?? '', /nobody@example\.net: 550 .*scripted reply/);
    assert.equal(fake.rcptAttempts('nobody@example.net'), 1, 'no retry after a bounce');
    assert.equal(await h.services.store.hasBody(id), true, 'body kept for an operator retry');
  });

  it('handles 250/451/550 in one transaction: partial, each recipient delivered at most once', async () => {
    const { fake, upstream, h } = await setup({
      rcpt: (address, n) => {
        if (address.startsWith('ok')) return 250;
        if (address.startsWith('later')) return n === 1 ? 451 : 250;
        return 550;
      },
    });
    await h.startWorker(upstream);
    const id = await h.submit(['ok@example.net', 'later@example.net', 'gone@example.net']);
    await h.waitForStatus(id, ['partial']);
    const view = await h.services.store.view(id);
    assert.deepEqual(
      view?.recipients.map((r) => [r.address, r.status]),
      [
        ['ok@example.net', 'delivered'],
        ['later@example.net', 'delivered'],
        ['gone@example.net', 'bounced'],
      ],
    );
    assert.equal(view?.attempts, 2);
    assert.equal(fake.deliveriesTo('ok@example.net'), 1);
    assert.equal(fake.deliveriesTo('later@example.net'), 1);
    assert.equal(fake.rcptAttempts('ok@example.net'), 1, 'the retry sent only the pending one');
    assert.equal(fake.rcptAttempts('gone@example.net'), 1);
    const messageIds = new Set(fake.received.map((m) => m.messageId));
    assert.equal(messageIds.size, 1, 'the stored Message-ID went out unchanged');
  });

  it('expires recipients still deferred when the retry lifetime is over', async () => {
    const { fake, upstream, h } = await setup({ rcpt: () => 421 });
    await h.startWorker(upstream, { baseMs: 100, maxDelayMs: 400, lifetimeMs: 1500 });
    const id = await h.submit(['slow@example.net']);
    await h.waitForStatus(id, ['expired']);
    const view = await h.services.store.view(id);
    assert.equal(view?.recipients[0]?.status, 'expired');
    assert.equal(view?.events.at(-1)?.type, 'expired');
    assert.match(view?.events.at(-1)?.detail ?? '', /lifetime over/);
    assert.ok((view?.attempts ?? 0) >= 3, `retried until the deadline (${view?.attempts})`);
    assert.equal(fake.deliveriesTo('slow@example.net'), 0);
    assert.equal((await h.services.queue.counts()).failed, 1, 'the job ended without retrying');
  });

  it('never resends a recipient whose delivered mark was written before a crash', async () => {
    const { fake, upstream, h } = await setup({});
    const id = await h.submit(['first@example.net', 'second@example.net']);
    // A worker that sent to `first`, wrote the mark, and died before finishing the job.
    await h.services.store.recordOutcome(
      id,
      [{ address: 'first@example.net', status: 'delivered', detail: '250 ok' }],
      [{ type: 'delivered', detail: 'first@example.net: 250 ok' }],
      true,
    );
    await h.startWorker(upstream);
    await h.waitForStatus(id, ['delivered']);
    assert.equal(fake.rcptAttempts('first@example.net'), 0);
    assert.equal(fake.deliveriesTo('second@example.net'), 1);
    assert.deepEqual(fake.received[0]?.to, ['second@example.net']);
  });

  it('close() lets a delivery in flight finish before it returns', async () => {
    const { fake, upstream, h } = await setup({ dataDelayMs: 600 });
    const worker = await h.startWorker(upstream);
    const id = await h.submit(['a@example.net']);
    await waitUntil(() => fake.rcptAttempts('a@example.net') === 1, 10_000, 'the send to start');
    await worker.close(5000);
    assert.equal((await h.services.store.get(id))?.status, 'delivered');
    assert.equal(fake.deliveriesTo('a@example.net'), 1);
  });

  it('applies an end-of-DATA error to the recipients accepted at RCPT only', async () => {
    const { fake, upstream, h } = await setup({
      rcpt: (address) => (address.startsWith('gone') ? 550 : 250),
      data: (_to, n) => (n === 1 ? 452 : 250),
    });
    await h.startWorker(upstream);
    const id = await h.submit(['ok@example.net', 'gone@example.net']);
    await h.waitForStatus(id, ['partial']);
    const view = await h.services.store.view(id);
    assert.deepEqual(
      view?.recipients.map((r) => r.status),
      ['delivered', 'bounced'],
    );
    assert.equal(fake.rcptAttempts('gone@example.net'), 1);
    assert.equal(fake.deliveriesTo('ok@example.net'), 1);
  });
});
