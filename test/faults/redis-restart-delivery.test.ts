import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  activeJobIds,
  explainMissing,
  reportCounts,
  useSinkWorld,
  waitForDelivery,
} from '../support/faults-harness.js';
import { waitUntil } from '../support/wait-until.js';

const RESTARTS = 6;
/** Deliveries in flight per worker: the most a single restart can catch mid-delivery. */
const CONCURRENCY = 8;

/**
 * Issue 5: Redis restarted while deliveries are in flight — alternately a clean SHUTDOWN
 * and a SIGKILL, each followed by a new redis-server on the same data dir (the AOF with
 * appendfsync always is replayed). Intake and worker run as separate processes, a slow sink
 * keeps deliveries in flight and a backlog queued, and clients keep sending throughout.
 * Every acknowledged message must reach the upstream; a duplicate is only possible for a
 * delivery in flight at a restart, so their number is bounded by the jobs active then.
 */
describe('fault: Redis restarted with deliveries in flight', { timeout: 300_000 }, () => {
  const fixture = useSinkWorld({ dataDelayMs: 300 });

  it(`loses nothing across ${RESTARTS} Redis restarts`, async () => {
    const { sink, world } = fixture;
    await world.startRelay('intake');
    const acked = new Set<string>();
    const ids = new Map<string, string>();
    let sent = 0;
    const sendOne = async (protocol: 'smtp' | 'http') => {
      const token = `redis-restart-${sent++}`;
      const result = await world.send(token, protocol);
      if (result.acked) acked.add(token);
      if (result.id) ids.set(token, result.id);
      return result.acked;
    };
    await Promise.all(
      Array.from({ length: 10 }, async (_, lane) => {
        for (let n = 0; n < 20; n++) await sendOne(n % 2 === lane % 2 ? 'http' : 'smtp');
      }),
    );
    assert.equal(acked.size, 200, 'the intake must acknowledge the whole backlog');

    const worker = await world.startRelay('worker', {
      POSTWARDEN_WORKER_CONCURRENCY: String(CONCURRENCY),
    });
    // Clients keep sending through the restarts (paced below the drain rate): whatever is
    // acknowledged around an outage must be kept too.
    let stop = false;
    const lanes = (['smtp', 'http'] as const).map(async (protocol) => {
      while (!stop) {
        await sendOne(protocol);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    });

    const inFlight: number[] = [];
    const activeAtRestart = new Set<string>();
    for (let restart = 0; restart < RESTARTS; restart++) {
      const before = sink.received.length;
      let active: string[] = [];
      await waitUntil(
        async () => {
          if (sink.received.length < before + 10) return false;
          active = await activeJobIds(world);
          return active.length > 0;
        },
        30_000,
        `deliveries under way before restart ${restart + 1}`,
        20,
      );
      for (const id of active) activeAtRestart.add(id);
      inFlight.push(active.length);
      if (restart % 2 === 0) await world.redis.kill();
      else await world.redis.stop();
      // The outage length is the fault's parameter, not a synchronisation.
      await new Promise((resolve) => setTimeout(resolve, 1000 + Math.random() * 2000));
      await world.restartRedis();
    }
    stop = true;
    await Promise.all(lanes);

    await waitForDelivery(acked, sink.subjects, 120_000);
    const counts = reportCounts('redis-restart-delivery', acked, sink.subjects, RESTARTS);
    const bound = inFlight.reduce((sum, n) => sum + n, 0);
    console.log(
      `# redis-restart-delivery: in flight at each restart ${inFlight.join(', ')} (bound ${bound}), sent ${sent}`,
    );
    await explainMissing(world, 'redis-restart-delivery', counts.missing, ids);
    assert.deepEqual(counts.missing, [], 'acknowledged messages never delivered');
    assert.equal(worker.child.exitCode, null, `the worker died: ${worker.output()}`);

    // A restart can only catch the deliveries active at that moment: a duplicate is one of
    // them, sent again because its delivered mark was not yet written.
    const duplicated = [...sink.subjects].filter(([, n]) => n > 1).map(([token]) => token);
    for (const token of duplicated) {
      const id = ids.get(token) ?? '';
      const active = activeAtRestart.has(id) ? 'active at a restart' : 'not seen active';
      console.log(`# redis-restart-delivery duplicate ${token} ${id}: ${active}`);
    }
    assert.ok(
      counts.duplicates <= bound,
      `${counts.duplicates} duplicates for ${bound} deliveries in flight at the restarts`,
    );

    // The records agree with the upstream: every acknowledged message says delivered and
    // no delivery job is left behind.
    await waitUntil(async () => (await world.pendingJobs()) === 0, 30_000, 'no pending jobs');
    const notDelivered: string[] = [];
    for (const [token, id] of ids) {
      const status = await world.messageStatus(id);
      if (status !== 'delivered') notDelivered.push(`${token} ${id}: ${status}`);
    }
    assert.deepEqual(notDelivered, [], 'records not marked delivered');
  });
});
