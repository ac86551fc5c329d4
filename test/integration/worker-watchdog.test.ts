import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useDeliveryFixture } from '../support/delivery-harness.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * Issue 15: a BullMQ worker that says it runs but takes no jobs (seen after Sentinel
 * failovers, bullmq#3088/#4378) is replaced by the watchdog, and delivery goes on.
 * Here the deaf worker is a real one paused locally — it reports running and takes
 * nothing, the same outward state.
 */
describe('delivery worker watchdog', () => {
  const { scripted: setup } = useDeliveryFixture();

  it('replaces a worker that takes no waiting job, and the new one delivers them', async () => {
    const { fake, upstream, h } = await setup({ rcpt: () => 250 });
    const worker = await h.startWorker(upstream, undefined, { watchdogIntervalMs: 200 });
    const deaf = worker.current();
    await deaf.pause(true);
    assert.equal(deaf.isRunning(), true, 'a locally paused worker still reports running');
    const ids = [
      await h.submit(['a@example.net']),
      await h.submit(['b@example.net']),
      await h.submit(['c@example.net']),
    ];
    for (const id of ids) await h.waitForStatus(id, ['delivered'], 15_000);
    assert.ok(worker.recreations() >= 1, 'the watchdog recreated the worker');
    assert.notEqual(worker.current(), deaf);
    for (const address of ['a@example.net', 'b@example.net', 'c@example.net']) {
      assert.equal(fake.deliveriesTo(address), 1, address);
    }
  });

  it('leaves a healthy worker alone, and a paused relay too', async () => {
    const { upstream, h } = await setup({ rcpt: () => 250 });
    const worker = await h.startWorker(upstream, undefined, { watchdogIntervalMs: 100 });
    const id = await h.submit(['d@example.net']);
    await h.waitForStatus(id, ['delivered'], 15_000);
    await h.operator.pause('watchdog test');
    const waiting = await h.submit(['e@example.net']);
    // Ten watchdog looks while jobs wait on a paused queue: none may recreate the worker.
    let looks = 0;
    await waitUntil(() => ++looks >= 10, 5000, 'ten looks', 100);
    assert.equal(worker.recreations(), 0);
    assert.equal((await h.services.store.get(waiting))?.status, 'queued');
    await h.operator.resume();
    await h.waitForStatus(waiting, ['delivered'], 15_000);
    assert.equal(worker.recreations(), 0);
  });
});
