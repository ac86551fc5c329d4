import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { hashPassword } from '../../src/admin/password.js';
import { type AdminPlugin, createAdminPlugin } from '../../src/admin/plugin.js';
import { createAdminSignals } from '../../src/admin/signals.js';
import { loadConfig } from '../../src/config/load.js';
import { type DeliveryWorker, startDeliveryWorker } from '../../src/delivery/worker.js';
import { buildHttpApp } from '../../src/intake/http/app.js';
import {
  createMetrics,
  type DeliveryOutcome,
  type Metrics,
} from '../../src/observability/metrics.js';
import { createMetricsPlugin } from '../../src/observability/metrics-plugin.js';
import { QueueOperator } from '../../src/queue/operator.js';
import { createServices, type Services } from '../../src/runtime/services.js';
import { CaptureStore, createCaptureUpstream } from '../../src/upstream/capture.js';
import { createUpstreams } from '../../src/upstream/from-url.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { startTestRedis, type TestRedis } from './redis.js';
import { testTlsPair as createTestTlsPair } from './tls.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface AdminApp {
  baseUrl: string;
  app: FastifyInstance;
  services: Services;
  operator: QueueOperator;
  metrics: Metrics;
  admin: AdminPlugin;
  /** The scripted SMTP upstream the worker delivers to (`script()` it to bounce or accept). */
  upstream: FakeUpstream;
  /** The capture mailbox shown by the admin page (filled with `capture()`). */
  captureStore: CaptureStore;
  /** Put a raw message into the capture mailbox, as the capture upstream would. */
  capture(id: string, raw: string): Promise<void>;
  /** A credential's bearer secret, allowed to send as *@example.com. */
  secret: string;
  /** POST /v1/messages through the real API; resolves with the message id. */
  send(message: Record<string, unknown>): Promise<string>;
  redis: TestRedis;
  close(): Promise<void>;
}

/**
 * The relay's HTTP side in-process, wired the way the composition root wires it:
 * createServices + buildHttpApp with the admin and metrics plugins, a delivery worker
 * against a scripted fake upstream, the admin signals and metrics hooked into the accept
 * door, the worker and the abuse guard — on a throwaway Redis, listening on 127.0.0.1:0.
 */
export async function startAdminApp(options: { logger?: Logger } = {}): Promise<AdminApp> {
  const logger = options.logger ?? pino({ level: 'silent' });
  const redis = await startTestRedis();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pw-admin-'));
  const config = loadConfig({ POSTWARDEN_DATA_DIR: dataDir, REDIS_URL: redis.url });
  const services = await createServices(config, redis.url, logger, { keyPrefix: 'adm' });
  const operator = new QueueOperator(services.store, services.queue);
  const metrics = createMetrics();
  const signals = createAdminSignals(services.redis, services.keys);

  metrics.setSources({
    queue: () => operator.stats(),
    bansActive: async () => (await services.abuseGuard.listBans()).length,
    ready: () => services.durability.state.ok,
  });
  services.accept.onAccepted = (protocol) => {
    metrics.messageAccepted(protocol);
    signals.recordAccepted();
  };
  const recordFailure = services.abuseGuard.recordFailure.bind(services.abuseGuard);
  services.abuseGuard.recordFailure = async (failure) => {
    metrics.authFailed(failure.protocol);
    return recordFailure(failure);
  };

  await services.redis.hset(
    services.keys.admin(),
    'passwordHash',
    await hashPassword(ADMIN_PASSWORD),
  );
  const { secret } = await services.credentials.create({
    name: 'shop',
    allowFrom: ['*@example.com'],
  });

  const upstream = await startFakeUpstream({ tls: await createTestTlsPair(), mode: 'plain' });
  const spec = {
    kind: 'smtp' as const,
    label: `smtp://127.0.0.1:${upstream.port}?tls=off`,
    host: '127.0.0.1',
    port: upstream.port,
    tls: 'off' as const,
  };
  const worker: DeliveryWorker = await startDeliveryWorker({
    redisUrl: redis.url,
    keys: services.keys,
    upstream: signals.trackUpstream(createUpstreams([spec], { dataDir })),
    retry: { baseMs: 200, maxDelayMs: 1000, lifetimeMs: 60_000 },
    concurrency: 4,
    logger,
    onOutcome: (outcome, seconds) => {
      metrics.deliveryFinished(outcome as DeliveryOutcome, seconds);
      signals.recordOutcome(outcome);
    },
  });

  const captureStore = new CaptureStore(dataDir);
  const captureUpstream = createCaptureUpstream(dataDir);
  const admin = createAdminPlugin({
    redis: services.redis,
    keys: services.keys,
    store: services.store,
    queue: services.queue,
    operator,
    credentials: services.credentials,
    abuseGuard: services.abuseGuard,
    captureStore,
    upstreamLabels: [spec.label],
    logger,
    secureCookies: false,
  });
  const app = await buildHttpApp({
    credentials: services.credentials,
    abuseGuard: services.abuseGuard,
    accept: services.accept,
    store: services.store,
    durability: services.durability,
    maxMessageBytes: config.maxMessageBytes,
    logger,
    plugins: [admin, createMetricsPlugin(metrics)],
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    app,
    services,
    operator,
    metrics,
    admin,
    upstream,
    captureStore,
    secret,
    redis,
    async capture(id, raw) {
      await captureUpstream.send({
        id,
        envelope: { from: 'orders@example.com', to: ['inbox@example.net'] },
        raw: Buffer.from(raw),
      });
    },
    async send(message) {
      const response = await fetch(`${baseUrl}/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify(message),
      });
      const body = (await response.json()) as { id?: string };
      if (response.status !== 202 || !body.id) {
        throw new Error(`send failed: ${response.status} ${JSON.stringify(body)}`);
      }
      return body.id;
    },
    async close() {
      await app.close();
      await worker.close(5000);
      await upstream.close();
      await services.close();
      await redis.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A minimal admin-page client over fetch: it keeps the cookies it is given, logs in
 * through the real form (login token included) and reads the CSRF token from a page, as a
 * browser would.
 */
export interface AdminClient {
  cookies: Map<string, string>;
  csrf: string;
  request(path: string, init?: RequestInit): Promise<Response>;
  /** POST a form; `_csrf` is added unless `withCsrf` is false. */
  postForm(path: string, fields: Record<string, string>, withCsrf?: boolean): Promise<Response>;
}

function cookieHeader(cookies: Map<string, string>): string {
  return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
}

export function absorbCookies(cookies: Map<string, string>, response: Response): void {
  for (const line of response.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const index = pair.indexOf('=');
    const name = pair.slice(0, index).trim();
    const value = pair.slice(index + 1).trim();
    if (/Max-Age=0/i.test(line) || value === '') cookies.delete(name);
    else cookies.set(name, value);
  }
}

export function fieldValue(page: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1];
}

/** Fetch the login form and post `password`; returns the client and the login response. */
export async function loginAttempt(
  baseUrl: string,
  password: string,
): Promise<{ client: AdminClient; response: Response }> {
  const cookies = new Map<string, string>();
  const client: AdminClient = {
    cookies,
    csrf: '',
    async request(path, init = {}) {
      const headers = new Headers(init.headers);
      if (cookies.size > 0) headers.set('cookie', cookieHeader(cookies));
      const response = await fetch(`${baseUrl}${path}`, { ...init, headers, redirect: 'manual' });
      absorbCookies(cookies, response);
      return response;
    },
    postForm(path, fields, withCsrf = true) {
      const body = new URLSearchParams(withCsrf ? { ...fields, _csrf: client.csrf } : fields);
      return client.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: body.toString(),
      });
    },
  };
  const form = await (await client.request('/admin/login')).text();
  const response = await client.postForm(
    '/admin/login',
    { _login: fieldValue(form, '_login') ?? '', password },
    false,
  );
  if (response.status === 303) {
    const page = await (await client.request('/admin')).text();
    client.csrf = fieldValue(page, '_csrf') ?? '';
  }
  return { client, response };
}

export async function login(baseUrl: string, password: string): Promise<AdminClient> {
  const { client, response } = await loginAttempt(baseUrl, password);
  if (response.status !== 303 || !client.csrf) {
    throw new Error(`admin login failed: ${response.status}`);
  }
  return client;
}
