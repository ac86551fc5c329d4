/**
 * Memory under large messages (issue 11 item 3): a spawned relay (`node dist/main.js
 * start`, all roles in one process) on its own redis-server relaying to the counting sink,
 * with POSTWARDEN_MAX_INFLIGHT_BYTES set. Three measurements of the relay process's RSS
 * (VmRSS sampled from /proc/PID/status every 20 ms, and VmHWM):
 *
 *   1. N concurrent authenticated SMTP clients × 24 MiB at once (default 60);
 *   2. M concurrent clients × 25 MB at once (default 200);
 *   3. delivery of one 25 MB message on its own (delivery paused while it is accepted,
 *      then resumed): RSS growth ÷ size;
 *   4. K concurrent HTTP clients (default 40) each POSTing /v1/messages at once: JSON of
 *      ~23 MB, most of it one base64 attachment (the heaviest body the API parses:
 *      the JSON text, the parsed string, the decoded attachment and the composed MIME).
 *
 * For 1 and 2 it reports the baseline, the peak, the budget, the 250 / 452 replies (and
 * anything else), and checks that every message answered 250 reached the sink (its
 * Subject is unique). Goal: peak ≤ budget + baseline. Half the clients declare SIZE=
 * (refused at MAIL FROM when it does not fit), half do not (refused after DATA). Clients
 * come from several loopback addresses (127.0.0.2, …): the relay allows 50 connections per
 * address. Cleartext AUTH on loopback (as the relay allows): TLS would only add CPU here.
 *
 *   npm run bench:memory -- [--budget 268435456] [--clients 60] [--many 200] [--skip-many]
 *                            [--http 40] [--only-http]
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { parseArgs, promisify } from 'node:util';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { generateSelfSignedPair } from '../src/runtime/tls.js';
import { startCountingSink } from './lib/counting-sink.js';
import { waitUntil } from './lib/ports.js';
import { MAIN_JS, startRelay } from './systems/relay.js';

const { values } = parseArgs({
  options: {
    budget: { type: 'string', default: '268435456' },
    clients: { type: 'string', default: '60' },
    many: { type: 'string', default: '200' },
    'skip-many': { type: 'boolean', default: false },
    http: { type: 'string', default: '40' },
    'only-http': { type: 'boolean', default: false },
  },
});
const budget = Number(values.budget);
const MiB = 1024 * 1024;

/** VmRSS and VmHWM of one process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

/** Sample the RSS every 20 ms until stopped; the peak seen (and VmHWM at the end). */
function sampleRss(pid: number) {
  let peak = memoryOf(pid).rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, memoryOf(pid).rss);
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      const now = memoryOf(pid);
      return { peak: Math.max(peak, now.rss), hwm: now.hwm, now: now.rss };
    },
  };
}

/** One body shared by every client: lines of text, streamed after each client's head. */
const LINE = Buffer.from('The quick brown fox jumps over the lazy dog. 0123456789 abcdefghij\r\n');
const PIECE = Buffer.concat(Array.from({ length: Math.ceil(MiB / LINE.length) }, () => LINE));

function messageStream(subject: string, bytes: number): Readable {
  const head = Buffer.from(
    `From: bench@example.com\r\nTo: sink@example.net\r\nSubject: ${subject}\r\n\r\n`,
  );
  return Readable.from(
    (function* () {
      yield head;
      let left = bytes - head.length;
      while (left > 0) {
        const piece = PIECE.subarray(0, Math.min(PIECE.length, left));
        left -= piece.length;
        yield piece;
      }
    })(),
  );
}

type Outcome = { code: number; subject: string };

/** One authenticated client sending one message; the reply code it got (0 = no reply). */
function sendOne(
  relay: { smtpPort?: number; user: string; password: string },
  index: number,
  subject: string,
  bytes: number,
): Promise<Outcome> {
  const connection = new SMTPConnection({
    host: '127.0.0.1',
    port: relay.smtpPort ?? 0,
    localAddress: `127.0.0.${2 + Math.floor(index / 40)}`,
    ignoreTLS: true,
    connectionTimeout: 60_000,
    socketTimeout: 300_000,
  });
  const end = (code: number): Outcome => {
    connection.quit();
    return { code, subject };
  };
  return new Promise<Outcome>((resolve) => {
    connection.on('error', () => {});
    connection.connect((connectError) => {
      if (connectError) return resolve(end(0));
      connection.login({ user: relay.user, pass: relay.password }, (loginError) => {
        if (loginError) return resolve(end(loginError.responseCode ?? 0));
        const envelope = {
          from: 'bench@example.com',
          to: ['sink@example.net'],
          // Every other client declares its size: refused at MAIL FROM when it cannot fit.
          ...(index % 2 === 0 ? { size: bytes } : {}),
        };
        connection.send(envelope, messageStream(subject, bytes), (error) =>
          resolve(end(error ? (error.responseCode ?? 0) : 250)),
        );
      });
    });
  });
}

/** What one burst sends and what its replies mean. */
interface BurstPlan {
  label: string;
  /** e.g. `60 clients × 25.2 MB` */
  description: string;
  /** The reply that means "queued" (250 / 202) and the one that means "busy" (452 / 503). */
  accepted: number;
  busy: number;
  send: (index: number, subject: string) => Promise<Outcome>;
}

/**
 * `clients` sends at once, the relay's RSS sampled throughout; then every accepted one
 * must reach the sink (its Subject is unique), and the figures are printed.
 */
async function measuredBurst(
  relay: Awaited<ReturnType<typeof startRelay>>,
  sink: Awaited<ReturnType<typeof startCountingSink>>,
  pid: number,
  clients: number,
  plan: BurstPlan,
) {
  const baseline = memoryOf(pid).rss;
  const sampler = sampleRss(pid);
  const started = Date.now();
  const outcomes = await Promise.all(
    Array.from({ length: clients }, (_, i) => plan.send(i, `${plan.label}-${i}`)),
  );
  const seconds = (Date.now() - started) / 1000;
  const accepted = outcomes.filter((o) => o.code === plan.accepted);
  // Nothing accepted is lost: every accepted message reaches the sink.
  await waitUntil(
    () => accepted.every((o) => sink.counts.has(o.subject)),
    600_000,
    `every accepted ${plan.label} message at the sink`,
    200,
  );
  const memory = sampler.stop();
  const codes = new Map<number, number>();
  for (const { code } of outcomes) codes.set(code, (codes.get(code) ?? 0) + 1);
  const lost = accepted.filter((o) => !sink.counts.has(o.subject)).length;
  const mb = (n: number) => `${(n / MiB).toFixed(0)} MiB`;
  console.log(
    `${plan.label}: ${plan.description} in ${seconds.toFixed(1)} s — ` +
      `replies ${[...codes].map(([code, n]) => `${code}×${n}`).join(', ')}; ` +
      `RSS baseline ${mb(baseline)}, peak ${mb(memory.peak)} (VmHWM ${mb(memory.hwm)}), ` +
      `budget ${mb(budget)}, peak − baseline ${mb(memory.peak - baseline)} ` +
      `${memory.peak <= baseline + budget ? '≤' : '>'} budget; accepted lost: ${lost}`,
  );
  const other = [...codes.keys()].filter((code) => code !== plan.accepted && code !== plan.busy);
  if (other.length > 0) console.log(`relay log tail:\n${relay.output().slice(-3000)}`);
  return { baseline, ...memory, codes, lost };
}

function smtpBurst(
  relay: Awaited<ReturnType<typeof startRelay>>,
  label: string,
  clients: number,
  bytes: number,
): BurstPlan {
  return {
    label,
    description: `${clients} clients × ${(bytes / 1e6).toFixed(1)} MB`,
    accepted: 250,
    busy: 452,
    send: (index, subject) => sendOne(relay, index, subject, bytes),
  };
}

/** ~17.5 MB of attachment, base64: one string shared by every HTTP client. */
const ATTACHMENT_BASE64 = Buffer.concat(
  Array.from({ length: Math.ceil(17_500_000 / PIECE.length) }, () => PIECE),
)
  .subarray(0, 17_500_000)
  .toString('base64');

/** One POST /v1/messages with a ~23 MB JSON body; its HTTP status (0 = no answer). */
async function postOne(
  relay: { httpPort?: number | undefined; password: string },
  index: number,
  subject: string,
): Promise<Outcome> {
  const body = JSON.stringify({
    from: 'bench@example.com',
    to: ['sink@example.net'],
    subject,
    text: 'see the attachment',
    attachments: [{ filename: `report-${index}.txt`, content: ATTACHMENT_BASE64 }],
  });
  try {
    const response = await fetch(`http://127.0.0.1:${relay.httpPort ?? 0}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${relay.password}`, 'content-type': 'application/json' },
      body,
    });
    await response.arrayBuffer();
    return { code: response.status, subject };
  } catch {
    return { code: 0, subject };
  }
}

function httpBurst(relay: Awaited<ReturnType<typeof startRelay>>, clients: number): BurstPlan {
  return {
    label: 'http-burst',
    description: `${clients} clients × ~23 MB JSON`,
    accepted: 202,
    busy: 503,
    send: (index, subject) => postOne(relay, index, subject),
  };
}

/** `postwarden pause|resume` against the relay's Redis (the kill switch). */
async function deliverySwitch(redisUrl: string, command: 'pause' | 'resume') {
  await promisify(execFile)(process.execPath, [MAIN_JS, command], {
    env: { ...process.env, REDIS_URL: redisUrl, LOG_LEVEL: 'silent' },
  });
}

async function singleDelivery(
  relay: Awaited<ReturnType<typeof startRelay>>,
  sink: Awaited<ReturnType<typeof startCountingSink>>,
  pid: number,
) {
  const bytes = 25_000_000;
  await deliverySwitch(relay.redisUrl, 'pause');
  const { code } = await sendOne(relay, 0, 'single-delivery', bytes);
  if (code !== 250) throw new Error(`the single 25 MB message got ${code}`);
  // Let the intake's garbage go before the baseline (GC runs on allocation; give it time).
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const baseline = memoryOf(pid).rss;
  const sampler = sampleRss(pid);
  await deliverySwitch(relay.redisUrl, 'resume');
  await waitUntil(() => sink.counts.has('single-delivery'), 120_000, 'the single delivery', 20);
  const memory = sampler.stop();
  const growth = memory.peak - baseline;
  console.log(
    `single delivery: 25 MB message, RSS baseline ${(baseline / MiB).toFixed(0)} MiB, ` +
      `peak ${(memory.peak / MiB).toFixed(0)} MiB: growth ${(growth / MiB).toFixed(1)} MiB = ` +
      `${(growth / bytes).toFixed(2)}× its size`,
  );
}

const tls = await generateSelfSignedPair(['localhost', '127.0.0.1']);
const sink = await startCountingSink();
const relay = await startRelay({
  sinkUrl: sink.url,
  tls,
  env: { POSTWARDEN_MAX_INFLIGHT_BYTES: String(budget) },
});
const [pid] = relay.pids();
try {
  if (!pid) throw new Error('no relay process');
  // Warm up: one small message through intake and delivery, so the baseline is a running relay.
  const warm = await sendOne(relay, 0, 'warm-up', 2048);
  if (warm.code !== 250) throw new Error(`warm-up message got ${warm.code}`);
  await waitUntil(() => sink.counts.has('warm-up'), 30_000, 'warm-up delivered', 50);
  console.log(`relay pid ${pid}, idle RSS ${(memoryOf(pid).rss / MiB).toFixed(0)} MiB`);
  if (!values['only-http']) {
    const clients = Number(values.clients);
    await measuredBurst(
      relay,
      sink,
      pid,
      clients,
      smtpBurst(relay, 'burst-24MiB', clients, 24 * MiB),
    );
    const many = Number(values.many);
    if (!values['skip-many'])
      await measuredBurst(relay, sink, pid, many, smtpBurst(relay, 'burst-25MB', many, 25_000_000));
    await singleDelivery(relay, sink, pid);
  }
  const http = Number(values.http);
  if (http > 0) await measuredBurst(relay, sink, pid, http, httpBurst(relay, http));
} finally {
  await relay.stop();
  await sink.close();
}
