import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deliverMessage } from '../../src/delivery/deliver.js';
import type { OutgoingMessage, Upstream } from '../../src/upstream/types.js';
import {
  createDeliveryHarness,
  type DeliveryHarness,
  FAST_RETRY,
} from '../support/delivery-harness.js';
import { silentLogger } from '../support/log-sink.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';

/** An upstream that records what it was asked to send and accepts everything. */
function recordingUpstream(): Upstream & { sent: OutgoingMessage[] } {
  const sent: OutgoingMessage[] = [];
  return {
    label: 'recording',
    sent,
    async send(message) {
      sent.push(message);
      return message.envelope.to.map((address) => ({
        address,
        outcome: 'delivered' as const,
        detail: '250 ok',
      }));
    },
    async close() {},
  };
}

/**
 * A worker frozen longer than its job lock (SIGSTOP, a VM pause) must not send when it
 * wakes up: another worker owns the job by then, and both would deliver it.
 */
describe('delivery attempt that lost its job lock', () => {
  let redis: TestRedis;
  let h: DeliveryHarness;
  /** The message the stale attempt left alone; the real worker must deliver it once. */
  let lostId: string | undefined;

  before(async () => {
    redis = await startTestRedis();
    h = await createDeliveryHarness(redis.url);
  });

  after(async () => {
    await h?.close();
    await redis?.cleanup();
  });

  it('sends nothing and records nothing when the lock is no longer ours', async () => {
    const id = await h.submit(['a@example.net']);
    lostId = id;
    const upstream = recordingUpstream();
    let asked = 0;
    const end = await deliverMessage(
      {
        store: h.services.store,
        upstream,
        retry: FAST_RETRY,
        logger: silentLogger,
        stillOwner: async () => {
          asked += 1;
          return false;
        },
      },
      id,
    );
    assert.deepEqual(end, { kind: 'lost' });
    assert.equal(asked, 1);
    assert.equal(upstream.sent.length, 0, 'nothing sent by the stale attempt');
    const view = await h.services.store.view(id);
    assert.equal(view?.status, 'queued');
    assert.equal(view?.attempts, 0, 'no attempt recorded');
    assert.equal(await h.services.store.hasBody(id), true, 'body kept for the owner');
  });

  it('a late result from a stale attempt never undoes a final recipient state', async () => {
    const store = h.services.store;
    const id = await h.submit(['done@example.net', 'gone@example.net', 'late@example.net']);
    const record = (address: string, status: 'delivered' | 'bounced' | 'deferred' | 'expired') =>
      store.recordOutcome(id, [{ address, status, detail: status }], [], true);
    await record('done@example.net', 'delivered');
    await record('gone@example.net', 'bounced');
    await record('late@example.net', 'expired');
    // The frozen worker wakes up: its socket timed out, so it reports deferred for all.
    for (const address of ['done@example.net', 'gone@example.net', 'late@example.net'])
      await record(address, 'deferred');
    let view = await store.view(id);
    assert.deepEqual(
      view?.recipients.map((r) => [r.address, r.status]),
      [
        ['done@example.net', 'delivered'],
        ['gone@example.net', 'bounced'],
        ['late@example.net', 'expired'],
      ],
    );
    assert.equal(view?.status, 'partial');
    // …but a 250 it did get is the truth, even for a recipient given up on meanwhile.
    await record('late@example.net', 'delivered');
    view = await store.view(id);
    assert.equal(
      view?.recipients.find((r) => r.address === 'late@example.net')?.status,
      'delivered',
    );
  });

  it('a real worker that holds the lock sends each message once, the skipped one too', async () => {
    const skipped = lostId === undefined ? [] : [lostId];
    const id = await h.submit(['b@example.net']);
    const upstream = recordingUpstream();
    await h.startWorker(upstream);
    await h.waitForStatus(id, ['delivered']);
    for (const earlier of skipped) await h.waitForStatus(earlier, ['delivered']);
    const sentIds = upstream.sent.map((message) => message.id).sort();
    assert.deepEqual(sentIds, [...skipped, id].sort(), 'each message sent exactly once');
  });
});
