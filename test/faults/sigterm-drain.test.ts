import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportCounts, useSinkWorld, waitForDelivery } from '../support/faults-harness.js';
import { waitUntil } from '../support/wait-until.js';

/** systemd's TimeoutStopSec and compose's grace period are 30 s; we must be well within. */
const GRACE_MS = 25_000;

/**
 * Issue 5: SIGTERM with deliveries in flight — exit 0 within the grace time, and after a
 * restart nothing is lost and nothing is sent twice (in-flight deliveries finish or are
 * handed back, never abandoned half-way).
 */
describe('fault: SIGTERM with deliveries in flight', { timeout: 120_000 }, () => {
  const fixture = useSinkWorld({ dataDelayMs: 400 });

  it('exits 0 within the grace time, then delivers the rest exactly once', async () => {
    const { sink, world } = fixture;
    const relay = await world.startRelay('all');
    const acked = new Set<string>();
    await Promise.all(
      Array.from({ length: 10 }, async (_, lane) => {
        for (let n = 0; n < 20; n++) {
          const token = `sigterm-${lane}-${n}`;
          if ((await world.send(token, n % 2 === 0 ? 'http' : 'smtp')).acked) acked.add(token);
        }
      }),
    );
    assert.equal(acked.size, 200);
    await waitUntil(() => sink.received.length >= 5, 20_000, 'deliveries under way');
    assert.ok(sink.subjects.size < acked.size, 'deliveries must still be in flight at SIGTERM');

    const started = Date.now();
    relay.child.kill('SIGTERM');
    const code = await Promise.race([
      relay.exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), GRACE_MS + 5000)),
    ]);
    const elapsed = Date.now() - started;
    assert.equal(code, 0, `exit after SIGTERM: ${code}; output: ${relay.output()}`);
    assert.ok(elapsed <= GRACE_MS, `exited after ${elapsed} ms (grace ${GRACE_MS} ms)`);

    const restarted = await world.startRelay('all');
    await waitForDelivery(acked, sink.subjects, 60_000);
    const counts = reportCounts('sigterm-drain', acked, sink.subjects, 0);
    console.log(`# sigterm-drain: exit ${code} after ${elapsed} ms`);
    assert.deepEqual(counts.missing, []);
    assert.equal(counts.duplicates, 0, 'a graceful stop must not send anything twice');
    await restarted.kill('SIGTERM');
  });
});
