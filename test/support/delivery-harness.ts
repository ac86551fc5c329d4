import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { type DeliveryWorker, startDeliveryWorker } from '../../src/delivery/worker.js';
import { acceptSubmission } from '../../src/intake/accept.js';
import type { MessageStatus, Submission } from '../../src/message/types.js';
import type { QueueOperator } from '../../src/queue/operator.js';
import type { RetryPolicy } from '../../src/queue/retry-policy.js';
import { createAcceptDoor } from '../../src/runtime/intake-role.js';
import { createOperator, createServices, type Services } from '../../src/runtime/services.js';
import type { TlsPair } from '../../src/runtime/tls.js';
import type { Credential } from '../../src/security/credentials/store.js';
import { createSmtpUpstream } from '../../src/upstream/smtp.js';
import type { Upstream } from '../../src/upstream/types.js';
import { type FakeUpstream, type FakeUpstreamOptions, startFakeUpstream } from './fake-upstream.js';
import { silentLogger } from './log-sink.js';
import { startTestRedis, type TestRedis } from './redis.js';
import { testTlsPair } from './tls.js';
import { waitUntil } from './wait-until.js';

/** Short retry settings so retry and expiry tests take seconds. */
export const FAST_RETRY: RetryPolicy = { baseMs: 100, maxDelayMs: 1000, lifetimeMs: 3000 };

let counter = 0;

export interface DeliveryHarness {
  services: Services;
  operator: QueueOperator;
  credential: Credential;
  dataDir: string;
  /** Put a message in through the real door (acceptSubmission); returns its id. */
  submit(to: string[], extra?: Partial<Submission>): Promise<string>;
  startWorker(
    upstream: Upstream,
    retry?: RetryPolicy,
    options?: { watchdogIntervalMs?: number },
  ): Promise<DeliveryWorker>;
  /** Poll the record until its status is one of `statuses`. */
  waitForStatus(id: string, statuses: MessageStatus[], timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Services with a unique key prefix (own queue), a granted credential, and workers on demand. */
export async function createDeliveryHarness(redisUrl: string): Promise<DeliveryHarness> {
  counter += 1;
  const prefix = `dt${process.pid}x${counter}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pw-delivery-'));
  const config = loadConfig({ POSTWARDEN_DATA_DIR: dataDir });
  const services = await createServices(config, redisUrl, silentLogger, { keyPrefix: prefix });
  const { credential } = await services.credentials.create({
    name: 'shop',
    allowFrom: ['*@example.com'],
  });
  const accept = createAcceptDoor(config, services, silentLogger);
  const workers: DeliveryWorker[] = [];
  let sequence = 0;
  return {
    services,
    operator: createOperator(services, 'cli:test'),
    credential,
    dataDir,
    async submit(to, extra = {}) {
      sequence += 1;
      const messageId = `<m${sequence}.${prefix}@example.com>`;
      const raw = Buffer.from(
        `From: orders@example.com\r\nTo: ${to.join(', ')}\r\nSubject: test ${sequence}\r\n` +
          `Message-ID: ${messageId}\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nHello ${sequence}\r\n`,
      );
      const result = await acceptSubmission(
        accept,
        { credential, ip: '127.0.0.1' },
        {
          protocol: 'http',
          envelope: { from: 'orders@example.com', to },
          raw,
          headerSenders: ['orders@example.com'],
          fromHeader: 'orders@example.com',
          subject: `test ${sequence}`,
          messageIdHeader: messageId,
          ...extra,
        },
      );
      if (!result.accepted) throw new Error(`not accepted: ${result.denial.code}`);
      return result.id;
    },
    async startWorker(upstream, retry = FAST_RETRY, options = {}) {
      const worker = await startDeliveryWorker({
        redisUrl,
        keys: services.keys,
        upstream,
        retry,
        concurrency: 4,
        logger: silentLogger,
        ...options,
      });
      workers.push(worker);
      return worker;
    },
    async waitForStatus(id, statuses, timeoutMs = 15_000) {
      await waitUntil(
        async () => statuses.includes((await services.store.get(id))?.status ?? 'queued'),
        timeoutMs,
        `message ${id} to become ${statuses.join('/')}`,
      );
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.close(5000)));
      await services.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A scripted fake upstream (STARTTLS), an smtp:// upstream for it with short timeouts, and
 * a delivery harness on `redisUrl`; their cleanups are pushed onto `cleanups`.
 */
export async function setupScriptedDelivery(
  redisUrl: string,
  tls: TlsPair,
  script: Omit<FakeUpstreamOptions, 'tls'>,
  cleanups: (() => Promise<void>)[],
): Promise<{ fake: FakeUpstream; upstream: Upstream; h: DeliveryHarness }> {
  const fake = await startFakeUpstream({ tls, ...script });
  const upstream = createSmtpUpstream(
    { kind: 'smtp', label: 'fake', host: fake.host, port: fake.port, tls: 'starttls' },
    { ca: tls.cert, timeouts: { connectionMs: 2000, greetingMs: 2000, socketMs: 2000 } },
  );
  const h = await createDeliveryHarness(redisUrl);
  cleanups.push(
    () => h.close(),
    () => fake.close(),
  );
  return { fake, upstream, h };
}

/** A file's throwaway Redis and TLS pair, with what its tests start closed after them. */
export interface DeliveryFixture {
  redis: TestRedis;
  tls: TlsPair;
  /** Run after the file's tests, the last pushed first. */
  cleanups: (() => Promise<void>)[];
  /** A delivery harness on the file's Redis. */
  harness(): Promise<DeliveryHarness>;
  /** A fake upstream with the file's TLS pair. */
  fakeUpstream(options?: Omit<FakeUpstreamOptions, 'tls'>): Promise<FakeUpstream>;
  /** setupScriptedDelivery on the file's Redis and TLS pair. */
  scripted(
    script: Omit<FakeUpstreamOptions, 'tls'>,
  ): Promise<{ fake: FakeUpstream; upstream: Upstream; h: DeliveryHarness }>;
}

/**
 * Registers the file's `before` (a throwaway Redis and the TLS pair) and `after` (every
 * cleanup, then Redis). The fields are set once `before` has run: read them in tests.
 */
export function useDeliveryFixture(): DeliveryFixture {
  const fixture: DeliveryFixture = {
    redis: undefined as unknown as TestRedis,
    tls: undefined as unknown as TlsPair,
    cleanups: [],
    async harness() {
      const h = await createDeliveryHarness(fixture.redis.url);
      fixture.cleanups.push(() => h.close());
      return h;
    },
    async fakeUpstream(options = {}) {
      const fake = await startFakeUpstream({ tls: fixture.tls, ...options });
      fixture.cleanups.push(() => fake.close());
      return fake;
    },
    scripted: (script) =>
      setupScriptedDelivery(fixture.redis.url, fixture.tls, script, fixture.cleanups),
  };
  before(async () => {
    [fixture.redis, fixture.tls] = await Promise.all([startTestRedis(), testTlsPair()]);
  });
  after(async () => {
    for (const cleanup of fixture.cleanups.reverse()) await cleanup();
    await fixture.redis?.cleanup();
  });
  return fixture;
}
