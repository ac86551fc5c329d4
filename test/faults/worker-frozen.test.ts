import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  activeJobIds,
  explainMissing,
  type FaultWorld,
  messageRecord,
  reportCounts,
  startFaultWorld,
} from '../support/faults-harness.js';
import {
  type Act,
  type DotPoint,
  type MisbehavingUpstream,
  reply,
  startMisbehavingUpstream,
} from '../support/misbehaving-upstream.js';
import type { RelayProcess } from '../support/relay-process.js';
import { waitUntil } from '../support/wait-until.js';

const CONCURRENCY = 4;
/** How late the upstream answers a message's first end-of-DATA: the worker is frozen by then. */
const LATE_REPLY_MS = 2000;

/**
 * Issue 5: a worker frozen (SIGSTOP) longer than its BullMQ job lock while a second worker
 * runs, then resumed (SIGCONT). The relay leaves BullMQ's lock at its default (30 s, no
 * setting), so the jobs the frozen worker holds come back to the queue only after the lock
 * expired and a stall check saw it twice: the freeze lasts about a minute.
 *
 * Every message's first attempt is answered late, while the worker is frozen: even tokens
 * with 250 (the upstream took the message, so the second worker's resend is a duplicate —
 * at most one per job the frozen worker held), odd tokens with 421 and a close (the resumed
 * worker learns of a temporary failure of an attempt that another worker has since
 * completed). 0 lost, and every message record must end `delivered`.
 */
describe('fault: worker frozen longer than its job lock', { timeout: 300_000 }, () => {
  let upstream: MisbehavingUpstream;
  let world: FaultWorld;

  const data = ({ subject }: DotPoint): Act => {
    if (upstream.timesReceived(subject) > 1) return reply(250);
    const odd = Number(/(\d+)$/.exec(subject)?.[1] ?? 0) % 2 === 1;
    const then: Act = odd ? { kind: 'reply-and-close', code: 421 } : reply(250);
    return { kind: 'delayed', ms: LATE_REPLY_MS, then };
  };

  before(async () => {
    upstream = await startMisbehavingUpstream({ data });
    world = await startFaultWorld(upstream.url);
  });

  after(async () => {
    await world?.cleanup();
    await upstream?.close();
  });

  it('loses nothing, duplicates at most the held jobs, and records end delivered', async () => {
    await world.startRelay('intake');
    const acked = new Set<string>();
    const ids = new Map<string, string>();
    let sent = 0;
    const send = async (count: number) => {
      await Promise.all(
        Array.from({ length: 5 }, async (_, lane) => {
          for (let n = lane; n < count; n += 5) {
            const token = `frozen-${sent + n}`;
            const result = await world.send(token, n % 3 === 0 ? 'smtp' : 'http');
            if (result.acked) acked.add(token);
            if (result.id) ids.set(token, result.id);
          }
        }),
      );
      sent += count;
    };
    await send(40);
    assert.equal(acked.size, 40);

    const frozen = await world.startRelay('worker', {
      POSTWARDEN_WORKER_CONCURRENCY: String(CONCURRENCY),
    });
    await waitUntil(
      () => upstream.pendingReplies() >= CONCURRENCY,
      20_000,
      'the first worker to hold a full set of deliveries',
      5,
    );
    frozen.child.kill('SIGSTOP');
    const frozenAt = Date.now();
    const held = await activeJobIds(world);
    const heldTokens = [...ids].filter(([, id]) => held.includes(id)).map(([token]) => token);
    console.log(`# worker-frozen: held ${held.length} jobs: ${heldTokens.join(', ')}`);
    assert.ok(held.length > 0 && held.length <= CONCURRENCY, `held ${held.length} jobs`);

    let second: RelayProcess | undefined = await world.startRelay('worker', {
      POSTWARDEN_WORKER_CONCURRENCY: String(CONCURRENCY),
    });
    // The held jobs come back only after the lock expired and stall checks ran: the second
    // worker delivering them is the sign that the freeze outlasted the lock.
    await waitUntil(
      async () => {
        for (const id of held) if ((await world.messageStatus(id)) !== 'delivered') return false;
        return true;
      },
      150_000,
      'the held messages delivered by the second worker',
      500,
    );
    const frozenMs = Date.now() - frozenAt;
    frozen.child.kill('SIGCONT');

    // The resumed worker must work normally: with the second one stopped, new mail is its.
    await second.kill('SIGTERM');
    second = undefined;
    await send(10);
    await waitUntil(
      () => [...acked].every((token) => upstream.accepted.includes(token)),
      60_000,
      'every acknowledged message at the upstream',
      100,
    ).catch(() => undefined);
    // A graceful stop waits for its deliveries in flight: after it, nothing is still running.
    const exit = await frozen.kill('SIGTERM');

    const subjects = new Map<string, number>();
    for (const subject of upstream.accepted)
      subjects.set(subject, (subjects.get(subject) ?? 0) + 1);
    const counts = reportCounts('worker-frozen', acked, subjects, 0);
    console.log(
      `# worker-frozen: frozen ${frozenMs} ms, held ${held.length}, resumed worker exit ${exit}`,
    );
    await explainMissing(world, 'worker-frozen', counts.missing, ids);
    assert.deepEqual(counts.missing, [], 'acknowledged messages never delivered');
    assert.ok(frozenMs > 30_000, `frozen ${frozenMs} ms, not longer than the 30 s lock`);

    const duplicated = [...subjects].filter(([, n]) => n > 1).map(([token]) => token);
    console.log(`# worker-frozen duplicates: ${duplicated.join(', ') || 'none'}`);
    assert.ok(
      duplicated.every((token) => heldTokens.includes(token)),
      `duplicates outside the held jobs: ${duplicated.join(', ')}`,
    );
    assert.ok(counts.duplicates <= held.length, `${counts.duplicates} duplicates`);

    // The records end consistent: the resumed worker's late outcomes must not undo a
    // delivery another worker completed, and no job is left pending.
    assert.equal(await world.pendingJobs(), 0, 'delivery jobs still pending');
    const wrong: string[] = [];
    for (const [token, id] of ids) {
      const record = await messageRecord(world, id);
      if (record?.status !== 'delivered') {
        const events = record?.events.map((event) => `${event.type} (${event.detail})`).join(' > ');
        wrong.push(`${token} ${id}: ${record?.status} (attempts ${record?.attempts}: ${events})`);
      }
    }
    for (const line of wrong) console.log(`# worker-frozen record ${line}`);
    assert.deepEqual(wrong, [], 'message records not delivered');
  });
});
