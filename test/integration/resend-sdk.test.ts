import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Resend } from 'resend';
import { type FakeUpstream, startFakeUpstream } from '../support/fake-upstream.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * The official `resend` SDK, unmodified, against a relay built by the composition root:
 * RESEND_BASE_URL is all an app changes (CONTRACT §Compatible APIs).
 */
describe('Resend dialect with the official SDK', () => {
  let relay: InProcessRelay;
  let upstream: FakeUpstream;
  let resend: Resend;
  let secret: string;
  let otherSecret: string;

  const delivered = (subject: string) => upstream.received.filter((m) => m.subject === subject);

  before(async () => {
    upstream = await startFakeUpstream({ mode: 'plain' });
    relay = await startInProcessRelay({ POSTWARDEN_UPSTREAM_URL: upstream.url });
    const { credentials } = relay.relay.services;
    secret = (await credentials.create({ name: 'shop', allowFrom: ['*@example.com'] })).secret;
    otherSecret = (
      await credentials.create({
        name: 'other',
        allowFrom: ['*@example.com'],
        allowTo: ['*@allowed.example'],
      })
    ).secret;
    // The SDK reads RESEND_BASE_URL when a client is constructed.
    process.env.RESEND_BASE_URL = relay.baseUrl;
    resend = new Resend(secret);
  });

  after(async () => {
    delete process.env.RESEND_BASE_URL;
    await relay?.close();
    await upstream?.close();
  });

  it('sends with cc, bcc, reply-to, custom headers and an attachment; bcc only in the envelope', async () => {
    const pdf = Buffer.from('%PDF-1.4 not really a pdf \x00\x01\x02', 'latin1');
    const { data, error } = await resend.emails.send({
      from: 'Shop <orders@example.com>',
      to: ['alice@example.net', 'bob@example.net'],
      cc: 'carol@example.net',
      bcc: ['secret-dave@example.net'],
      replyTo: 'support@example.com',
      subject: 'resend full',
      html: '<p>Thanks for your order</p>',
      text: 'Thanks for your order',
      headers: { 'X-Campaign': 'spring' },
      attachments: [{ filename: 'invoice.pdf', content: pdf, contentType: 'application/pdf' }],
      tags: [{ name: 'category', value: 'receipt' }],
    });
    assert.equal(error, null);
    assert.match(data?.id ?? '', /\S/);
    await waitUntil(() => delivered('resend full').length === 1, 20_000, 'delivery');
    const [message] = delivered('resend full');
    assert.ok(message);
    assert.deepEqual([...message.to].sort(), [
      'alice@example.net',
      'bob@example.net',
      'carol@example.net',
      'secret-dave@example.net',
    ]);
    assert.equal(message.from, 'orders@example.com');
    assert.match(message.head, /^From: Shop <orders@example\.com>$/im);
    assert.match(message.head, /^To: alice@example\.net, bob@example\.net$/im);
    assert.match(message.head, /^Cc: carol@example\.net$/im);
    assert.match(message.head, /^Reply-To: support@example\.com$/im);
    assert.match(message.head, /^X-Campaign: spring$/im);
    // The bcc recipient got it, and no header of it names them.
    assert.doesNotMatch(message.raw.toString('latin1'), /secret-dave|^Bcc:/im);
    const raw = message.raw.toString('latin1');
    assert.match(raw, /filename=invoice\.pdf/);
    assert.match(raw, /Content-Type: application\/pdf/i);
    assert.ok(raw.includes(pdf.toString('base64')), 'the attachment bytes, base64 as sent');
  });

  it('GET /emails/:id answers Resend’s email object', async () => {
    const sent = await resend.emails.send({
      from: 'orders@example.com',
      to: 'erin@example.net',
      subject: 'resend get',
      text: 'hello',
    });
    assert.equal(sent.error, null);
    const id = sent.data?.id ?? '';
    await waitUntil(() => delivered('resend get').length === 1, 20_000, 'delivery');
    await waitUntil(
      async () => (await resend.emails.get(id)).data?.last_event === 'delivered',
      10_000,
      'last_event delivered',
    );
    const { data, error } = await resend.emails.get(id);
    assert.equal(error, null);
    assert.equal(data?.object, 'email');
    assert.equal(data?.id, id);
    assert.deepEqual(data?.to, ['erin@example.net']);
    assert.equal(data?.from, 'orders@example.com');
    assert.equal(data?.subject, 'resend get');
    assert.ok(!Number.isNaN(Date.parse(data?.created_at ?? '')));
    // Another credential's message is not found, like an unknown id.
    const other = new Resend(otherSecret);
    const foreign = await other.emails.get(id);
    assert.equal(foreign.data, null);
    assert.equal(foreign.error?.name, 'not_found');
    assert.equal(foreign.error?.statusCode, 404);
  });

  it('the same Idempotency-Key gives the same id and one delivery', async () => {
    const email = {
      from: 'orders@example.com',
      to: 'frank@example.net',
      subject: 'resend idempotent',
      text: 'once',
    };
    const first = await resend.emails.send(email, { idempotencyKey: 'order-4711' });
    const second = await resend.emails.send(email, { idempotencyKey: 'order-4711' });
    assert.equal(first.error, null);
    assert.equal(second.error, null);
    assert.equal(second.data?.id, first.data?.id);
    await waitUntil(() => delivered('resend idempotent').length === 1, 20_000, 'delivery');
    // A third, different message makes it through after them: the second never was queued.
    await resend.emails.send({ ...email, subject: 'resend idempotent after' });
    await waitUntil(() => delivered('resend idempotent after').length === 1, 20_000, 'delivery');
    assert.equal(delivered('resend idempotent').length, 1);
  });

  it('sends a batch, one id per email, each delivered', async () => {
    const { data, error } = await resend.batch.send([
      { from: 'orders@example.com', to: 'g1@example.net', subject: 'resend batch 1', text: '1' },
      {
        from: 'orders@example.com',
        to: ['g2@example.net'],
        subject: 'resend batch 2',
        html: '<b>2</b>',
      },
    ]);
    assert.equal(error, null);
    assert.equal(data?.data.length, 2);
    assert.notEqual(data?.data[0]?.id, data?.data[1]?.id);
    await waitUntil(
      () => delivered('resend batch 1').length === 1 && delivered('resend batch 2').length === 1,
      20_000,
      'batch delivery',
    );
  });

  it('a batch repeated with the same Idempotency-Key gives the same ids and queues nothing twice', async () => {
    const batch = [
      {
        from: 'orders@example.com',
        to: 'n1@example.net',
        subject: 'resend batch idem 1',
        text: '1',
      },
      {
        from: 'orders@example.com',
        to: 'n2@example.net',
        subject: 'resend batch idem 2',
        text: '2',
      },
    ];
    const first = await resend.batch.send(batch, { idempotencyKey: 'batch-42' });
    const second = await resend.batch.send(batch, { idempotencyKey: 'batch-42' });
    assert.equal(first.error, null);
    assert.deepEqual(second.data?.data, first.data?.data);
    assert.notEqual(first.data?.data[0]?.id, first.data?.data[1]?.id);
    // The batch's key does not collide with a single send under the same key.
    const single = await resend.emails.send(batch[0] as (typeof batch)[0], {
      idempotencyKey: 'batch-42',
    });
    assert.ok(single.data?.id);
    assert.ok(!first.data?.data.some(({ id }) => id === single.data?.id));
    await waitUntil(() => delivered('resend batch idem 2').length === 1, 20_000, 'delivery');
    await waitUntil(() => delivered('resend batch idem 1').length === 2, 20_000, 'delivery');
  });

  it('a rate-limited credential gets rate_limit_exceeded with Retry-After', async () => {
    const { secret: slow } = await relay.relay.services.credentials.create({
      name: 'slow',
      allowFrom: ['*@example.com'],
      ratePerMinute: 1,
    });
    const client = new Resend(slow);
    const email = {
      from: 'orders@example.com',
      to: 'o@example.net',
      subject: 'resend rate',
      text: 'x',
    };
    assert.equal((await client.emails.send(email)).error, null);
    const limited = await client.emails.send(email);
    assert.equal(limited.error?.name, 'rate_limit_exceeded');
    assert.equal(limited.error?.statusCode, 429);
    assert.match(limited.headers?.['retry-after'] ?? '', /^\d+$/);
  });

  it('a strict batch with one ungranted sender queues none of it', async () => {
    const { data, error } = await resend.batch.send([
      { from: 'orders@example.com', to: 'h1@example.net', subject: 'resend strict ok', text: '1' },
      {
        from: 'ceo@elsewhere.example',
        to: 'h2@example.net',
        subject: 'resend strict bad',
        text: '2',
      },
    ]);
    assert.equal(data, null);
    assert.equal(error?.name, 'validation_error');
    assert.equal(error?.statusCode, 403);
    assert.match(error?.message ?? '', /emails\[1\]/);
    // Nothing of the batch was queued: a later message arrives and the first one never does.
    await resend.emails.send({
      from: 'orders@example.com',
      to: 'h3@example.net',
      subject: 'resend strict after',
      text: '3',
    });
    await waitUntil(() => delivered('resend strict after').length === 1, 20_000, 'delivery');
    assert.equal(delivered('resend strict ok').length, 0);
  });

  it('a permissive batch queues the good ones and lists the refused ones by index', async () => {
    const { data, error } = await resend.batch.send(
      [
        {
          from: 'orders@example.com',
          to: 'not an address',
          subject: 'resend permissive bad',
          text: '1',
        },
        {
          from: 'orders@example.com',
          to: 'i2@example.net',
          subject: 'resend permissive ok',
          text: '2',
        },
      ],
      { batchValidation: 'permissive' },
    );
    assert.equal(error, null);
    assert.equal(data?.data.length, 1);
    assert.equal(data?.errors.length, 1);
    assert.equal(data?.errors[0]?.index, 0);
    await waitUntil(() => delivered('resend permissive ok').length === 1, 20_000, 'delivery');
  });

  it('maps refusals to the SDK’s own error objects', async () => {
    const email = {
      from: 'orders@example.com',
      to: 'j@example.net',
      subject: 'refused',
      text: 'x',
    };
    const wrongKey = await new Resend('re_not_a_key').emails.send(email);
    assert.equal(wrongKey.data, null);
    assert.deepEqual(
      { name: wrongKey.error?.name, statusCode: wrongKey.error?.statusCode },
      { name: 'invalid_api_key', statusCode: 403 },
    );

    const missing = await fetch(`${relay.baseUrl}/emails`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(email),
    });
    assert.equal(missing.status, 401);
    assert.deepEqual(await missing.json(), {
      statusCode: 401,
      name: 'missing_api_key',
      message: 'Missing API key in the authorization header',
    });

    const ungranted = await resend.emails.send({ ...email, from: 'ceo@elsewhere.example' });
    assert.equal(ungranted.data, null);
    assert.equal(ungranted.error?.name, 'validation_error');
    assert.equal(ungranted.error?.statusCode, 403);
    assert.match(ungranted.error?.message ?? '', /not granted/);

    const invalid = await resend.emails.send({ ...email, to: 'bob@@example.net' });
    assert.equal(invalid.error?.name, 'validation_error');
    assert.equal(invalid.error?.statusCode, 422);

    const injected = await resend.emails.send({
      ...email,
      to: 'bob@example.net\r\nBcc: x@evil.example',
    });
    assert.equal(injected.error?.statusCode, 422);

    const outsideAllowTo = await new Resend(otherSecret).emails.send(email);
    assert.equal(outsideAllowTo.error?.name, 'validation_error');
    assert.equal(outsideAllowTo.error?.statusCode, 403);

    const byPath = await resend.emails.send({
      ...email,
      attachments: [{ filename: 'passwd', path: '/etc/passwd' }],
    });
    assert.equal(byPath.error?.statusCode, 422);
    assert.match(byPath.error?.message ?? '', /path is not supported/);

    const scheduled = await resend.emails.send({ ...email, scheduledAt: 'in 1 min' });
    assert.equal(scheduled.error?.statusCode, 422);
    assert.match(scheduled.error?.message ?? '', /scheduled_at/);

    const badKey = await resend.emails.send(email, { idempotencyKey: 'x'.repeat(300) });
    assert.equal(badKey.error?.name, 'invalid_idempotency_key');
    assert.equal(badKey.error?.statusCode, 400);

    const tooMany = await resend.batch.send(Array.from({ length: 101 }, () => email));
    assert.equal(tooMany.error?.name, 'validation_error');
    assert.equal(tooMany.error?.statusCode, 422);

    const unknown = await resend.emails.get('nope');
    assert.equal(unknown.error?.name, 'not_found');
    // None of the refused messages reached the upstream.
    assert.equal(delivered('refused').length, 0);
  });
});
