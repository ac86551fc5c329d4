import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  explainMissing,
  killIntakeRepeatedly,
  reportCounts,
  useSinkWorld,
  waitForQuiet,
} from '../support/faults-harness.js';
import { bodyOfSize, sendHttp } from '../support/load-clients.js';

const KILLS = 12;
const LANES = 8;

/**
 * Issue 5: HTTP load with Idempotency-Keys while the intake is SIGKILLed and clients retry:
 * one message per key. Per the contract a repeated key answers 202 with the first message's
 * id and queues nothing new, so a client retries a key until it gets a 202; a key whose
 * first request was queued but whose ack died with the intake must still end up as one
 * message. Afterwards every key is replayed once more and must answer the same id.
 */
describe('fault: Idempotency-Key retries across intake kills', { timeout: 300_000 }, () => {
  const fixture = useSinkWorld();

  /** POST the message for `key` until a 202; every other answer must be a retryable one. */
  async function sendUntilAccepted(
    key: string,
  ): Promise<{ id: string; tries: number; lastTryAt: number }> {
    const { world } = fixture;
    const mail = {
      from: 'load@example.com',
      to: ['rcpt@example.net'],
      subject: key,
      text: bodyOfSize(2048),
    };
    for (let tries = 1; ; tries++) {
      const lastTryAt = Date.now();
      try {
        const { status, body } = await sendHttp(world.ports.http, world.credentials, mail, {
          'idempotency-key': key,
        });
        if (status === 202) return { id: String(body.id), tries, lastTryAt };
        assert.equal(
          status,
          503,
          `unexpected answer for ${key}: ${status} ${JSON.stringify(body)}`,
        );
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error;
        // The intake died under the request: no answer, so the key is simply retried.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The message's createdAt (ms) as GET /v1/messages/:id reports it. */
  async function createdAtOf(id: string): Promise<number | undefined> {
    const { world } = fixture;
    const response = await fetch(`http://127.0.0.1:${world.ports.http}/v1/messages/${id}`, {
      headers: { authorization: `Bearer ${world.credentials.secret}` },
    });
    if (response.status !== 200) return undefined;
    const body = (await response.json()) as { createdAt?: string };
    return body.createdAt ? Date.parse(body.createdAt) : undefined;
  }

  it(`delivers one message per key across ${KILLS} intake kills`, async () => {
    const { sink, world } = fixture;
    const worker = await world.startRelay('worker');
    const idOf = new Map<string, string>();
    /** Keys that needed more than one request, with when the answered request was sent. */
    const retried = new Map<string, number>();
    let stop = false;
    const lane = async (n: number) => {
      for (let k = 0; !stop; k++) {
        const key = `idem-kill-${n}-${k}`;
        const { id, tries, lastTryAt } = await sendUntilAccepted(key);
        idOf.set(key, id);
        if (tries > 1) retried.set(key, lastTryAt);
      }
    };

    const first = await world.startRelay('intake');
    const clients = Array.from({ length: LANES }, (_, n) => lane(n));
    const intake = await killIntakeRepeatedly(world, first, KILLS, () => idOf.size, LANES);
    stop = true;
    await Promise.all(clients);

    // Replay every key once more: same id, and nothing new may be queued by it.
    const keys = [...idOf.keys()];
    const changed: string[] = [];
    for (let i = 0; i < keys.length; i += LANES) {
      await Promise.all(
        keys.slice(i, i + LANES).map(async (key) => {
          const { id } = await sendUntilAccepted(key);
          if (id !== idOf.get(key)) changed.push(`${key}: ${idOf.get(key)} then ${id}`);
        }),
      );
    }

    await waitForQuiet(world, keys, sink.subjects);
    const counts = reportCounts('idempotency-kill', keys, sink.subjects, KILLS);
    // A retried key whose message is older than the answered request was queued by a
    // request that died with the intake: the path this test is about.
    let queuedByKilledRequest = 0;
    for (const [key, lastTryAt] of retried) {
      const createdAt = await createdAtOf(idOf.get(key) ?? '');
      if (createdAt !== undefined && createdAt < lastTryAt) queuedByKilledRequest++;
    }
    console.log(
      `# idempotency-kill: keys ${keys.length}, retried ${retried.size}, of which queued by a killed request ${queuedByKilledRequest}`,
    );
    await explainMissing(world, 'idempotency-kill', counts.missing, idOf);
    assert.deepEqual(changed, [], 'a replayed key answered a different message id');
    assert.deepEqual(counts.missing, [], 'keys acknowledged but never delivered');
    const twice = [...sink.subjects].filter(([, count]) => count > 1).map(([key]) => key);
    assert.deepEqual(twice, [], 'keys delivered more than once');
    assert.ok(retried.size > 0, 'no key was ever retried: the kills missed every request');
    await intake.kill('SIGTERM');
    await worker.kill('SIGTERM');
  });
});
