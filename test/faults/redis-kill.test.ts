import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  explainMissing,
  reportCounts,
  useSinkWorld,
  waitForQuiet,
} from '../support/faults-harness.js';
import { waitForReady } from '../support/relay-process.js';

const KILLS = 100;
const PER_ROUND = 4;

/**
 * Issue 5: SIGKILL of Redis right after acknowledgements (≥ 100, `appendfsync always`):
 * 0 lost. Each round sends a few messages at once over SMTP and HTTP, kills redis-server
 * the moment the k-th ack arrives (k random; the others are still in flight: each ends
 * acked, and then must be delivered, or refused), and starts a new one on the same data
 * dir (the AOF is replayed); the relay has to reconnect by itself. Deliveries are in
 * flight too.
 */
describe('fault: Redis SIGKILLed right after acknowledgements', { timeout: 300_000 }, () => {
  const fixture = useSinkWorld();

  it(`loses nothing across ${KILLS} Redis kills`, async () => {
    const { sink, world } = fixture;
    const relay = await world.startRelay('all');
    const acked = new Set<string>();
    const ids = new Map<string, string>();
    const refused = new Set<string>();
    const ackedBy = { smtp: 0, http: 0 };
    let kills = 0;
    let killsAfterAck = 0;
    let reconnectMs = 0;
    while (killsAfterAck < KILLS) {
      // /readyz is 200 only with Redis reachable and durability confirmed.
      const waitStart = Date.now();
      await waitForReady(world.ports.http);
      reconnectMs += Date.now() - waitStart;
      const killAfter = 1 + Math.floor(Math.random() * PER_ROUND);
      let roundAcks = 0;
      let killNow = () => {};
      const acknowledged = new Promise<void>((resolve) => {
        killNow = resolve;
      });
      const round = kills;
      const sends = Promise.all(
        Array.from({ length: PER_ROUND }, async (_, n) => {
          const token = `redis-kill-${round}-${n}`;
          const protocol = n % 2 === 0 ? 'smtp' : 'http';
          const result = await world.send(token, protocol);
          if (result.id) ids.set(token, result.id);
          if (result.acked) {
            acked.add(token);
            ackedBy[protocol]++;
            if (++roundAcks === killAfter) killNow();
          } else refused.add(token);
        }),
      );
      const before = acked.size;
      await Promise.race([acknowledged, sends]);
      await world.redis.kill();
      kills++;
      if (acked.size > before) killsAfterAck++;
      await sends;
      await world.restartRedis();
      assert.equal(relay.child.exitCode, null, `relay exited: ${relay.output()}`);
    }

    await waitForQuiet(world, acked, sink.subjects);
    const counts = reportCounts('redis-kill', acked, sink.subjects, kills);
    const refusedDelivered = [...refused].filter((token) => sink.subjects.has(token));
    console.log(
      `# redis-kill: mean wait for /readyz after a restart ${Math.round(reconnectMs / kills)} ms; refused but delivered: ${refusedDelivered.slice(0, 10).join(' ')}`,
    );
    console.log(
      `# redis-kill: sent ${kills * PER_ROUND}, acked smtp ${ackedBy.smtp} http ${ackedBy.http}, refused ${refused.size} (delivered anyway ${refusedDelivered.length}), kills right after an ack ${killsAfterAck}`,
    );
    await explainMissing(world, 'redis-kill', counts.missing, ids);
    assert.deepEqual(counts.missing, [], 'acknowledged messages lost with Redis');
    // A kill between the upstream's 250 and the delivered mark resends the same message.
    for (const [subject, count] of sink.subjects) {
      if (count < 2) continue;
      const messageIds = new Set(
        sink.received.filter((m) => m.subject === subject).map((m) => m.messageId),
      );
      assert.equal(messageIds.size, 1, `duplicate ${subject} carries different Message-IDs`);
    }
    await relay.kill('SIGTERM');
  });
});
