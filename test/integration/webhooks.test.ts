import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { createLogger } from '../../src/observability/logger.js';
import { createWebhookOperator, type Services } from '../../src/runtime/services.js';
import type { WebhookEventType } from '../../src/webhooks/event-types.js';
import type { WebhookOperator } from '../../src/webhooks/operator.js';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { createLogSink } from '../support/log-sink.js';
import { metricSample } from '../support/metrics-text.js';
import { startTestRedis, type TestRedis } from '../support/redis.js';
import { waitUntil } from '../support/wait-until.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const BASE_MS = 100;
const ENV = {
  POSTWARDEN_WEBHOOK_ALLOW_PRIVATE: 'true',
  POSTWARDEN_WEBHOOK_RETRY_BASE: `${BASE_MS}ms`,
};

describe('webhooks: signed events at a real receiver', () => {
  const logs = createLogSink();
  let redis: TestRedis;
  let relay: InProcessRelay;
  let services: Services;
  let operator: WebhookOperator;
  /** The worker's clock for the rotate window: moved forward by the rotate test. */
  let clockOffsetMs = 0;

  /** A credential of its own per test, and an endpoint for only its events. */
  async function setUp(name: string, receiver: WebhookReceiver, events?: WebhookEventType[]) {
    const { secret } = await services.credentials.create({ name, allowFrom: ['*@example.com'] });
    const added = await operator.add({
      url: receiver.url,
      credential: name,
      events: events ?? [
        'message.delivered',
        'message.deferred',
        'message.bounced',
        'message.expired',
        'message.suppressed',
        'message.held',
      ],
    });
    assert.ok(added.ok, JSON.stringify(added));
    return { secret, endpoint: added.endpoint };
  }

  async function send(secret: string, to: string[], subject = 'Order 42'): Promise<string> {
    const response = await fetch(`${relay.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'shop@example.com', to, subject, text: 'secret body text' }),
    });
    assert.equal(response.status, 202);
    return ((await response.json()) as { id: string }).id;
  }

  before(async () => {
    redis = await startTestRedis();
    relay = await startInProcessRelay(
      ENV,
      {
        keyPrefix: 'wh',
        logger: createLogger('info', logs.stream),
        webhooks: { now: () => Date.now() + clockOffsetMs },
      },
      { redis },
    );
    ({ services } = relay.relay);
    operator = createWebhookOperator(services, relay.relay.config, 'cli:test');
  });

  after(async () => {
    await relay?.close();
    await redis?.cleanup();
  });

  it('signs each event so that standardwebhooks verifies it, one per recipient, with no content', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { secret, endpoint } = await setUp('signed', receiver);
      const id = await send(secret, ['a@example.net', 'b@example.net']);
      await waitUntil(() => receiver.received.length >= 2, 15_000, 'two delivered events');
      for (const entry of receiver.received) {
        const verified = new Webhook(endpoint.secret).verify(entry.body, entry.headers) as {
          type: string;
          timestamp: string;
          data: Record<string, unknown>;
        };
        assert.equal(verified.type, 'message.delivered');
        assert.ok(!Number.isNaN(Date.parse(verified.timestamp)));
        assert.deepEqual(Object.keys(verified.data).sort(), [
          'attempts',
          'credential',
          'detail',
          'id',
          'recipient',
          'status',
        ]);
        assert.equal(verified.data.id, id);
        assert.equal(verified.data.credential, 'signed');
        assert.equal(verified.data.status, 'delivered');
        assert.equal(verified.data.attempts, 1);
        assert.ok(!entry.body.includes('secret body text') && !entry.body.includes('Order 42'));
        assert.match(entry.headers['webhook-signature'] ?? '', /^v1,[A-Za-z0-9+/=]+$/);
      }
      const recipients = receiver.events().map((event) => event.data.recipient);
      assert.deepEqual(recipients.sort(), ['a@example.net', 'b@example.net']);
      // The default events leave message.queued out.
      assert.ok(receiver.events().every((event) => event.type !== 'message.queued'));
      // A wrong secret does not verify.
      const first = receiver.received[0];
      assert.ok(first);
      assert.throws(() =>
        new Webhook(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(
          first.body,
          first.headers,
        ),
      );
    } finally {
      await receiver.close();
    }
  });

  it('sends message.queued only to an endpoint that asked for it', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { secret } = await setUp('queued', receiver, ['message.queued', 'message.delivered']);
      await send(secret, ['q@example.net']);
      await waitUntil(() => receiver.received.length >= 2, 15_000, 'queued and delivered');
      assert.deepEqual(
        receiver.events().map((event) => event.type),
        ['message.queued', 'message.delivered'],
      );
    } finally {
      await receiver.close();
    }
  });

  it('500 three times then 200: delivered on the 4th try, same webhook-id, backoff doubling from the base', async () => {
    const receiver = await startWebhookReceiver();
    try {
      receiver.respond = (_id, n) => (n <= 3 ? 500 : 200);
      const { secret, endpoint } = await setUp('retried', receiver);
      const before =
        metricSample(
          await relay.relay.metrics.render(),
          'postwarden_webhook_deliveries_total{outcome="failed"}',
        ) ?? 0;
      await send(secret, ['r@example.net']);
      await waitUntil(() => receiver.received.length >= 4, 20_000, 'four tries');
      const ids = new Set(receiver.received.map((entry) => entry.headers['webhook-id']));
      assert.equal(ids.size, 1, 'one webhook-id across the retries');
      assert.deepEqual(
        receiver.received.map((entry) => entry.status),
        [500, 500, 500, 200],
      );
      const gaps = receiver.received
        .slice(1)
        .map((entry, i) => entry.at - (receiver.received[i]?.at ?? 0));
      console.log(`webhook retry gaps (ms): ${gaps.map((gap) => Math.round(gap)).join(', ')}`);
      gaps.forEach((gap, i) => {
        // BullMQ promotes delayed jobs on time; allow 10 % early for timer granularity.
        assert.ok(
          gap >= BASE_MS * 2 ** i * 0.9,
          `gap ${i + 1} = ${gap} ms, want >= ${BASE_MS * 2 ** i}`,
        );
      });
      // Every try signs again with the secret; the last one verifies.
      const last = receiver.received[3];
      assert.ok(last);
      new Webhook(endpoint.secret).verify(last.body, last.headers);
      await waitUntil(
        async () => (await services.webhooks.attempts(endpoint.id)).length >= 4,
        5000,
        'attempts recorded',
      );
      const attempts = await services.webhooks.attempts(endpoint.id);
      assert.equal(attempts[0]?.outcome, 'delivered');
      assert.equal(attempts[0]?.attempt, 4);
      assert.equal(attempts[0]?.statusCode, 200);
      assert.equal(attempts[1]?.outcome, 'failed');
      assert.equal(attempts[1]?.statusCode, 500);
      assert.ok(attempts[1]?.nextRetryAt, 'a failed try shows when the next one is due');
      const afterFailed =
        metricSample(
          await relay.relay.metrics.render(),
          'postwarden_webhook_deliveries_total{outcome="failed"}',
        ) ?? 0;
      assert.equal(afterFailed - before, 3);
    } finally {
      await receiver.close();
    }
  });

  it('410 disables the endpoint: logged, audited, and nothing more is sent to it', async () => {
    const receiver = await startWebhookReceiver();
    try {
      receiver.respond = () => 410;
      const { secret, endpoint } = await setUp('gone', receiver);
      await send(secret, ['g@example.net']);
      await waitUntil(
        async () => (await services.webhooks.get(endpoint.id))?.disabled === true,
        15_000,
        'endpoint disabled',
      );
      assert.equal(receiver.received.length, 1, 'a 410 is not retried');
      await waitUntil(
        () =>
          logs.records.some(
            (line) => line.event === 'webhook_disabled' && line.webhook === endpoint.id,
          ),
        5000,
        'the webhook_disabled log event',
      );
      const audit = await services.audit.list(20);
      assert.ok(
        audit.some((entry) => entry.action === 'webhook-disable' && entry.target === endpoint.id),
      );
      await send(secret, ['g2@example.net']);
      const other = await startWebhookReceiver();
      try {
        // A second endpoint for the same credential shows the next event was written and sent…
        const added = await operator.add({
          url: other.url,
          credential: 'gone',
          events: ['message.delivered'],
        });
        assert.ok(added.ok);
        await send(secret, ['g3@example.net']);
        await waitUntil(() => other.received.length >= 1, 15_000, 'the other endpoint got it');
      } finally {
        await other.close();
      }
      // …and the disabled one got nothing more.
      assert.equal(receiver.received.length, 1);
    } finally {
      await receiver.close();
    }
  });

  it('after rotate both signatures are sent for 24 h (each verifies), then only the new one', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { secret, endpoint } = await setUp('rotated', receiver);
      const rotated = await operator.rotate(endpoint.id);
      assert.ok(rotated);
      assert.notEqual(rotated.secret, endpoint.secret);
      await send(secret, ['x@example.net']);
      await waitUntil(() => receiver.received.length >= 1, 15_000, 'first event');
      const dual = receiver.received[0];
      assert.ok(dual);
      const signatures = (dual.headers['webhook-signature'] ?? '').split(' ');
      assert.equal(signatures.length, 2);
      new Webhook(rotated.secret).verify(dual.body, dual.headers);
      new Webhook(endpoint.secret).verify(dual.body, dual.headers);
      // Each signature alone belongs to one of the secrets, the new one first.
      new Webhook(rotated.secret).verify(dual.body, {
        ...dual.headers,
        'webhook-signature': signatures[0] ?? '',
      });
      new Webhook(endpoint.secret).verify(dual.body, {
        ...dual.headers,
        'webhook-signature': signatures[1] ?? '',
      });

      clockOffsetMs = 24 * 60 * 60 * 1000 + 60_000;
      await send(secret, ['y@example.net']);
      await waitUntil(() => receiver.received.length >= 2, 15_000, 'second event');
      const single = receiver.received[1];
      assert.ok(single);
      assert.equal((single.headers['webhook-signature'] ?? '').split(' ').length, 1);
      new Webhook(rotated.secret).verify(single.body, single.headers);
      assert.throws(() => new Webhook(endpoint.secret).verify(single.body, single.headers));
    } finally {
      clockOffsetMs = 0;
      await receiver.close();
    }
  });
});

describe('webhooks: the receiver down across a relay restart', () => {
  it('keeps every event in Redis and delivers them all once the receiver is back', async () => {
    const redis = await startTestRedis();
    const receiver = await startWebhookReceiver();
    await receiver.stop();
    let relay = await startInProcessRelay(ENV, { keyPrefix: 'whr' }, { redis });
    try {
      const { services } = relay.relay;
      const { secret } = await services.credentials.create({
        name: 'down',
        allowFrom: ['*@example.com'],
      });
      const operator = createWebhookOperator(services, relay.relay.config, 'cli:test');
      const added = await operator.add({ url: receiver.url, events: ['message.delivered'] });
      assert.ok(added.ok);
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const response = await fetch(`${relay.baseUrl}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            from: 'shop@example.com',
            to: `d${i}@example.net`,
            subject: 's',
            text: 't',
          }),
        });
        assert.equal(response.status, 202);
        ids.push(((await response.json()) as { id: string }).id);
      }
      // Every event was tried and refused while the receiver was down.
      await waitUntil(
        async () => {
          const attempts = await services.webhooks.attempts(added.endpoint.id, 50);
          return new Set(attempts.filter((a) => a.error).map((a) => a.eventId)).size === 5;
        },
        20_000,
        'a refused try of every event',
      );
      await relay.close();
      relay = await startInProcessRelay(ENV, { keyPrefix: 'whr' }, { redis });
      await receiver.start();
      await waitUntil(
        () => new Set(receiver.events().map((event) => event.data.id)).size === 5,
        30_000,
        'all five events after the restart',
      );
      assert.deepEqual(
        [...new Set(receiver.events().map((event) => event.data.id))].sort(),
        ids.sort(),
      );
    } finally {
      await relay.close();
      await receiver.close();
      await redis.cleanup();
    }
  });
});

describe('webhooks: every outcome kind, and giving up after the lifetime', () => {
  const logs = createLogSink();
  let upstream: FakeUpstream;
  let relay: InProcessRelay;
  let services: Services;
  let operator: WebhookOperator;

  before(async () => {
    upstream = await startFakeUpstream({
      mode: 'plain',
      rcpt: (address) =>
        address.startsWith('bounce') ? 550 : address.startsWith('defer') ? 451 : 250,
    });
    relay = await startInProcessRelay(
      { ...ENV, POSTWARDEN_UPSTREAM_URL: upstream.url, POSTWARDEN_WEBHOOK_LIFETIME: '3s' },
      {
        keyPrefix: 'whk',
        logger: createLogger('info', logs.stream),
        // The contract's 10 s, shortened so a hanging receiver is seen within the test.
        webhooks: { timeoutMs: 300 },
      },
    );
    ({ services } = relay.relay);
    operator = createWebhookOperator(services, relay.relay.config, 'cli:test');
  });

  after(async () => {
    await relay?.close();
    await upstream?.close();
  });

  async function send(secret: string, to: string[]): Promise<{ id: string; status: string }> {
    const response = await fetch(`${relay.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'shop@example.com', to, subject: 's', text: 't' }),
    });
    assert.equal(response.status, 202);
    return (await response.json()) as { id: string; status: string };
  }

  it('sends delivered, bounced and deferred per recipient, and held (at the door and before a send)', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { secret } = await services.credentials.create({
        name: 'kinds',
        allowFrom: ['*@example.com'],
      });
      const added = await operator.add({
        url: receiver.url,
        credential: 'kinds',
        events: ['message.delivered', 'message.bounced', 'message.deferred', 'message.held'],
      });
      assert.ok(added.ok);
      const mixed = await send(secret, [
        'ok@example.net',
        'bounce@example.net',
        'defer@example.net',
      ]);
      await waitUntil(() => receiver.received.length >= 3, 15_000, 'three outcome events');
      const byRecipient = new Map(
        receiver.events().map((event) => [String(event.data.recipient), event]),
      );
      assert.equal(byRecipient.get('ok@example.net')?.type, 'message.delivered');
      assert.equal(byRecipient.get('bounce@example.net')?.type, 'message.bounced');
      assert.match(String(byRecipient.get('bounce@example.net')?.data.detail), /550/);
      assert.equal(byRecipient.get('defer@example.net')?.type, 'message.deferred');
      for (const event of byRecipient.values()) assert.equal(event.data.id, mixed.id);

      // Held before a send: queued while paused, then the credential is held.
      await relay.relay.operator.pause('test');
      const queued = await send(secret, ['later@example.net']);
      assert.equal(queued.status, 'queued');
      await relay.relay.operator.hold('kinds', 'test');
      await relay.relay.operator.resume();
      await waitUntil(
        () => receiver.events().some((event) => event.data.id === queued.id),
        15_000,
        'the held event of the queued message',
      );
      // Held at the door: the credential is on hold when the message arrives.
      const held = await send(secret, ['door@example.net']);
      assert.equal(held.status, 'held');
      await waitUntil(
        () => receiver.events().some((event) => event.data.id === held.id),
        15_000,
        'the held event of the message held at the door',
      );
      for (const id of [queued.id, held.id]) {
        const event = receiver.events().find((entry) => entry.data.id === id);
        assert.equal(event?.type, 'message.held');
        assert.equal(event?.data.status, 'held');
      }
    } finally {
      await receiver.close();
    }
  });

  it('a receiver that hangs is cut off by the timeout and retried; a redirect is not followed', async () => {
    const receiver = await startWebhookReceiver();
    const elsewhere = await startWebhookReceiver();
    try {
      receiver.redirectTo = elsewhere.url;
      receiver.respond = (_id, n) => (n === 1 ? 0 : n === 2 ? 302 : 200);
      const { secret } = await services.credentials.create({
        name: 'slow',
        allowFrom: ['*@example.com'],
      });
      const added = await operator.add({
        url: receiver.url,
        credential: 'slow',
        events: ['message.delivered'],
      });
      assert.ok(added.ok);
      await send(secret, ['ok@example.net']);
      await waitUntil(
        async () =>
          (await services.webhooks.attempts(added.endpoint.id))[0]?.outcome === 'delivered',
        15_000,
        'delivered on the third try',
      );
      const attempts = (await services.webhooks.attempts(added.endpoint.id)).reverse();
      assert.deepEqual(
        attempts.map((a) => [a.outcome, a.statusCode ?? a.error]),
        [
          ['failed', 'timeout after 300 ms'],
          ['failed', 302],
          ['delivered', 200],
        ],
      );
      assert.ok((attempts[0]?.latencyMs ?? 0) >= 290, 'the timeout, not an early error');
      assert.equal(elsewhere.received.length, 0, 'the redirect target was never called');
    } finally {
      await receiver.close();
      await elsewhere.close();
    }
  });

  it('gives an event up after POSTWARDEN_WEBHOOK_LIFETIME: logged, counted, shown', async () => {
    const receiver = await startWebhookReceiver();
    try {
      receiver.respond = () => 503;
      const { secret } = await services.credentials.create({
        name: 'doomed',
        allowFrom: ['*@example.com'],
      });
      const added = await operator.add({
        url: receiver.url,
        credential: 'doomed',
        events: ['message.delivered'],
      });
      assert.ok(added.ok);
      await send(secret, ['ok@example.net']);
      await waitUntil(
        () =>
          logs.records.some(
            (line) => line.event === 'webhook_gave_up' && line.webhook === added.endpoint.id,
          ),
        15_000,
        'webhook_gave_up',
      );
      // 100 ms base, 3 s lifetime: tries at about 0, 0.1, 0.3, 0.7 and 1.5 s; the next would
      // fall past it. A loaded machine delays tries, so one fewer may fit: at least 4.
      const [last] = await services.webhooks.attempts(added.endpoint.id);
      assert.equal(last?.outcome, 'gave_up');
      assert.ok(receiver.received.length >= 4 && receiver.received.length <= 5);
      assert.equal(last?.attempt, receiver.received.length, 'the last try is the one given up');
      const metrics = await relay.relay.metrics.render();
      assert.equal(
        metricSample(metrics, 'postwarden_webhook_deliveries_total{outcome="gave_up"}'),
        1,
      );
    } finally {
      await receiver.close();
    }
  });
});
