/**
 * Soak run (issue 11): many messages through a spawned relay (`node dist/main.js start`,
 * every role, capture upstream) with POSTWARDEN_RETENTION=1m on a spawned redis-server
 * (AOF, appendfsync always, the shipped durability). Redis used_memory is sampled every
 * few seconds while sending and until retention has emptied the history; the report gives
 * first, last and peak, and checks that every accepted message was delivered (the
 * relay's postwarden_deliveries_total{outcome="delivered"}).
 *
 *   npm run bench:soak -- --messages 1000000 [--lanes 20] [--retention 1m] [--backlog 2000]
 *                         [--upstream capture|sink]
 *
 * `--upstream capture` (the default, as shipped) keeps every message as files until
 * retention deletes them; `sink` relays over SMTP to the benchmarks' counting sink, which
 * also counts what arrived per Subject (every message's is unique), so "every message
 * delivered" is checked at the receiving end too, and the run is not bound by the
 * capture folder's file writes.
 *
 * The sender pauses while more than --backlog accepted messages wait for delivery: one
 * process accepts about 2.5× faster than it delivers on 2 cores, so unpaced the run
 * measures a growing backlog (every queued message is kept, by design), not whether
 * history stays flat under retention.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createKeys } from '../src/redis/keys.js';
import { freeRelayPorts, relayEnv, tempDataDir } from '../test/support/relay-env.js';
import { runRelayCommand, spawnRelay, waitForReady } from '../test/support/relay-process.js';
import { type CountingSink, startCountingSink } from './lib/counting-sink.js';
import { startBenchRedis } from './lib/redis-server.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '1000000' },
    lanes: { type: 'string', default: '20' },
    retention: { type: 'string', default: '1m' },
    'sample-every': { type: 'string', default: '5000' },
    backlog: { type: 'string', default: '2000' },
    upstream: { type: 'string', default: 'capture' },
  },
});
const total = Number(values.messages);
const lanes = Number(values.lanes);
const sampleEveryMs = Number(values['sample-every']);
const maxBacklog = Number(values.backlog);

const redis = await startBenchRedis();
const client = new Redis({ path: redis.socket, maxRetriesPerRequest: null });
const data = tempDataDir('pw-soak-');
const ports = await freeRelayPorts();
if (values.upstream !== 'capture' && values.upstream !== 'sink') {
  throw new Error('--upstream is capture or sink');
}
const sink: CountingSink | undefined =
  values.upstream === 'sink' ? await startCountingSink() : undefined;
const env = relayEnv(
  { dataDir: data.dir, ports, redisUrl: redis.url, upstreamUrl: sink?.url },
  { POSTWARDEN_RETENTION: values.retention ?? '1m', POSTWARDEN_HOLD_ABOVE: '0', LOG_LEVEL: 'warn' },
);
const relay = spawnRelay(['start'], env);
const samples: { at: number; bytes: number }[] = [];
const startedAt = Date.now();
const sample = async () => {
  const info = await client.info('memory');
  samples.push({ at: Date.now() - startedAt, bytes: Number(/used_memory:(\d+)/.exec(info)?.[1]) });
};
const sampler = setInterval(() => void sample().catch(() => {}), sampleEveryMs);
const httpUrl = `http://127.0.0.1:${ports.http}`;

async function deliveredSoFar(): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  return Number(/postwarden_deliveries_total\{outcome="delivered"\} (\d+)/.exec(text)?.[1] ?? 0);
}

try {
  await waitForReady(ports.http, 30_000);
  await sample();
  const created = await runRelayCommand(
    ['credentials', 'create', 'soak', '--allow-from', '*@example.com', '--json'],
    env,
  );
  if (created.code !== 0) throw new Error(`credential: ${created.stderr}`);
  const { secret } = JSON.parse(created.stdout) as { secret: string };
  let next = 0;
  let accepted = 0;
  let delivered = 0;
  // One scrape shared by every waiting lane, at most every 200 ms.
  let scrape: Promise<void> | undefined;
  const waitForDeliveries = () => {
    scrape ??= new Promise((resolve) => setTimeout(resolve, 200))
      .then(deliveredSoFar)
      .then((count) => {
        delivered = count;
      })
      .finally(() => {
        scrape = undefined;
      });
    return scrape;
  };
  let refused = 0;
  const sendStart = Date.now();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let n = next++; n < total; n = next++) {
        while (accepted - delivered > maxBacklog) await waitForDeliveries();
        const response = await fetch(`${httpUrl}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            from: 'shop@example.com',
            to: [`r${n % 5000}@example.net`],
            subject: `soak ${n}`,
            text: 'x'.repeat(1500),
          }),
        });
        await response.arrayBuffer();
        if (response.status === 202) accepted++;
        else refused++;
        if ((accepted + refused) % 10_000 === 0) {
          console.log(
            `sent ${accepted + refused} (${refused} refused), ${((Date.now() - sendStart) / 1000).toFixed(0)} s`,
          );
        }
      }
    }),
  );
  const sendSeconds = (Date.now() - sendStart) / 1000;
  console.log(`accepted ${accepted}, refused ${refused} in ${sendSeconds.toFixed(0)} s`);
  for (;;) {
    if ((await deliveredSoFar()) >= accepted) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  delivered = await deliveredSoFar();
  console.log(`delivered ${delivered} of ${accepted}; waiting for retention to empty the history`);
  const keys = createKeys();
  const emptyBy = Date.now() + 5 * 60_000;
  for (;;) {
    const counts = Object.values(await client.hgetall(keys.statusCounts())).map(Number);
    if (counts.every((n) => n === 0) || Date.now() > emptyBy) break;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  await sample();
  const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
  const first = samples[0]?.bytes ?? 0;
  const last = samples.at(-1)?.bytes ?? 0;
  const peak = Math.max(...samples.map((s) => s.bytes));
  console.log(
    `\nmessages ${total}: accepted ${accepted}, delivered ${delivered}${delivered === accepted ? ' (all)' : ' — NOT ALL'}`,
  );
  console.log(
    `Redis used_memory: first ${mb(first)}, last ${mb(last)}, peak ${mb(peak)} (${samples.length} samples)`,
  );
  console.log(
    `status counts at the end: ${JSON.stringify(await client.hgetall(keys.statusCounts()))}`,
  );
  if (delivered !== accepted) process.exitCode = 1;
  if (sink) {
    const duplicates = [...sink.counts.values()].filter((count) => count > 1).length;
    console.log(
      `at the sink: ${sink.subjects.length} messages, ${sink.counts.size} distinct subjects, ${duplicates} received more than once`,
    );
    if (sink.counts.size !== accepted) process.exitCode = 1;
  }
} finally {
  clearInterval(sampler);
  client.disconnect();
  await relay.kill('SIGTERM');
  await redis.cleanup();
  await sink?.close();
  data.remove();
}
