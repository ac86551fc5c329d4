import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createKeys } from '../../src/redis/keys.js';
import { FormStore } from '../../src/security/forms/form-store.js';
import { killIntakeRepeatedly, reportCounts, useSinkWorld } from '../support/faults-harness.js';
import { waitUntil } from '../support/wait-until.js';

const KILLS = 10;
const LANES = 6;
const ORIGIN = 'https://www.example.com';
const TOKEN = /form-kill-\d+-\d+/g;

/**
 * Issue 12: the form endpoint answers success only after the durable enqueue. An intake
 * SIGKILLed at random moments under form load (a separate worker keeps delivering):
 * every lead that got its 202 reaches the upstream. Leads share one Subject (the form's),
 * so they are told apart by a token in their body.
 */
describe('fault: intake SIGKILLed under lead form load', { timeout: 120_000 }, () => {
  const fixture = useSinkWorld();

  /** Arrivals per token, counted from the bodies the sink received. */
  function arrivals(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const message of fixture.sink.received) {
      for (const token of new Set(message.raw.toString('latin1').match(TOKEN) ?? [])) {
        counts.set(token, (counts.get(token) ?? 0) + 1);
      }
    }
    return counts;
  }

  it(`loses no answered lead across ${KILLS} intake kills`, async () => {
    const { world } = fixture;
    const redis = new Redis({ path: world.redis.socket });
    const form = await new FormStore(redis, createKeys()).create({
      name: 'load',
      to: ['leads@example.net'],
      origins: [ORIGIN],
      ratePerMinute: 100_000,
    });
    redis.disconnect();
    const endpoint = `http://127.0.0.1:${world.ports.http}/v1/forms/${form.id}`;
    const worker = await world.startRelay('worker');
    const acked = new Set<string>();
    let unacked = 0;
    let stop = false;
    const lane = async (n: number) => {
      for (let attempt = 0; !stop; attempt++) {
        const token = `form-kill-${n}-${attempt}`;
        try {
          const response = await fetch(endpoint, {
            method: 'POST',
            headers: { origin: ORIGIN, 'content-type': 'application/json' },
            body: JSON.stringify({ name: 'Load', email: 'load@example.org', message: token }),
            signal: AbortSignal.timeout(5000),
          });
          if (response.status === 202) acked.add(token);
          else unacked++;
          await response.arrayBuffer();
        } catch {
          unacked++;
          // Back off while the intake is down instead of spinning on refused connections.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    };

    const first = await world.startRelay('intake');
    const clients = Array.from({ length: LANES }, (_, n) => lane(n));
    const intake = await killIntakeRepeatedly(world, first, KILLS, () => acked.size, LANES);
    stop = true;
    await Promise.all(clients);

    const missing = () => [...acked].filter((token) => !arrivals().has(token));
    await waitUntil(() => missing().length === 0, 60_000, 'every answered lead', 250).catch(
      () => undefined,
    );
    const delivered = arrivals();
    const counts = reportCounts('form-intake-kill', acked, delivered, KILLS);
    console.log(`# form-intake-kill: not answered ${unacked}`);
    assert.deepEqual(counts.missing, [], 'answered leads never delivered');
    assert.ok(acked.size >= KILLS * LANES, `only ${acked.size} answers under load`);
    await intake.kill('SIGTERM');
    await worker.kill('SIGTERM');
  });
});
