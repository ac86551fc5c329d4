/**
 * `node --import tsx bench/forms.ts [--seconds 5] [--reps 3] [--connections 20]` (issue 12):
 * lead form submissions per second (urlencoded, ~1 KB, no redirect: 200 thank-you page)
 * beside POST /v1/messages (JSON, ~1 KB, 202) on the same relay in the same run,
 * alternating which goes first. The relay is `dist/main.js start` (all roles, durability
 * fsync) on its own redis-server, delivering to the counting sink. `npm run build` first.
 */
import { parseArgs } from 'node:util';
import { createKeys } from '../src/redis/keys.js';
import { generateSelfSignedPair } from '../src/runtime/tls.js';
import { FormStore } from '../src/security/forms/form-store.js';
import { startCountingSink } from './lib/counting-sink.js';
import { runHttpLoad } from './load/http-load.js';
import { startRelay } from './systems/relay.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    reps: { type: 'string', default: '3' },
    connections: { type: 'string', default: '20' },
  },
});
const durationMs = Number(values.seconds) * 1000;
const reps = Number(values.reps);
const concurrency = Number(values.connections);
const ORIGIN = 'https://www.example.com';
const BYTES = 1024;

/** A ~1 KB urlencoded lead: name, email, a message filling the rest. */
function leadBody(token: string): string {
  const head = new URLSearchParams({ name: 'Bench Lead', email: 'lead@example.org', token });
  const filler = 'x'.repeat(Math.max(1, BYTES - head.toString().length - 9));
  return `${head.toString()}&message=${filler}`;
}

const sink = await startCountingSink();
const tls = await generateSelfSignedPair(['localhost', '127.0.0.1']);
let formId = '';
const relay = await startRelay({
  sinkUrl: sink.url,
  tls,
  prepare: async (redis) => {
    const form = await new FormStore(redis, createKeys()).create({
      name: 'bench',
      to: ['sink@example.net'],
      origins: [ORIGIN],
      ratePerMinute: 100_000,
    });
    formId = form.id;
  },
});
const port = relay.httpPort ?? 0;
const cells = {
  'POST /v1/messages (JSON 1 KB)': (tag: string) =>
    runHttpLoad({
      port,
      path: '/v1/messages',
      token: relay.password,
      concurrency,
      messageBytes: BYTES,
      durationMs,
      tag,
    }),
  'POST /v1/forms/:id (urlencoded 1 KB)': (tag: string) =>
    runHttpLoad({
      port,
      path: `/v1/forms/${formId}`,
      token: '',
      concurrency,
      messageBytes: BYTES,
      durationMs,
      tag,
      custom: {
        headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        body: leadBody,
        okStatus: 200,
      },
    }),
};
const rates = new Map<string, number[]>();
try {
  for (let rep = 0; rep < reps; rep++) {
    const order = Object.entries(cells);
    if (rep % 2 === 1) order.reverse();
    for (const [name, run] of order) {
      const result = await run(`r${rep}`);
      const seconds = (result.endedAt - result.startedAt) / 1000;
      const rate = result.accepted / seconds;
      rates.set(name, [...(rates.get(name) ?? []), rate]);
      const failed = result.failed
        ? ` (failed ${result.failed}: ${JSON.stringify(result.errors)})`
        : '';
      console.log(`rep ${rep + 1}  ${name}: ${rate.toFixed(0)}/s${failed}`);
    }
  }
} finally {
  await relay.stop();
  await sink.close();
}
console.log(
  `\nmedian of ${reps} × ${values.seconds} s, ${concurrency} keep-alive clients (indicative: shared machine)`,
);
for (const [name, list] of rates) {
  const sorted = [...list].sort((a, b) => a - b);
  console.log(`  ${name}: ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)}/s`);
}
