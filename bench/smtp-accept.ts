/**
 * First SMTP accept-rate benchmark (issue: the relay spine): a spawned relay on its own
 * redis-server (AOF, appendfsync always, durability=fsync) relaying to a counting sink;
 * 20 persistent SMTP connections with STARTTLS and AUTH PLAIN each send 2 KB messages
 * back to back for a fixed time. Prints messages/s accepted and accept latency
 * percentiles, median of several runs.
 *
 *   npm run build && npm run bench -- [--seconds 10] [--runs 3] [--connections 20] [--size 2048]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import { createKeys } from '../src/redis/keys.js';
import { CredentialStore } from '../src/security/credentials/store.js';
import { startCountingSink } from '../test/support/counting-sink.js';
import { bodyOfSize } from '../test/support/load-clients.js';
import { startTestRedis } from '../test/support/redis.js';
import { freePort, spawnRelay, waitForReady } from '../test/support/relay-process.js';
import { waitUntil } from '../test/support/wait-until.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    connections: { type: 'string', default: '20' },
    size: { type: 'string', default: '2048' },
  },
});
const seconds = Number(values.seconds);
const runs = Number(values.runs);
const connections = Number(values.connections);
const size = Number(values.size);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const median = (list: number[]) =>
  [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;

async function runOnce(run: number) {
  const redisServer = await startTestRedis();
  const sink = await startCountingSink();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pw-bench-'));
  const ports = { http: await freePort(), smtp: await freePort() };
  const redis = new Redis({ path: redisServer.socket });
  const { secret } = await new CredentialStore(redis, createKeys()).create({
    name: 'bench',
    allowFrom: ['*@example.com'],
  });
  redis.disconnect();
  const relay = spawnRelay(['start'], {
    REDIS_URL: redisServer.url,
    POSTWARDEN_DATA_DIR: dataDir,
    POSTWARDEN_HTTP_PORT: String(ports.http),
    POSTWARDEN_SMTP_PORT: String(ports.smtp),
    POSTWARDEN_SMTPS_PORT: '0',
    POSTWARDEN_UPSTREAM_URL: sink.url,
    POSTWARDEN_ADMIN_PASSWORD: 'bench-admin',
    LOG_LEVEL: 'warn',
  });
  await waitForReady(ports.http);
  const text = bodyOfSize(size);
  const latencies: number[] = [];
  let accepted = 0;
  let failed = 0;
  const deadline = Date.now() + seconds * 1000;
  const startedAt = Date.now();
  await Promise.all(
    Array.from({ length: connections }, async (_, index) => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: ports.smtp,
        secure: false,
        requireTLS: true,
        pool: true,
        maxConnections: 1,
        maxMessages: Number.POSITIVE_INFINITY,
        auth: { user: 'bench', pass: secret },
        tls: { rejectUnauthorized: false },
      });
      let n = 0;
      while (Date.now() < deadline) {
        const began = performance.now();
        try {
          await transport.sendMail({
            from: 'bench@example.com',
            to: 'sink@example.net',
            subject: `bench ${index}-${n++}`,
            text,
          });
          latencies.push(performance.now() - began);
          accepted++;
        } catch {
          failed++;
        }
      }
      transport.close();
    }),
  );
  const elapsed = (Date.now() - startedAt) / 1000;
  await waitUntil(
    () => sink.messages.length >= accepted,
    120_000,
    'the sink to receive every accepted message',
    100,
  );
  const drainedAt = (Date.now() - startedAt) / 1000;
  latencies.sort((a, b) => a - b);
  const result = {
    run,
    accepted,
    failed,
    acceptPerSecond: accepted / elapsed,
    endToEndPerSecond: accepted / drainedAt,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    delivered: sink.messages.length,
  };
  await relay.kill('SIGTERM');
  await sink.close();
  await redisServer.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
  return result;
}

const results = [];
for (let run = 1; run <= runs; run++) {
  const result = await runOnce(run);
  results.push(result);
  console.log(
    `run ${run}: ${result.accepted} accepted (${result.failed} failed) in ${seconds}s → ${result.acceptPerSecond.toFixed(0)} msg/s accepted, ${result.endToEndPerSecond.toFixed(0)} msg/s end-to-end, p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, delivered ${result.delivered}`,
  );
}
console.log(
  `median of ${runs} (connections ${connections}, ${size} B, AUTH PLAIN over STARTTLS, fsync): ` +
    `${median(results.map((r) => r.acceptPerSecond)).toFixed(0)} msg/s accepted, ` +
    `${median(results.map((r) => r.endToEndPerSecond)).toFixed(0)} msg/s end-to-end, ` +
    `p50 ${median(results.map((r) => r.p50)).toFixed(1)} ms, p99 ${median(results.map((r) => r.p99)).toFixed(1)} ms`,
);
