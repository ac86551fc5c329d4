import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { UpstreamSpec } from '../../src/config/parse.js';
import type { RetryPolicy } from '../../src/queue/retry-policy.js';
import { CaptureStore } from '../../src/upstream/capture.js';
import { createUpstreams } from '../../src/upstream/from-url.js';
import { UpstreamUnreachableError } from '../../src/upstream/types.js';
import { useDeliveryFixture } from '../support/delivery-harness.js';
import { freePort } from '../support/relay-env.js';

/** Long enough that nothing expires while a test looks at a deferral. */
const SLOW_RETRY = { baseMs: 60_000, maxDelayMs: 60_000, lifetimeMs: 3_600_000 };
const SHORT = { connectionMs: 2000, greetingMs: 2000, socketMs: 2000 };

function smtpSpec(
  fake: { port: number },
  tls: 'starttls' | 'implicit' | 'off',
  auth?: { user: string; pass: string },
): UpstreamSpec {
  return {
    kind: 'smtp',
    label: `fake:${fake.port}`,
    host: '127.0.0.1',
    port: fake.port,
    tls,
    auth,
  };
}

describe('upstreams: TLS, AUTH, failover and capture', () => {
  const fixture = useDeliveryFixture();
  const { fakeUpstream, harness } = fixture;

  /** A harness whose worker delivers to `specs` (failing over in order), trusting our CA. */
  async function deliveringTo(specs: UpstreamSpec[], retry?: RetryPolicy) {
    const h = await harness();
    const options = { dataDir: h.dataDir, ca: fixture.tls.cert, timeouts: SHORT };
    await h.startWorker(createUpstreams(specs, options), retry);
    return h;
  }

  it('fails over to the second upstream when the first refuses connections', async () => {
    const second = await fakeUpstream();
    const dead = { port: await freePort() };
    const h = await deliveringTo([smtpSpec(dead, 'starttls'), smtpSpec(second, 'starttls')]);
    const id = await h.submit(['a@example.net']);
    await h.waitForStatus(id, ['delivered']);
    assert.equal(second.deliveriesTo('a@example.net'), 1);
    assert.equal((await h.services.store.get(id))?.attempts, 1);
  });

  it('does not fail over on an SMTP reply (a 4xx from the first is a deferral)', async () => {
    const first = await fakeUpstream({ rcpt: () => 451 });
    const second = await fakeUpstream();
    const h = await deliveringTo(
      [smtpSpec(first, 'starttls'), smtpSpec(second, 'starttls')],
      SLOW_RETRY,
    );
    const id = await h.submit(['a@example.net']);
    await h.waitForStatus(id, ['deferred']);
    assert.equal(first.rcptAttempts('a@example.net'), 1);
    assert.equal(second.rcptAttempts('a@example.net'), 0);
  });

  it('sends nothing to an smtp:// upstream that does not offer STARTTLS: deferred', async () => {
    const plain = await fakeUpstream({ mode: 'plain' });
    const h = await deliveringTo([smtpSpec(plain, 'starttls')], SLOW_RETRY);
    const id = await h.submit(['a@example.net']);
    await h.waitForStatus(id, ['deferred']);
    const view = await h.services.store.view(id);
    assert.equal(view?.recipients[0]?.status, 'deferred');
    assert.match(view?.recipients[0]?.detail ?? '', /STARTTLS|TLS/i);
    assert.equal(plain.rcptAttempts('a@example.net'), 0);
    assert.equal(plain.received.length, 0);
  });

  it('refuses an upstream certificate it cannot verify (no trusted CA given)', async () => {
    const fake = await fakeUpstream({ mode: 'implicit' });
    const upstream = createUpstreams([smtpSpec(fake, 'implicit')], {
      dataDir: '/nonexistent',
      timeouts: SHORT,
    });
    await assert.rejects(
      upstream.send({
        id: 'x',
        envelope: { from: 'o@example.com', to: ['a@example.net'] },
        raw: Buffer.from('x\r\n'),
      }),
      (error) => error instanceof UpstreamUnreachableError,
    );
    assert.equal(fake.received.length, 0);
  });

  it('delivers over smtps:// and over ?tls=off cleartext when written so', async () => {
    const implicit = await fakeUpstream({ mode: 'implicit' });
    const offered = await fakeUpstream({ mode: 'starttls' });
    const message = {
      id: 'x',
      envelope: { from: 'o@example.com', to: ['a@example.net'] },
      raw: Buffer.from('Subject: t\r\n\r\nbody\r\n'),
    };
    const viaTls = createUpstreams([smtpSpec(implicit, 'implicit')], {
      dataDir: '/x',
      ca: fixture.tls.cert,
      timeouts: SHORT,
    });
    assert.equal((await viaTls.send(message))[0]?.outcome, 'delivered');
    assert.equal(implicit.received[0]?.secure, true);
    const clear = createUpstreams([smtpSpec(offered, 'off')], { dataDir: '/x', timeouts: SHORT });
    assert.equal((await clear.send(message))[0]?.outcome, 'delivered');
    assert.equal(
      offered.received[0]?.secure,
      false,
      'tls=off does not use STARTTLS even if offered',
    );
  });

  it('defers when the upstream does not answer the end of DATA within the socket timeout', async () => {
    const slow = await fakeUpstream({ dataDelayMs: 1500 });
    const upstream = createUpstreams([smtpSpec(slow, 'starttls')], {
      dataDir: '/x',
      ca: fixture.tls.cert,
      timeouts: { ...SHORT, socketMs: 300 },
    });
    const results = await upstream.send({
      id: 'x',
      envelope: { from: '', to: ['a@example.net'] },
      raw: Buffer.from('Subject: t\r\n\r\nbody\r\n'),
    });
    assert.deepEqual(results, [
      { address: 'a@example.net', outcome: 'deferred', detail: 'ETIMEDOUT: Timeout' },
    ]);
  });

  it('logs in with the URL credentials; without them, or if AUTH is not offered, it defers', async () => {
    const needsAuth = await fakeUpstream({ requireAuth: { user: 'relay', pass: 's3cret' } });
    const noAuth = await fakeUpstream();
    const h = await harness();
    const options = { dataDir: h.dataDir, ca: fixture.tls.cert, timeouts: SHORT };
    const message = (to: string) => ({
      id: 'x',
      envelope: { from: 'o@example.com', to: [to] },
      raw: Buffer.from('Subject: t\r\n\r\nbody\r\n'),
    });

    const withCreds = createUpstreams(
      [smtpSpec(needsAuth, 'starttls', { user: 'relay', pass: 's3cret' })],
      options,
    );
    assert.equal((await withCreds.send(message('a@example.net')))[0]?.outcome, 'delivered');
    assert.equal(needsAuth.received[0]?.user, 'relay');

    const withoutCreds = createUpstreams([smtpSpec(needsAuth, 'starttls')], options);
    const refused = await withoutCreds.send(message('b@example.net'));
    assert.equal(refused[0]?.outcome, 'deferred');
    assert.match(refused[0]?.detail ?? '', /^530 /);

    const wrongCreds = createUpstreams(
      [smtpSpec(needsAuth, 'starttls', { user: 'relay', pass: 'nope' })],
      options,
    );
    assert.equal((await wrongCreds.send(message('c@example.net')))[0]?.outcome, 'deferred');

    // AUTH is never skipped: a server that does not offer it gets nothing.
    const skipped = createUpstreams(
      [smtpSpec(noAuth, 'starttls', { user: 'relay', pass: 's3cret' })],
      options,
    );
    assert.equal((await skipped.send(message('d@example.net')))[0]?.outcome, 'deferred');
    assert.equal(noAuth.received.length, 0);
    assert.equal(
      needsAuth.deliveriesTo('b@example.net') + needsAuth.deliveriesTo('c@example.net'),
      0,
    );

    // The same through the worker: the message stays deferred, nothing delivered.
    await h.startWorker(withoutCreds, SLOW_RETRY);
    const id = await h.submit(['e@example.net']);
    await h.waitForStatus(id, ['deferred']);
    assert.equal(needsAuth.deliveriesTo('e@example.net'), 0);
  });

  it('captures delivered messages as .eml + .json by default', async () => {
    const h = await harness();
    await h.startWorker(
      createUpstreams([{ kind: 'capture', label: 'capture' }], {
        dataDir: h.dataDir,
        captureIndex: h.services.captureIndex,
      }),
    );
    const id = await h.submit(['a@example.net', 'b@example.net']);
    await h.waitForStatus(id, ['delivered']);
    const stored = await readFile(path.join(h.dataDir, 'captured', `${id}.eml`), 'utf8');
    assert.match(stored, /^From: orders@example.com\r\n/);
    assert.match(stored, /Hello \d+\r\n$/);
    const capture = new CaptureStore(h.dataDir, h.services.captureIndex);
    const listed = await capture.list(10, 0);
    assert.equal(listed.total, 1);
    assert.deepEqual(listed.items[0]?.envelope, {
      from: 'orders@example.com',
      to: ['a@example.net', 'b@example.net'],
    });
    const got = await capture.get(id);
    assert.equal(got?.raw.toString('utf8'), stored);
    assert.equal(got?.meta.size, Buffer.byteLength(stored));
    assert.equal(await capture.get('../../etc/passwd'), undefined);
  });
});
