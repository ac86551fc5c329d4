import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type pino from 'pino';
import type { Services } from '../../src/runtime/services.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { createLogSink } from '../support/log-sink.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';

const MAX_BYTES = 20_000;

/** An intake (HTTP API, SMTP) built by the composition root, under its own key prefix. */
function startIntake(redis: TestRedis, keyPrefix: string, logger: pino.Logger) {
  return startInProcessRelay(
    { POSTWARDEN_MAX_MESSAGE_BYTES: String(MAX_BYTES) },
    { role: 'intake', keyPrefix, logger },
    { redis },
  );
}

function message(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    from: 'Shop <orders@example.com>',
    to: ['a@example.net'],
    subject: 'Your order',
    text: 'Thanks.',
    ...overrides,
  };
}

describe('HTTP API', () => {
  let server: TestRedis;
  let services: Services;
  let banServices: Services;
  let intake: InProcessRelay;
  let banIntake: InProcessRelay;
  let base: string;
  let banBase: string;
  let secret: string;
  const sink = createLogSink();

  const post = (body: unknown, headers: Record<string, string> = {}, to = base) =>
    fetch(`${to}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${secret}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const getMessage = (id: string, bearer = secret, to = base) =>
    fetch(`${to}/v1/messages/${id}`, { headers: { authorization: `Bearer ${bearer}` } });
  const waiting = async () => (await services.queue.counts()).waiting;

  async function errorCode(response: Response): Promise<string> {
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(typeof body.error.message, 'string');
    assert.deepEqual(Object.keys(body), ['error']);
    return body.error.code;
  }

  async function newCredential(name: string, extra: Record<string, unknown> = {}) {
    return (await services.credentials.create({ name, allowFrom: ['*@example.com'], ...extra }))
      .secret;
  }

  before(async () => {
    server = await startTestRedis();
    const { logger } = sink;
    intake = await startIntake(server, 'http-api', logger);
    banIntake = await startIntake(server, 'http-ban', logger);
    ({ services } = intake.relay);
    banServices = banIntake.relay.services;
    base = intake.baseUrl;
    banBase = banIntake.baseUrl;
    secret = await newCredential('shop');
  });

  after(async () => {
    await intake?.close();
    await banIntake?.close();
    await server?.cleanup();
  });

  it('202: queues a message durably and answers its id', async () => {
    const response = await post(message());
    assert.equal(response.status, 202);
    const body = (await response.json()) as { id: string; status: string };
    assert.equal(body.status, 'queued');
    assert.match(body.id, /^[0-9a-z]{21}$/);
    assert.equal(await services.queue.hasJob(body.id), true);
    assert.equal((await services.store.get(body.id))?.status, 'queued');
  });

  it('GET /v1/messages/:id shows the contract shape, without the credential', async () => {
    const created = (await (await post(message({ cc: 'c@example.net' }))).json()) as { id: string };
    const response = await getMessage(created.id);
    assert.equal(response.status, 200);
    const view = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(view).sort(), [
      'attempts',
      'createdAt',
      'events',
      'from',
      'id',
      'recipients',
      'status',
      'subject',
    ]);
    assert.equal(view.id, created.id);
    assert.equal(view.status, 'queued');
    assert.equal(view.from, 'Shop <orders@example.com>');
    assert.equal(view.subject, 'Your order');
    assert.equal(view.attempts, 0);
    assert.ok(!Number.isNaN(Date.parse(String(view.createdAt))));
    assert.deepEqual(view.recipients, [
      { address: 'a@example.net', status: 'queued', detail: '' },
      { address: 'c@example.net', status: 'queued', detail: '' },
    ]);
    const events = view.events as Array<Record<string, unknown>>;
    assert.equal(events[0]?.type, 'queued');
    assert.deepEqual(Object.keys(events[0] ?? {}).sort(), ['at', 'detail', 'type']);
  });

  it('keeps bcc recipients in the envelope but out of the stored message', async () => {
    const response = await post(message({ bcc: ['hidden@example.org'] }));
    assert.equal(response.status, 202);
    const { id } = (await response.json()) as { id: string };
    const recipients = await services.store.recipients(id);
    assert.deepEqual(recipients.map((r) => r.address).sort(), [
      'a@example.net',
      'hidden@example.org',
    ]);
    const raw = await services.redis.getBuffer(services.keys.body(id));
    assert.ok(raw && raw.length > 0);
    assert.doesNotMatch(raw.toString('latin1'), /^bcc:/im);
    assert.doesNotMatch(raw.toString('latin1'), /hidden@example\.org/);
  });

  it('the same Idempotency-Key returns the first id and queues one message', async () => {
    const before = await waiting();
    const first = await post(message(), { 'idempotency-key': 'order-1001' });
    const second = await post(message(), { 'idempotency-key': 'order-1001' });
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    const a = (await first.json()) as { id: string };
    const b = (await second.json()) as { id: string; status: string };
    assert.equal(b.id, a.id);
    assert.equal(b.status, 'queued');
    assert.equal(await waiting(), before + 1);
  });

  it('400 invalid_request for schema violations, injections and bad addresses; nothing queued', async () => {
    const cases: Array<[string, unknown, Record<string, string>?]> = [
      ['missing subject', { from: 'orders@example.com', to: 'a@example.net', text: 'x' }],
      ['no text nor html', { from: 'orders@example.com', to: 'a@example.net', subject: 's' }],
      ['a number for subject', message({ subject: 42 })],
      ['an unknown field', message({ priority: 'high' })],
      ['no recipient', message({ to: [] })],
      ['CR/LF in from', message({ from: 'orders@example.com\r\nBcc: v@evil.test' })],
      ['CR/LF in to', message({ to: 'a@example.net\r\nBcc: v@evil.test' })],
      ['CR/LF in cc', message({ cc: ['c@example.net\r\nX: y'] })],
      ['CR/LF in bcc', message({ bcc: 'b@example.net\n' })],
      ['CR/LF in replyTo', message({ replyTo: 'r@example.net\r\nX: y' })],
      ['CR/LF in subject', message({ subject: 'hi\r\nBcc: v@evil.test' })],
      ['CR/LF in a header value', message({ headers: { 'X-Campaign': 'a\r\nBcc: v@evil.test' } })],
      ['CR/LF in a header name', message({ headers: { 'X-A\r\nBcc': 'v@evil.test' } })],
      ['NUL in subject', message({ subject: 'hi\u0000there' })],
      ['NUL in a header value', message({ headers: { 'X-A': 'a\u0000b' } })],
      [
        'CR/LF in an attachment filename',
        message({ attachments: [{ filename: 'a\r\n.pdf', content: 'aGk=' }] }),
      ],
      [
        'CR/LF in an attachment contentType',
        message({
          attachments: [{ filename: 'a.pdf', contentType: 'text/plain\r\nX: y', content: 'aGk=' }],
        }),
      ],
      ['a list smuggled into one to string', message({ to: 'a@example.net, v@evil.test' })],
      ['a group in to', message({ to: 'friends: a@example.net, v@evil.test;' })],
      ['a bad address', message({ to: 'not an address' })],
      ['a bad from address', message({ from: 'orders@' })],
      ['a Bcc custom header', message({ headers: { Bcc: 'v@evil.test' } })],
      ['a From custom header', message({ headers: { From: 'ceo@example.com' } })],
      ['a Content-Type custom header', message({ headers: { 'Content-Type': 'text/html' } })],
      [
        'a path attachment',
        message({ attachments: [{ filename: 'passwd', content: '', path: '/etc/passwd' }] }),
      ],
      [
        'an href attachment',
        message({ attachments: [{ filename: 'x', content: '', href: 'http://127.0.0.1/' }] }),
      ],
      [
        'a path-only attachment',
        message({ attachments: [{ filename: 'passwd', path: '/etc/passwd' }] }),
      ],
      ['invalid base64', message({ attachments: [{ filename: 'a.pdf', content: '%%%' }] })],
      ['malformed JSON', '{"from": '],
      ['a too long Idempotency-Key', message(), { 'idempotency-key': 'k'.repeat(201) }],
    ];
    const before = await waiting();
    for (const [name, body, headers] of cases) {
      const response = await post(body, headers);
      assert.equal(response.status, 400, name);
      assert.equal(await errorCode(response), 'invalid_request', name);
    }
    assert.equal(await waiting(), before, 'nothing was queued');
  });

  it('404 not_found for an unknown id and for another credential’s message', async () => {
    const unknown = await getMessage('0000000000000000000zz');
    assert.equal(unknown.status, 404);
    assert.equal(await errorCode(unknown), 'not_found');
    const overLong = await getMessage('x'.repeat(300));
    assert.equal(overLong.status, 404);
    assert.equal(await errorCode(overLong), 'not_found');
    const created = (await (await post(message())).json()) as { id: string };
    const otherSecret = await newCredential('other-shop');
    const foreign = await getMessage(created.id, otherSecret);
    assert.equal(foreign.status, 404);
    assert.equal(await errorCode(foreign), 'not_found');
    const route = await fetch(`${base}/v2/nothing`);
    assert.equal(route.status, 404);
    assert.equal(await errorCode(route), 'not_found');
  });

  it('answers broken URLs and malformed HTTP in the error shape, not fastify’s', async () => {
    const badEncoding = await getMessage('%zz');
    assert.equal(badEncoding.status, 400);
    assert.equal(await errorCode(badEncoding), 'invalid_request');
    const { port } = new URL(base);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
      });
      let data = '';
      socket.on('data', (chunk) => {
        data += chunk.toString();
      });
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400 /);
    const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4));
    assert.deepEqual(body, {
      error: { code: 'invalid_request', message: 'malformed HTTP request' },
    });
  });

  it('415 unsupported_media_type for any non-JSON body', async () => {
    for (const [type, body] of [
      ['text/plain', 'from=orders@example.com'],
      ['application/x-www-form-urlencoded', 'from=orders%40example.com'],
      ['application/octet-stream', 'x'],
    ] as const) {
      const response = await post(body, { 'content-type': type });
      assert.equal(response.status, 415, type);
      assert.equal(await errorCode(response), 'unsupported_media_type');
    }
    const bare = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}` },
    });
    assert.equal(bare.status, 415);
  });

  it('401 unauthorized for a missing, unknown or revoked secret, each counted as an auth failure', async () => {
    const revokedSecret = await newCredential('revoked-shop');
    await services.credentials.revoke('revoked-shop');
    const failuresBefore = sink.records.filter((l) => l.event === 'auth_failed').length;
    const attempts = [
      await fetch(`${base}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(message()),
      }),
      await post(message(), { authorization: 'Bearer pw_not_a_real_secret_at_all' }),
      await post(message(), { authorization: `Bearer ${revokedSecret}` }),
      await post(message(), {
        authorization: `Basic ${Buffer.from(`x:${secret}`).toString('base64')}`,
      }),
      await getMessage('0000000000000000000zz', 'pw_unknown'),
    ];
    for (const response of attempts) {
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      assert.equal(await errorCode(response), 'unauthorized');
    }
    const failures = sink.records.filter((l) => l.event === 'auth_failed').slice(failuresBefore);
    assert.equal(failures.length, attempts.length);
    for (const line of failures) {
      assert.deepEqual([line.ip, line.protocol, line.user], ['127.0.0.1', 'http', null]);
    }
    const logged = JSON.stringify(sink.records);
    assert.ok(!logged.includes(secret) && !logged.includes(revokedSecret), 'no secret in logs');
    // Reset 127.0.0.1's failure count so later tests are not banned by these.
    await services.abuseGuard.unban('127.0.0.1');
  });

  it('403 sender_not_allowed for a from address not granted', async () => {
    const before = await waiting();
    const response = await post(message({ from: 'Boss <ceo@example.org>' }));
    assert.equal(response.status, 403);
    assert.equal(await errorCode(response), 'sender_not_allowed');
    assert.equal(await waiting(), before);
  });

  it('403 banned for a banned client IP, before authentication', async () => {
    const banSecret = (
      await banServices.credentials.create({ name: 'shop', allowFrom: ['*@example.com'] })
    ).secret;
    const ok = await post(message(), { authorization: `Bearer ${banSecret}` }, banBase);
    assert.equal(ok.status, 202);
    for (let i = 0; i < 10; i++) {
      await banServices.abuseGuard.recordFailure({ ip: '127.0.0.1', protocol: 'http', user: null });
    }
    const banned = await post(message(), { authorization: `Bearer ${banSecret}` }, banBase);
    assert.equal(banned.status, 403);
    assert.equal(await errorCode(banned), 'banned');
    const lookup = await getMessage('0000000000000000000zz', banSecret, banBase);
    assert.equal(lookup.status, 403);
    // The other installation (its own key prefix) does not share this ban.
    assert.equal((await post(message())).status, 202);
  });

  it('413 too_large for a body over the limit, nothing queued', async () => {
    const before = await waiting();
    const response = await post(message({ text: 'x'.repeat(MAX_BYTES + 1) }));
    assert.equal(response.status, 413);
    assert.equal(await errorCode(response), 'too_large');
    assert.equal(await waiting(), before);
  });

  it('422 too_many_recipients counting to, cc and bcc together', async () => {
    const narrow = await newCredential('two-rcpt', { maxRecipients: 2 });
    const headers = { authorization: `Bearer ${narrow}` };
    const fits = await post(message({ to: 'a@example.net', bcc: 'b@example.net' }), headers);
    assert.equal(fits.status, 202);
    const over = await post(
      message({ to: 'a@example.net', cc: 'b@example.net', bcc: 'c@example.net' }),
      headers,
    );
    assert.equal(over.status, 422);
    assert.equal(await errorCode(over), 'too_many_recipients');
  });

  it('429 rate_limited with Retry-After once the credential’s rate is spent', async () => {
    const slow = await newCredential('one-a-minute', { ratePerMinute: 1 });
    const headers = { authorization: `Bearer ${slow}` };
    assert.equal((await post(message(), headers)).status, 202);
    const limited = await post(message(), headers);
    assert.equal(limited.status, 429);
    assert.equal(await errorCode(limited), 'rate_limited');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60,
      String(retryAfter),
    );
  });

  it('/healthz and /readyz answer 200 while Redis is up', async () => {
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200);
  });
});
