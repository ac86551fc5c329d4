import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSmtpUpstream } from '../../src/upstream/smtp.js';
import type { SmtpPoolLimits } from '../../src/upstream/smtp-pool.js';
import type { OutgoingMessage, Upstream } from '../../src/upstream/types.js';
import { useDeliveryFixture } from '../support/delivery-harness.js';
import type { FakeUpstream, FakeUpstreamOptions } from '../support/fake-upstream.js';
import {
  type Act,
  type MisbehavingUpstream,
  type MisbehavingUpstreamOptions,
  reply,
  startMisbehavingUpstream,
} from '../support/misbehaving-upstream.js';
import { waitUntil } from '../support/wait-until.js';

const SHORT = { connectionMs: 2000, greetingMs: 2000, socketMs: 2000 };
const LOGIN = { user: 'relay', pass: 'upstream-secret' };

let sequence = 0;

/** A small message whose Subject and Message-ID make duplicates visible upstream. */
function message(to: string[] = ['a@example.net']): OutgoingMessage {
  sequence += 1;
  const raw = Buffer.from(
    `From: orders@example.com\r\nTo: ${to.join(', ')}\r\nSubject: pool ${sequence}\r\n` +
      `Message-ID: <pool${sequence}@example.com>\r\n\r\nHello ${sequence}\r\n`,
  );
  return { id: `m${sequence}`, envelope: { from: 'orders@example.com', to }, raw };
}

const outcomes = (results: { outcome: string }[]) => results.map((result) => result.outcome);
const DISCONNECT: Act = { kind: 'disconnect' };

describe('upstream session pool: reuse of logged-in SMTP sessions', () => {
  const fixture = useDeliveryFixture();
  const { cleanups } = fixture;

  /** smtp-server with STARTTLS and AUTH, and an smtp:// upstream logged in to it. */
  async function tlsUpstream(
    script: Omit<FakeUpstreamOptions, 'tls' | 'requireAuth'> = {},
    pool: Partial<SmtpPoolLimits> = {},
  ): Promise<{ fake: FakeUpstream; upstream: Upstream }> {
    const fake = await fixture.fakeUpstream({ requireAuth: LOGIN, ...script });
    const upstream = createSmtpUpstream(
      {
        kind: 'smtp',
        label: 'fake',
        host: fake.host,
        port: fake.port,
        tls: 'starttls',
        auth: LOGIN,
      },
      { ca: fixture.tls.cert, timeouts: SHORT, pool },
    );
    cleanups.push(() => upstream.close());
    return { fake, upstream };
  }

  /** The raw peer (cleartext, no PIPELINING) and an upstream for it. */
  async function peerUpstream(
    script: Pick<MisbehavingUpstreamOptions, 'mail' | 'data'>,
  ): Promise<{ peer: MisbehavingUpstream; upstream: Upstream }> {
    const peer = await startMisbehavingUpstream(script);
    const upstream = createSmtpUpstream(
      { kind: 'smtp', label: 'peer', host: '127.0.0.1', port: peer.port, tls: 'off' },
      { timeouts: SHORT },
    );
    cleanups.push(
      () => peer.close(),
      () => upstream.close(),
    );
    return { peer, upstream };
  }

  it('sends many messages one after another over one session, logged in once', async () => {
    const { fake, upstream } = await tlsUpstream();
    for (let i = 0; i < 20; i += 1) {
      assert.deepEqual(outcomes(await upstream.send(message())), ['delivered']);
    }
    assert.equal(fake.connections, 1);
    assert.equal(fake.authAttempts, 1);
    assert.equal(fake.received.length, 20);
    assert.ok(fake.received.every((m) => m.secure && m.user === LOGIN.user));
  });

  it('uses no more sessions than deliveries in flight', async () => {
    const { fake, upstream } = await tlsUpstream({ dataDelayMs: 20 }, { maxIdle: 4 });
    // Four delivery slots, five messages each, as the worker's concurrency would.
    const slots = [1, 2, 3, 4].map(async () => {
      const results: string[] = [];
      for (let i = 0; i < 5; i += 1) results.push(...outcomes(await upstream.send(message())));
      return results;
    });
    assert.deepEqual((await Promise.all(slots)).flat(), Array(20).fill('delivered'));
    assert.equal(fake.received.length, 20);
    assert.ok(fake.connections <= 4, `sessions opened: ${fake.connections}`);
  });

  it('keeps at most maxIdle idle sessions', async () => {
    const { fake, upstream } = await tlsUpstream({ dataDelayMs: 50 }, { maxIdle: 2 });
    await Promise.all([1, 2, 3, 4].map(() => upstream.send(message())));
    assert.equal(fake.connections, 4);
    await waitUntil(() => fake.openConnections === 2, 5000, 'the extra sessions to be ended');
  });

  it('ends a session after maxMessages messages', async () => {
    const { fake, upstream } = await tlsUpstream({}, { maxMessages: 3 });
    for (let i = 0; i < 7; i += 1) await upstream.send(message());
    assert.equal(fake.received.length, 7);
    assert.equal(fake.connections, 3);
  });

  it('ends idle sessions after the idle limit (QUIT), and opens a new one when needed', async () => {
    const { fake, upstream } = await tlsUpstream({}, { idleMs: 150 });
    await Promise.all([upstream.send(message()), upstream.send(message())]);
    assert.equal(fake.connections, 2);
    await waitUntil(() => fake.openConnections === 0, 5000, 'idle sessions to be ended');
    assert.deepEqual(outcomes(await upstream.send(message())), ['delivered']);
    assert.equal(fake.connections, 3);
  });

  it('a session the server ended while idle costs nothing: the next message goes on a new one', async () => {
    const { fake, upstream } = await tlsUpstream({ idleTimeoutMs: 200 }, { idleMs: 60_000 });
    const first = message(['first@example.net']);
    assert.deepEqual(outcomes(await upstream.send(first)), ['delivered']);
    await waitUntil(() => fake.openConnections === 0, 5000, 'the server to end the idle session');
    const second = message(['second@example.net']);
    assert.deepEqual(outcomes(await upstream.send(second)), ['delivered']);
    assert.equal(fake.deliveriesTo('second@example.net'), 1);
    assert.equal(fake.connections, 2);
  });

  it('a 421 to MAIL FROM on a reused session is not a deferral: sent once on a fresh session', async () => {
    // Every session refuses its second transaction with 421 (and closes), as a provider
    // shutting an idle session down at the moment we reuse it.
    const { fake, upstream } = await tlsUpstream({ mail: (mailNo) => (mailNo >= 2 ? 421 : 250) });
    assert.deepEqual(outcomes(await upstream.send(message(['one@example.net']))), ['delivered']);
    const results = await upstream.send(message(['two@example.net']));
    assert.deepEqual(outcomes(results), ['delivered']);
    assert.equal(fake.deliveriesTo('two@example.net'), 1);
    assert.equal(fake.rcptAttempts('two@example.net'), 1, 'no RCPT went out on the dead session');
    assert.equal(fake.connections, 2);
  });

  it('a reused session dropped silently at MAIL FROM is not a deferral either', async () => {
    const { peer, upstream } = await peerUpstream({
      mail: ({ connectionNo, mailNo }) =>
        connectionNo === 1 && mailNo === 2 ? DISCONNECT : reply(250),
    });
    const first = message();
    const second = message();
    assert.deepEqual(outcomes(await upstream.send(first)), ['delivered']);
    assert.deepEqual(outcomes(await upstream.send(second)), ['delivered']);
    assert.deepEqual(peer.accepted, [`pool ${sequence - 1}`, `pool ${sequence}`]);
    assert.equal(peer.connections, 2);
  });

  it('a session that fails on a fresh connection is not retried transparently', async () => {
    const { peer, upstream } = await peerUpstream({ mail: () => DISCONNECT });
    const results = await upstream.send(message());
    assert.deepEqual(outcomes(results), ['deferred']);
    assert.equal(peer.connections, 1);
  });

  it('a disconnect after the final dot on a pooled session is deferred; the next message opens a new session', async () => {
    const { peer, upstream } = await peerUpstream({
      data: ({ connectionNo, mailNo }) =>
        connectionNo === 1 && mailNo === 2 ? DISCONNECT : reply(250),
    });
    assert.deepEqual(outcomes(await upstream.send(message())), ['delivered']);
    const lost = message();
    assert.deepEqual(outcomes(await upstream.send(lost)), ['deferred']);
    assert.equal(peer.timesReceived(`pool ${sequence}`), 1, 'sent once');
    assert.deepEqual(outcomes(await upstream.send(message())), ['delivered']);
    assert.equal(peer.connections, 2);
  });

  it('a refused message leaves the session usable: RSET, and the next message reuses it', async () => {
    const { peer, upstream } = await peerUpstream({
      data: ({ mailNo }) => reply(mailNo === 1 ? 554 : 250),
    });
    assert.deepEqual(outcomes(await upstream.send(message())), ['bounced']);
    assert.deepEqual(outcomes(await upstream.send(message())), ['delivered']);
    assert.equal(peer.connections, 1);
  });

  it('per-recipient refusals keep the session, all recipients refused too (pipelined)', async () => {
    const { fake, upstream } = await tlsUpstream({
      rcpt: (address) => (address.startsWith('nobody') ? 550 : 250),
    });
    const mixed = await upstream.send(message(['ok@example.net', 'nobody@example.net']));
    assert.deepEqual(outcomes(mixed), ['delivered', 'bounced']);
    const refused = await upstream.send(message(['nobody2@example.net']));
    assert.deepEqual(outcomes(refused), ['bounced']);
    assert.deepEqual(outcomes(await upstream.send(message(['ok2@example.net']))), ['delivered']);
    assert.equal(fake.connections, 1);
    assert.equal(fake.deliveriesTo('ok2@example.net'), 1);
  });

  it('close() ends every idle session and keeps none of those opened later', async () => {
    const { fake, upstream } = await tlsUpstream({ dataDelayMs: 30 });
    await Promise.all([1, 2, 3].map(() => upstream.send(message())));
    assert.equal(fake.openConnections, 3);
    await upstream.close();
    await waitUntil(() => fake.openConnections === 0, 2000, 'every session to be ended');
    // A send after close (a delivery still finishing during shutdown) works, and ends its session.
    assert.deepEqual(outcomes(await upstream.send(message())), ['delivered']);
    await waitUntil(() => fake.openConnections === 0, 2000, 'the late session to be ended');
    assert.equal(fake.connections, 4);
  });

  it('through the worker: a reused session refused with 421 records one attempt, no deferral', async () => {
    const { fake, upstream, h } = await fixture.scripted({
      mail: (mailNo) => (mailNo >= 2 ? 421 : 250),
    });
    cleanups.push(() => upstream.close());
    await h.startWorker(upstream);
    const first = await h.submit(['first@example.net']);
    await h.waitForStatus(first, ['delivered']);
    const second = await h.submit(['second@example.net']);
    await h.waitForStatus(second, ['delivered']);
    const view = await h.services.store.view(second);
    assert.equal(view?.attempts, 1);
    assert.deepEqual(
      view?.events.map((e) => e.type),
      ['queued', 'delivered'],
    );
    assert.equal(fake.deliveriesTo('second@example.net'), 1);
    assert.equal(fake.connections, 2);
  });
});
