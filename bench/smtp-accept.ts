/**
 * First SMTP accept-rate benchmark (issue: the relay spine): a spawned relay on its own
 * redis-server (AOF, appendfsync always, durability=fsync) relaying to a counting sink;
 * 20 persistent SMTP connections with STARTTLS and AUTH PLAIN each send 2 KB messages
 * back to back for a fixed time. Prints messages/s accepted and accept latency
 * percentiles, median of several runs.
 *
 *   npm run build && npm run bench -- [--seconds 10] [--runs 3] [--connections 20] [--size 2048]
 */
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { generateSelfSignedPair } from '../src/runtime/tls.js';
import { startCountingSink } from './lib/counting-sink.js';
import { waitUntil } from './lib/ports.js';
import { median, percentile } from './lib/stats.js';
import { bodyText } from './load/message.js';
import { startRelay } from './systems/relay.js';

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

const tls = await generateSelfSignedPair(['localhost', '127.0.0.1']);

async function runOnce(run: number) {
  const sink = await startCountingSink();
  const relay = await startRelay({ sinkUrl: sink.url, tls });
  const text = bodyText(size);
  const latencies: number[] = [];
  let accepted = 0;
  let failed = 0;
  const deadline = Date.now() + seconds * 1000;
  const startedAt = Date.now();
  await Promise.all(
    Array.from({ length: connections }, async (_, index) => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: relay.smtpPort,
        secure: false,
        requireTLS: true,
        pool: true,
        maxConnections: 1,
        maxMessages: Number.POSITIVE_INFINITY,
        auth: { user: relay.user, pass: relay.password },
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
    () => sink.subjects.length >= accepted,
    120_000,
    'the sink to receive every accepted message',
    100,
  );
  const drainedAt = (Date.now() - startedAt) / 1000;
  const result = {
    run,
    accepted,
    failed,
    acceptPerSecond: accepted / elapsed,
    endToEndPerSecond: accepted / drainedAt,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    delivered: sink.subjects.length,
  };
  await relay.stop();
  await sink.close();
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
