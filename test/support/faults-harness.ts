import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createKeys } from '../../src/redis/keys.js';
import { CredentialStore } from '../../src/security/credentials/store.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { bodyOfSize, type Credentials, sendHttp, sendSmtp } from './load-clients.js';
import { startTestRedis, type TestRedis } from './redis.js';
import { freePort, freeRelayPorts, type RelayPorts, relayEnv, tempDataDir } from './relay-env.js';
import { type RelayProcess, spawnRelay, waitForRelay } from './relay-process.js';
import { waitUntil } from './wait-until.js';

export type Role = 'all' | 'intake' | 'worker';

/**
 * One fault-suite world: a throwaway redis-server, a credential, free ports and a data dir,
 * and spawned relays (`node dist/main.js start --role ...`) pointed at `upstreamUrl`.
 * Every relay it starts is killed in `cleanup()`.
 */
export interface FaultWorld {
  redis: TestRedis;
  credentials: Credentials;
  ports: RelayPorts;
  upstreamUrl: string;
  startRelay(role: Role, extraEnv?: Record<string, string>): Promise<RelayProcess>;
  /** Replace the Redis handle after stop()/kill() + restart(). */
  restartRedis(): Promise<void>;
  /** Send one message whose Subject is `token`; resolves with the ack (HTTP id when 202). */
  send(token: string, protocol: 'smtp' | 'http'): Promise<{ acked: boolean; id?: string }>;
  /** GET /v1/messages/:id with the credential (undefined when unreachable). */
  messageStatus(id: string): Promise<string | undefined>;
  /** BullMQ's state of the delivery job for message `id` ('unknown' when there is none). */
  jobState(id: string): Promise<string>;
  /** Delivery jobs not finished yet (waiting + active + delayed + prioritized). */
  pendingJobs(): Promise<number>;
  cleanup(): Promise<void>;
}

export async function startFaultWorld(upstreamUrl: string): Promise<FaultWorld> {
  const data = tempDataDir('pw-faults-');
  const ports = await freeRelayPorts();
  const relays = new Set<RelayProcess>();
  const world: FaultWorld = {
    redis: await startTestRedis(),
    credentials: { name: '', secret: '' },
    ports,
    upstreamUrl,
    async startRelay(role, extraEnv = {}) {
      // Every role listens on HTTP (/healthz, /readyz, /metrics): a worker gets its own
      // port, so it never clashes with the intake or with another worker.
      const http = role === 'worker' ? await freePort() : ports.http;
      const env = relayEnv(
        {
          dataDir: data.dir,
          ports: { ...ports, http },
          redisUrl: world.redis.url,
          upstreamUrl: world.upstreamUrl,
          fastRetry: true,
          adminPassword: 'faults-admin-password',
        },
        extraEnv,
      );
      const relay = spawnRelay(['start', '--role', role], env);
      relays.add(relay);
      void relay.exited.then(() => relays.delete(relay));
      await waitForRelay(relay, http);
      return relay;
    },
    async restartRedis() {
      world.redis = await world.redis.restart();
    },
    async send(token, protocol) {
      const mail = {
        from: 'load@example.com',
        to: ['rcpt@example.net'],
        subject: token,
        text: bodyOfSize(2048),
      };
      try {
        if (protocol === 'smtp') {
          const reply = await sendSmtp(ports.smtp, world.credentials, mail);
          const id = /queued as (\S+)/.exec(reply)?.[1];
          return reply.startsWith('250')
            ? { acked: true, ...(id ? { id } : {}) }
            : { acked: false };
        }
        const { status, body } = await sendHttp(ports.http, world.credentials, mail);
        return status === 202 ? { acked: true, id: String(body.id) } : { acked: false };
      } catch {
        return { acked: false };
      }
    },
    async messageStatus(id) {
      try {
        const response = await fetch(`http://127.0.0.1:${ports.http}/v1/messages/${id}`, {
          headers: { authorization: `Bearer ${world.credentials.secret}` },
          signal: AbortSignal.timeout(5000),
        });
        if (response.status !== 200) return `http ${response.status}`;
        const body = (await response.json()) as { status?: unknown };
        return String(body.status);
      } catch {
        return undefined;
      }
    },
    jobState: (id) => withQueue(world.redis.socket, (queue) => queue.getJobState(id)),
    pendingJobs: () =>
      withQueue(world.redis.socket, async (queue) => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).reduce((sum, n) => sum + n, 0);
      }),
    async cleanup() {
      await Promise.all([...relays].map((relay) => relay.kill('SIGKILL')));
      await world.redis.cleanup();
      data.remove();
    },
  };
  const client = new Redis({ path: world.redis.socket });
  const created = await new CredentialStore(client, createKeys()).create({
    name: 'faults',
    allowFrom: ['*@example.com'],
    // The fault tests push thousands of messages through one credential: never held by
    // volume (the leak drill makes credentials of its own, on defaults).
    holdAbove: 0,
  });
  client.disconnect();
  world.credentials = { name: 'faults', secret: created.secret };
  return world;
}

/** A short-lived BullMQ handle on the delivery queue, for inspection from the test. */
async function withQueue<T>(socket: string, use: (queue: Queue) => Promise<T>): Promise<T> {
  const keys = createKeys();
  const connection = new Redis({ path: socket, maxRetriesPerRequest: 1 });
  connection.on('error', () => {});
  const queue = new Queue(keys.queueName(), { connection, prefix: keys.queuePrefix() });
  try {
    return await use(queue);
  } finally {
    await queue.close().catch(() => {});
    connection.disconnect();
  }
}

/** A plain fake upstream (the sink) and a fault world relaying to it, for the tests of one file. */
export interface SinkWorld {
  sink: FakeUpstream;
  world: FaultWorld;
}

/**
 * Registers the file's `before` (start the sink, then a world relaying to it) and
 * `after` (the world first, so no relay is still delivering when the sink closes). The
 * fields are set once `before` has run: read them inside tests and hooks.
 */
export function useSinkWorld(sinkOptions: { dataDelayMs?: number } = {}): SinkWorld {
  const fixture = {} as SinkWorld;
  before(async () => {
    fixture.sink = await startFakeUpstream({ mode: 'plain', ...sinkOptions });
    fixture.world = await startFaultWorld(fixture.sink.url);
  });
  after(async () => {
    await fixture.world?.cleanup();
    await fixture.sink?.close();
  });
  return fixture;
}

/**
 * SIGKILL the intake `kills` times at random moments of the traffic. Each round waits
 * until `acknowledged()` has grown by more than `minAcks` since the last restart (so every
 * kill lands while acknowledgements flow), kills within 400 ms, and starts a new intake.
 * Resolves with the intake left running.
 */
export async function killIntakeRepeatedly(
  world: FaultWorld,
  first: RelayProcess,
  kills: number,
  acknowledged: () => number,
  minAcks: number,
): Promise<RelayProcess> {
  let intake = first;
  for (let killed = 0; killed < kills; killed++) {
    const before = acknowledged();
    const current = intake;
    await waitUntil(
      () => acknowledged() > before + minAcks || current.child.exitCode !== null,
      20_000,
      `acknowledgements from the restarted intake (after ${killed} kills)`,
      10,
    );
    assert.equal(current.child.exitCode, null, `intake exited early: ${current.output()}`);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 400));
    await current.kill('SIGKILL');
    intake = await world.startRelay('intake');
  }
  return intake;
}

/**
 * Wait until every token is at the upstream (`delivered` counts arrivals by Subject);
 * resolves with the tokens still missing after `timeoutMs`. A timeout is not an error
 * here: the counts that follow name what is missing, and why.
 */
export async function waitForDelivery(
  tokens: Iterable<string>,
  delivered: Map<string, number>,
  timeoutMs = 120_000,
): Promise<string[]> {
  const expected = [...tokens];
  const missing = () => expected.filter((token) => !delivered.has(token));
  await waitUntil(
    () => missing().length === 0,
    timeoutMs,
    'every acknowledged message at the upstream',
    200,
  ).catch(() => undefined);
  return missing();
}

/** As waitForDelivery, and then until no delivery job is pending either. */
export async function waitForQuiet(
  world: FaultWorld,
  tokens: Iterable<string>,
  delivered: Map<string, number>,
): Promise<void> {
  await waitForDelivery(tokens, delivered);
  await waitUntil(
    async () => (await world.pendingJobs()) === 0,
    30_000,
    'an empty queue',
    200,
  ).catch(() => undefined);
}

/**
 * Evidence for a loss: each missing token's message id, its status as the API reports it,
 * and its BullMQ job state (at most `limit` lines, printed as `# name missing ...`).
 */
export async function explainMissing(
  world: FaultWorld,
  name: string,
  missing: string[],
  ids: Map<string, string>,
  limit = 10,
): Promise<void> {
  for (const token of missing.slice(0, limit)) {
    const id = ids.get(token);
    const status = id ? await world.messageStatus(id) : 'no id';
    const job = id ? await world.jobState(id).catch((error: Error) => error.message) : '-';
    console.log(`# ${name} missing ${token} ${id ?? ''}: status ${status}, job ${job}`);
  }
}

/** The `# name: acked N, delivered N, duplicates N, kills N` line every fault test prints. */
export function reportCounts(
  name: string,
  acked: Iterable<string>,
  subjects: Map<string, number>,
  kills: number,
): { acked: number; delivered: number; duplicates: number; missing: string[] } {
  const tokens = [...acked];
  const missing = tokens.filter((token) => !subjects.has(token));
  const duplicates = tokens.reduce(
    (sum, token) => sum + Math.max(0, (subjects.get(token) ?? 0) - 1),
    0,
  );
  const delivered = tokens.length - missing.length;
  console.log(
    `# ${name}: acked ${tokens.length}, delivered ${delivered}, duplicates ${duplicates}, kills ${kills}`,
  );
  return { acked: tokens.length, delivered, duplicates, missing };
}

/** One message as `GET /v1/messages/:id` shows it (the fields the fault tests read). */
export interface MessageRecord {
  status: string;
  attempts: number;
  recipients: { address: string; status: string; detail: string }[];
  events: { type: string; detail: string }[];
}

/** GET /v1/messages/:id in full (undefined when unreachable or not 200). */
export async function messageRecord(
  world: FaultWorld,
  id: string,
): Promise<MessageRecord | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${world.ports.http}/v1/messages/${id}`, {
      headers: { authorization: `Bearer ${world.credentials.secret}` },
      signal: AbortSignal.timeout(5000),
    });
    return response.status === 200 ? ((await response.json()) as MessageRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Poll GET /v1/messages/:id until the message is `status`; resolves with that record. */
export async function waitForRecord(
  world: FaultWorld,
  id: string,
  status: string,
  timeoutMs: number,
): Promise<MessageRecord> {
  let record: MessageRecord | undefined;
  await waitUntil(
    async () => {
      record = await messageRecord(world, id);
      return record?.status === status;
    },
    timeoutMs,
    `message ${id} ${status}`,
    100,
  );
  return record as MessageRecord;
}

/** Like `world.send` over HTTP, to recipients of the test's choosing (per-address scripts). */
export async function sendTo(
  world: FaultWorld,
  token: string,
  to: string[],
): Promise<{ acked: boolean; id?: string }> {
  const mail = { from: 'load@example.com', to, subject: token, text: bodyOfSize(2048) };
  try {
    const { status, body } = await sendHttp(world.ports.http, world.credentials, mail);
    return status === 202 ? { acked: true, id: String(body.id) } : { acked: false };
  } catch {
    return { acked: false };
  }
}

/** Ids of the delivery jobs active right now (held by some worker). */
export function activeJobIds(world: FaultWorld): Promise<string[]> {
  return withQueue(world.redis.socket, async (queue) =>
    (await queue.getActive()).map((job) => String(job.id)),
  );
}
