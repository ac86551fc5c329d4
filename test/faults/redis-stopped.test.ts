import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportCounts, useSinkWorld, waitForDelivery } from '../support/faults-harness.js';
import { waitUntil } from '../support/wait-until.js';

/** Issue 5: "Redis stopped for a minute under load". */
const OUTAGE_MS = 60_000;

/**
 * Issue 5: Redis stopped under load — no false acknowledgement (every 250/202 received is
 * delivered) and acceptance resumes within 10 s of Redis being back.
 */
describe('fault: Redis stopped under load', { timeout: 240_000 }, () => {
  const fixture = useSinkWorld({ dataDelayMs: 5 });

  it('acknowledges nothing it cannot keep and recovers within 10 s', async () => {
    const { sink, world } = fixture;
    const relay = await world.startRelay('all');
    const acked = new Set<string>();
    const ackTimes: number[] = [];
    let attempts = 0;
    let stop = false;
    const client = async (lane: number) => {
      while (!stop) {
        const token = `redis-stopped-${lane}-${attempts++}`;
        if ((await world.send(token, lane % 2 === 0 ? 'smtp' : 'http')).acked) {
          acked.add(token);
          ackTimes.push(Date.now());
        } else await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const clients = Array.from({ length: 8 }, (_, lane) => client(lane));
    await waitUntil(() => acked.size >= 100, 30_000, 'acknowledgements before the outage');

    await world.redis.stop();
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await world.restartRedis();
    const backAt = Date.now();
    const duringOutage = ackTimes.filter((t) => t > stoppedAt + 5000 && t < backAt).length;
    await waitUntil(
      () => ackTimes.some((t) => t > backAt),
      30_000,
      'an acknowledgement after Redis is back',
    );
    const recoveryMs = (ackTimes.find((t) => t > backAt) ?? Number.NaN) - backAt;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    stop = true;
    await Promise.all(clients);

    await waitForDelivery(acked, sink.subjects, 60_000);
    const counts = reportCounts('redis-stopped', acked, sink.subjects, 0);
    console.log(
      `# redis-stopped: outage ${OUTAGE_MS} ms, acks while down ${duringOutage}, recovery ${recoveryMs} ms, attempts ${attempts}`,
    );
    assert.deepEqual(
      counts.missing,
      [],
      'acknowledged but never delivered (false acknowledgement)',
    );
    assert.equal(duringOutage, 0, 'acknowledgements while Redis was down');
    assert.ok(recoveryMs <= 10_000, `acceptance resumed ${recoveryMs} ms after Redis came back`);
    await relay.kill('SIGTERM');
  });
});
