/**
 * History benchmark (issue 11): does what an operator or a scrape reads cost the same with
 * a long history as with a short one? Builds 10⁴, 10⁵ (and with --sizes, 10⁶) messages in
 * a spawned redis-server through the real stage and outcome scripts (bench/lib/
 * history-builder.ts: pipelined, mostly delivered, some bounced, deferred and queued),
 * and at each size times, median of --repeat requests to an in-process relay (intake
 * role: the composition root as production builds it, no worker draining the backlog):
 * GET /metrics, the admin overview, /admin/failed, a recipient search, and `queue stats`
 * (the operator call the CLI makes, without the CLI's process start). Also Redis bytes
 * per delivered message and per queued 2 KB message (used_memory delta; the latter also
 * through the real door, with its delivery job).
 *
 *   npm run bench:history -- [--sizes 10000,100000,1000000] [--repeat 9]
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { MessageStore } from '../src/queue/message-store.js';
import { createKeys } from '../src/redis/keys.js';
import { login } from '../test/support/admin-app.js';
import { startInProcessRelay } from '../test/support/in-process-relay.js';
import { startTestRedis } from '../test/support/redis.js';
import { buildHistory } from './lib/history-builder.js';
import { median } from './lib/stats.js';

const PASSWORD = 'bench history password';
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    repeat: { type: 'string', default: '9' },
  },
});
const sizes = (values.sizes ?? '')
  .split(',')
  .map(Number)
  .filter((n) => n > 0)
  .sort((a, b) => a - b);
const repeat = Number(values.repeat);

async function timed(run: () => Promise<unknown>): Promise<number> {
  await run(); // warm
  const samples: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

async function usedMemory(client: Redis): Promise<number> {
  const info = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/**
 * Redis bytes per message of one kind: used_memory before and after `count` of them, in a
 * Redis of its own (so the history below is measured alone). `count` is large enough that
 * the key space's own table growth (it doubles) is spread as it is in a long history.
 */
async function footprint(
  kind: 'delivered' | 'queued',
  count: number,
  realistic = false,
): Promise<number> {
  const own = await startTestRedis({ appendfsync: 'no' });
  const client = new Redis({ path: own.socket, maxRetriesPerRequest: null });
  try {
    const keys = createKeys('fp');
    await client.call('MEMORY', 'PURGE').catch(() => {});
    const before = await usedMemory(client);
    const mix =
      kind === 'delivered'
        ? { delivered: 1, bounced: 0, deferred: 0 }
        : { delivered: 0, bounced: 0, deferred: 0 };
    await buildHistory(client, keys, new MessageStore(client, keys), count, {
      mix,
      recipients: count,
      bodyBytes: kind === 'queued' ? 2048 : 200,
      realistic,
    });
    return ((await usedMemory(client)) - before) / count;
  } finally {
    client.disconnect();
    await own.cleanup();
  }
}

/**
 * Redis bytes per queued 2 KB message through the real door: POST /v1/messages (JSON,
 * ~1.8 KB of text) to an intake-only relay on a Redis of its own, so each message is
 * everything a queued one keeps — record, MIME body, BullMQ job, indexes.
 */
async function doorFootprint(count: number): Promise<number> {
  const own = await startTestRedis({ appendfsync: 'no' });
  const door = await startInProcessRelay(
    { POSTWARDEN_DURABILITY: 'memory' },
    { role: 'intake' },
    { redis: own },
  );
  const client = new Redis({ path: own.socket, maxRetriesPerRequest: null });
  try {
    const { secret } = await door.relay.services.credentials.create({
      name: 'shop',
      allowFrom: ['*@example.com'],
    });
    const post = async (n: number) => {
      const response = await fetch(`${door.baseUrl}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          from: 'orders@example.com',
          to: [`r${n}@example.net`],
          subject: `queued ${n}`,
          text: 'x'.repeat(1800),
        }),
      });
      if (response.status !== 202) throw new Error(`door answered ${response.status}`);
    };
    const lanes = 20;
    const run = async (from: number, to: number) => {
      for (let n = from; n < to; n += lanes) {
        await Promise.all(Array.from({ length: lanes }, (_, k) => post(n + k)));
      }
    };
    await run(0, 200); // warm: the queue's own keys exist before the measurement
    await client.call('MEMORY', 'PURGE').catch(() => {});
    const before = await usedMemory(client);
    await run(200, 200 + count);
    return ((await usedMemory(client)) - before) / count;
  } finally {
    client.disconnect();
    await door.close(); // a relay given its Redis leaves it running
    await own.cleanup();
  }
}

const redis = await startTestRedis({ appendfsync: 'no' });
const client = new Redis({ path: redis.socket, maxRetriesPerRequest: null });
const keys = createKeys();
const store = new MessageStore(client, keys);
const relay = await startInProcessRelay(
  { POSTWARDEN_ADMIN_PASSWORD: PASSWORD, POSTWARDEN_DURABILITY: 'memory' },
  { role: 'intake' },
  { redis },
);
const admin = await login(relay.baseUrl, PASSWORD);
const rows: string[] = [];
try {
  const perDelivered = await footprint('delivered', 50_000);
  const perRealistic = await footprint('delivered', 50_000, true);
  const perQueued = await footprint('queued', 20_000);
  const perQueuedDoor = await doorFootprint(10_000);
  console.log(
    `footprint: ${perDelivered.toFixed(0)} B per delivered message (short fields), ${perRealistic.toFixed(0)} B with a shop's fields; ${perQueued.toFixed(0)} B per queued 2 KB message (record, body, indexes; its BullMQ job not written here), ${perQueuedDoor.toFixed(0)} B through the real door (with its job)`,
  );
  let built = 0;
  for (const size of sizes) {
    const start = Date.now();
    await buildHistory(client, keys, store, size - built, { window: 2000 });
    built = size;
    console.log(`built ${size} messages (+${((Date.now() - start) / 1000).toFixed(1)} s)`);
    const get = (path: string) => async () => {
      const response = await (path.startsWith('/admin')
        ? admin.request(path)
        : fetch(`${relay.baseUrl}${path}`));
      if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
      await response.arrayBuffer();
    };
    const figures = {
      metrics: await timed(get('/metrics')),
      overview: await timed(get('/admin')),
      failed: await timed(get('/admin/failed')),
      search: await timed(get('/admin/messages?recipient=r7%40example.net')),
      stats: await timed(() => relay.relay.operator.stats()),
    };
    const mb = ((await usedMemory(client)) / 1048576).toFixed(0);
    const row = `| ${size.toLocaleString('en')} | ${mb} MB | ${Object.values(figures)
      .map((ms) => `${ms.toFixed(1)} ms`)
      .join(' | ')} |`;
    console.log(row);
    rows.push(row);
  }
  console.log(
    '\n| history | Redis used_memory | /metrics | /admin | /admin/failed | recipient search | queue stats |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(row);
} finally {
  client.disconnect();
  await relay.close();
  await redis.cleanup();
}
