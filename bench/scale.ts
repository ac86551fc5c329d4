/**
 * `node --import tsx bench/scale.ts [--reps 3] [--messages 3000] [--seconds 5]` (issue 15):
 * how delivery and intake scale with processes on one Redis (AOF, appendfsync always).
 * Delivery: a backlog of `--messages` 1 KB messages is queued with no worker running,
 * then 1, 2 or 4 `--role worker` processes drain it to the counting sink; the figure is
 * messages delivered per second between the first and the last delivery. Intake: 1 or 2
 * `--role intake` processes (no worker) take HTTP load from 20 connections spread over
 * them. Median of `--reps`. `npm run build` first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createKeys } from '../src/redis/keys.js';
import { CredentialStore } from '../src/security/credentials/store.js';
import { startCountingSink } from './lib/counting-sink.js';
import { freePort, waitUntil } from './lib/ports.js';
import { startBenchRedis } from './lib/redis-server.js';
import { median } from './lib/stats.js';
import { runHttpLoad } from './load/http-load.js';
import { MAIN_JS, startChild } from './systems/relay.js';

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    messages: { type: 'string', default: '3000' },
    seconds: { type: 'string', default: '5' },
  },
});
const reps = Number(values.reps);
const backlog = Number(values.messages);
const durationMs = Number(values.seconds) * 1000;

async function ready(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

/** One Redis, one sink, a credential; processes started on demand, all stopped at the end. */
async function world() {
  const redis = await startBenchRedis();
  const sink = await startCountingSink();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pw-bench-scale-'));
  const client = new Redis({ path: redis.socket });
  const { secret } = await new CredentialStore(client, createKeys()).create({
    name: 'bench',
    allowFrom: ['*@example.com'],
    holdAbove: 0,
  });
  client.disconnect();
  const children: ReturnType<typeof startChild>[] = [];
  const start = async (role: 'intake' | 'worker') => {
    const http = await freePort();
    const env = {
      REDIS_URL: redis.url,
      POSTWARDEN_DATA_DIR: dataDir,
      POSTWARDEN_HTTP_PORT: String(http),
      POSTWARDEN_SMTP_PORT: String(await freePort()),
      POSTWARDEN_SMTPS_PORT: '0',
      POSTWARDEN_UPSTREAM_URL: sink.url,
      POSTWARDEN_ADMIN_PASSWORD: 'bench-admin-password',
      LOG_LEVEL: 'warn',
    };
    const child = startChild(env, [MAIN_JS, 'start', '--role', role]);
    children.push(child);
    await waitUntil(() => ready(http), 30_000, `a ${role} on port ${http}`);
    return http;
  };
  return {
    sink,
    secret,
    start,
    async stop() {
      await Promise.all(children.map((child) => child.kill('SIGTERM')));
      await sink.close();
      await redis.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Queue the backlog through one intake, then let `workers` processes drain it. */
async function deliveryRate(workers: number): Promise<number> {
  const w = await world();
  try {
    const intake = await w.start('intake');
    const loaded = await runHttpLoad({
      port: intake,
      path: '/v1/messages',
      token: w.secret,
      concurrency: 20,
      messageBytes: 1024,
      durationMs: 600_000,
      maxMessages: backlog,
      tag: `scale-${workers}`,
    });
    if (loaded.accepted < backlog) throw new Error(`only ${loaded.accepted} queued`);
    const seen: number[] = [];
    const watch = setInterval(() => seen.push(Date.now(), w.sink.subjects.length), 20);
    await Promise.all(Array.from({ length: workers }, () => w.start('worker')));
    await waitUntil(() => w.sink.subjects.length >= backlog, 300_000, 'the backlog delivered', 20);
    clearInterval(watch);
    // First and last sample with deliveries: worker start-up is not part of the rate.
    let first = 0;
    for (let i = 1; i < seen.length; i += 2) {
      if ((seen[i] ?? 0) > 0) {
        first = seen[i - 1] ?? 0;
        break;
      }
    }
    const seconds = (Date.now() - first) / 1000;
    return (backlog - 1) / Math.max(seconds, 0.001);
  } finally {
    await w.stop();
  }
}

/** HTTP load spread over `intakes` processes (no worker: accepting only). */
async function intakeRate(intakes: number): Promise<number> {
  const w = await world();
  try {
    const ports = await Promise.all(Array.from({ length: intakes }, () => w.start('intake')));
    const results = await Promise.all(
      ports.map((port, index) =>
        runHttpLoad({
          port,
          path: '/v1/messages',
          token: w.secret,
          concurrency: Math.round(20 / intakes),
          messageBytes: 1024,
          durationMs,
          tag: `intake-${intakes}-${index}`,
        }),
      ),
    );
    const accepted = results.reduce((sum, result) => sum + result.accepted, 0);
    return accepted / (durationMs / 1000);
  } finally {
    await w.stop();
  }
}

const rows: string[] = [];
for (const workers of [1, 2, 4]) {
  const rates: number[] = [];
  for (let rep = 0; rep < reps; rep++) rates.push(await deliveryRate(workers));
  rows.push(
    `| delivery, ${workers} worker process(es) | ${Math.round(median(rates))} | ${rates.map(Math.round).join(', ')} |`,
  );
}
for (const intakes of [1, 2]) {
  const rates: number[] = [];
  for (let rep = 0; rep < reps; rep++) rates.push(await intakeRate(intakes));
  rows.push(
    `| HTTP intake, ${intakes} intake process(es) | ${Math.round(median(rates))} | ${rates.map(Math.round).join(', ')} |`,
  );
}
console.log(`| what | msg/s (median of ${reps}) | runs |\n|---|---:|---|\n${rows.join('\n')}`);
console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg()[0]?.toFixed(1)}`);
