import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { buildHistory } from '../../bench/lib/history-builder.js';
import { MessageStore } from '../../src/queue/message-store.js';
import { eventEntriesOf, recipientStatesOf } from '../../src/queue/record-layout.js';
import { RETENTION_BATCH } from '../../src/queue/retention.js';
import { createKeys } from '../../src/redis/keys.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { freeRelayPorts, relayEnv, tempDataDir } from '../support/relay-env.js';
import { spawnRelay } from '../support/relay-process.js';
import { waitUntil } from '../support/wait-until.js';

const BACKLOG = 20_000;

/**
 * Issue 11: a worker process running retention over a large backlog is SIGKILLed while it
 * deletes (seen: the delivered count fell between two samples just before the kill, and
 * some are left). Every deletion is one script with its index and count updates, so the
 * counts still equal a recount of the records, and no message is left half deleted.
 */
describe('fault: retention SIGKILLed mid-batch', { timeout: 240_000 }, () => {
  let redis: TestRedis;
  let client: Redis;
  const data = tempDataDir();
  const keys = createKeys();

  before(async () => {
    redis = await startTestRedis({ appendfsync: 'everysec' });
    client = new Redis({ path: redis.socket, maxRetriesPerRequest: null });
  });

  after(async () => {
    client?.disconnect();
    await redis?.cleanup();
    data.remove();
  });

  it('leaves counts equal to a recount and every remaining message whole', async () => {
    const store = new MessageStore(client, keys);
    await buildHistory(client, keys, store, BACKLOG, {
      mix: { delivered: 0.95, bounced: 0, deferred: 0.05 },
    });
    const delivered = async () => Number(await client.hget(keys.statusCounts(), 'delivered'));
    const before = await delivered();
    assert.equal(before, BACKLOG * 0.95);

    const ports = await freeRelayPorts();
    const worker = spawnRelay(
      ['start', '--role', 'worker'],
      relayEnv(
        { dataDir: data.dir, ports, redisUrl: redis.url },
        { POSTWARDEN_RETENTION: '1s', POSTWARDEN_DURABILITY: 'memory' },
      ),
    );
    // Sample the count as fast as Redis answers; kill while it falls (the pass is running
    // then: one pass deletes up to 5,000 in batches of 100 without pausing).
    let previous = before;
    let fellJustBefore = false;
    await waitUntil(
      async () => {
        const now = await delivered();
        fellJustBefore = now < previous;
        previous = now;
        // Several batches in: the pass is well under way, and still deleting.
        return fellJustBefore && now <= before - 3 * RETENTION_BATCH;
      },
      60_000,
      `retention to start deleting; relay output:\n${worker.output()}`,
      1,
    );
    await worker.kill('SIGKILL');
    const left = await delivered();
    assert.ok(fellJustBefore, 'the count was falling when the kill was sent');
    assert.ok(left > 0 && left < before, `killed mid-run: ${left} of ${before} left`);

    const recount = await store.countRecords();
    const counts = await client.hgetall(keys.statusCounts());
    assert.equal(Number(counts.delivered), recount.delivered ?? 0, 'delivered count = recount');
    assert.equal(Number(counts.deferred), recount.deferred, 'deferred untouched');
    assert.equal(recount.deferred, BACKLOG * 0.05);
    assert.equal(await client.zcard(keys.statusIndex('delivered')), recount.delivered ?? 0);
    // Whole or gone: every message left still has its record with its events and
    // recipients (record-layout.ts), and the time index names exactly the records left.
    const ids = await client.zrange(keys.statusIndex('delivered'), '0', '-1');
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.hgetall(keys.message(id));
    const records = ((await pipeline.exec()) ?? []).map(
      ([, hash]) => hash as Record<string, string>,
    );
    assert.equal(records.length, left);
    assert.ok(
      records.every(
        (hash) =>
          hash.status === 'delivered' &&
          eventEntriesOf(hash).length >= 2 &&
          Object.keys(recipientStatesOf(hash)).length === 1,
      ),
      'no message half deleted',
    );
    assert.equal(await client.zcard(keys.messageIndex()), left + BACKLOG * 0.05);
    console.log(`# retention-kill: killed with ${left} of ${before} delivered left`);
  });
});
