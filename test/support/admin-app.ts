import { after, before } from 'node:test';
import pino, { type Logger } from 'pino';
import type { Relay } from '../../src/runtime/compose.js';
import { createCaptureUpstream } from '../../src/upstream/capture.js';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.js';
import { startInProcessRelay } from './in-process-relay.js';
import type { TestRedis } from './redis.js';
import { testTlsPair } from './tls.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface AdminApp {
  baseUrl: string;
  /** The relay as production composes it (runtime/compose.ts), every role in-process. */
  relay: Relay;
  services: Relay['services'];
  operator: Relay['operator'];
  metrics: Relay['metrics'];
  /** The scripted SMTP upstream the worker delivers to (`script()` it to bounce or accept). */
  upstream: FakeUpstream;
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
 * The whole relay in-process, built by the production composition root (composeRelay)
 * from a configuration — no wiring of its own — on a throwaway Redis, HTTP on 127.0.0.1:0.
 * It delivers to a scripted fake SMTP upstream, with the capture upstream behind it in the
 * failover chain so the admin page's captured mailbox is on (filled with `capture()`).
 */
export async function startAdminApp(options: { logger?: Logger } = {}): Promise<AdminApp> {
  const upstream = await startFakeUpstream({ tls: await testTlsPair(), mode: 'plain' });
  const started = await startInProcessRelay(
    {
      POSTWARDEN_UPSTREAM_URL: `smtp://127.0.0.1:${upstream.port}?tls=off,capture`,
      POSTWARDEN_ADMIN_PASSWORD: ADMIN_PASSWORD,
      POSTWARDEN_RETRY_BASE: '200ms',
      POSTWARDEN_RETRY_MAX_DELAY: '1s',
      POSTWARDEN_RETRY_LIFETIME: '60s',
      POSTWARDEN_WORKER_CONCURRENCY: '4',
    },
    { logger: options.logger ?? pino({ level: 'silent' }) },
  );
  const { relay, baseUrl, redis, dataDir } = started;
  const { secret } = await relay.services.credentials.create({
    name: 'shop',
    allowFrom: ['*@example.com'],
  });
  const captureUpstream = createCaptureUpstream(dataDir, relay.services.captureIndex);

  return {
    baseUrl,
    relay,
    services: relay.services,
    operator: relay.operator,
    metrics: relay.metrics,
    upstream,
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
      await started.close();
      await upstream.close();
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

/**
 * For a test file that drives the admin page: registers `before` (a relay, and a client
 * logged in through the real form) and `after` (the relay closed). The fields are set
 * once `before` has run: read them inside tests and later hooks.
 */
export function useAdminSession(): { relay: AdminApp; client: AdminClient } {
  const session = {} as { relay: AdminApp; client: AdminClient };
  before(async () => {
    session.relay = await startAdminApp();
    session.client = await login(session.relay.baseUrl, ADMIN_PASSWORD);
  });
  after(async () => {
    await session.relay?.close();
  });
  return session;
}
