import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { RawSmtpClient } from '../support/raw-smtp-client.js';
import { type SmtpIntakeHarness, startSmtpIntake } from '../support/smtp-intake.js';

const MAX_BYTES = 20_000;
const QUEUED = /^250 2\.0\.0 Ok: queued as ([0-9a-z]{21})$/;

function crlf(text: string): Buffer {
  return Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8');
}

describe('SMTP intake: end of DATA', () => {
  let h: SmtpIntakeHarness;
  let secret: string;
  const clients: RawSmtpClient[] = [];

  async function session(user = 'shop', pass = secret): Promise<RawSmtpClient> {
    const client = await RawSmtpClient.connect(h.submissionPort);
    clients.push(client);
    await client.command('EHLO client.test');
    assert.match(await client.authPlain(user, pass), /^235 /);
    return client;
  }

  /** One transaction; the reply to the end of DATA. */
  async function submit(
    client: RawSmtpClient,
    data: Buffer,
    envelope: { from?: string; to?: string[]; mailArgs?: string } = {},
  ): Promise<string> {
    const mailArgs = envelope.mailArgs ? ` ${envelope.mailArgs}` : '';
    const mail = await client.command(
      `MAIL FROM:<${envelope.from ?? 'orders@example.com'}>${mailArgs}`,
    );
    assert.match(mail, /^250 /);
    for (const to of envelope.to ?? ['a@example.net']) {
      assert.match(await client.command(`RCPT TO:<${to}>`), /^250 /);
    }
    assert.match(await client.command('DATA'), /^354 /);
    // The CRLF that ends the last line is part of the terminator `<CRLF>.<CRLF>`.
    const endsWithCrlf = data.subarray(-2).equals(Buffer.from('\r\n'));
    client.write(Buffer.concat([data, Buffer.from(endsWithCrlf ? '.\r\n' : '\r\n.\r\n')]));
    return client.readReply();
  }

  /** Runs `act` and asserts that nothing was staged or queued meanwhile. */
  async function assertNothingQueued(act: () => Promise<void>): Promise<void> {
    const ids = (await h.messageIds()).length;
    const waiting = (await h.services.queue.counts()).waiting;
    await act();
    assert.equal((await h.messageIds()).length, ids, 'no message staged');
    assert.equal((await h.services.queue.counts()).waiting, waiting, 'no job queued');
  }

  before(async () => {
    h = await startSmtpIntake({ POSTWARDEN_MAX_MESSAGE_BYTES: String(MAX_BYTES) });
    secret = await h.credential({ name: 'shop', allowFrom: ['*@example.com'] });
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  after(async () => {
    await h.close();
  });

  it('answers 250 2.0.0 Ok: queued as ID after the durable enqueue, body byte for byte minus Bcc', async () => {
    const client = await session();
    const head =
      'From: Shop <orders@example.com>\nTo: a@example.net\nMessage-ID: <m1@example.com>\nDate: Sat, 21 Nov 2026 18:00:00 +0000\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\nX-Keep: yes\n';
    const data = crlf(
      `${head}Bcc: hidden@example.org\nResent-Bcc: other@example.org,\n third@example.org\n\nline 1\n..dot-stuffed line\nBcc: not a header\n`,
    );
    const reply = await submit(client, data, { to: ['a@example.net', 'hidden@example.org'] });
    const id = QUEUED.exec(reply)?.[1];
    assert.ok(id, reply);
    assert.equal(await h.services.queue.hasJob(id), true);
    const body = await h.services.redis.getBuffer(h.services.keys.body(id));
    assert.deepEqual(
      body,
      crlf(`${head}\nline 1\n.dot-stuffed line\nBcc: not a header\n`),
      'only the Bcc fields are gone; dot-unstuffed body kept byte for byte',
    );
    const view = await h.services.store.view(id);
    assert.equal(view?.subject, 'Grüße');
    assert.deepEqual(view?.recipients.map((r) => r.address).sort(), [
      'a@example.net',
      'hidden@example.org',
    ]);
  });

  it('adds Message-ID and Date when missing and keeps an 8-bit UTF-8 body exactly', async () => {
    const client = await session();
    const original = crlf('From: orders@example.com\nSubject: 8bit\n\nGrüße 🚀 ünïcödé\n');
    const reply = await submit(client, original, { mailArgs: 'BODY=8BITMIME SMTPUTF8' });
    const id = QUEUED.exec(reply)?.[1];
    assert.ok(id, reply);
    const body = (await h.services.redis.getBuffer(h.services.keys.body(id))) as Buffer;
    const text = body.toString('utf8');
    assert.match(
      text,
      /^Message-ID: <[0-9a-f]{32}@example\.com>\r\nDate: \w{3}, \d{2} \w{3} \d{4} /,
    );
    assert.deepEqual(body.subarray(body.length - original.length), original);
  });

  it('answers a repeated Idempotency-Key with the first id and queues nothing new', async () => {
    const client = await session();
    const data = crlf('From: orders@example.com\nIdempotency-Key: order-42\nSubject: once\n\nhi\n');
    const first = QUEUED.exec(await submit(client, data))?.[1];
    assert.ok(first);
    await assertNothingQueued(async () => {
      const second = QUEUED.exec(await submit(client, data))?.[1];
      assert.equal(second, first);
    });
    const body = await h.services.redis.getBuffer(h.services.keys.body(first));
    assert.doesNotMatch(body?.toString('latin1') ?? '', /Idempotency-Key/i);
  });

  it('answers 550 5.7.1 when a From: mailbox or the Sender: is not granted', async () => {
    const client = await session();
    for (const head of [
      'From: ceo@bank.example\n',
      'From: orders@example.com, ceo@bank.example\n',
      'From: orders@example.com\nFrom: ceo@bank.example\n',
      'From: orders@example.com\nSender: ceo@bank.example\n',
      'From: garbage\n',
    ]) {
      await assertNothingQueued(async () => {
        const reply = await submit(client, crlf(`${head}Subject: x\n\nbody\n`));
        assert.match(reply, /^550 5\.7\.1 /, head);
      });
    }
  });

  it('answers 550 5.6.0 for a message without From:', async () => {
    const client = await session();
    await assertNothingQueued(async () => {
      const reply = await submit(client, crlf('Sender: orders@example.com\nSubject: x\n\nbody\n'));
      assert.match(reply, /^550 5\.6\.0 .*From/);
    });
  });

  it('answers 552 5.3.4 for an undeclared oversized message and stays usable', async () => {
    const client = await session();
    await assertNothingQueued(async () => {
      const big = crlf(`From: orders@example.com\n\n${'x'.repeat(998)}\n`.repeat(25));
      assert.ok(big.length > MAX_BYTES);
      assert.match(await submit(client, big), /^552 5\.3\.4 /);
    });
    assert.match(await submit(client, crlf('From: orders@example.com\n\nsmall\n')), QUEUED);
  });

  it('answers 550 5.6.0 for bare LF, bare CR or NUL anywhere in DATA', async () => {
    const client = await session();
    const cases = [
      Buffer.from('From: orders@example.com\r\n\r\nline\nnext\r\n'),
      Buffer.from('From: orders@example.com\r\n\r\nline\rnext\r\n'),
      Buffer.from('From: orders@example.com\r\n\r\nline\0next\r\n'),
      Buffer.from('From: orders@example.com\nSubject: x\r\n\r\nbody\r\n'),
    ];
    for (const data of cases) {
      await assertNothingQueued(async () => {
        assert.match(await submit(client, data), /^550 5\.6\.0 /, JSON.stringify(data.toString()));
      });
    }
  });

  it('lets no second message ride inside the first (SMTP smuggling)', async () => {
    const client = await session();
    const smuggled = Buffer.from(
      'From: orders@example.com\r\n\r\nhello\n.\r\nMAIL FROM:<orders@example.com>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nFrom: orders@example.com\r\n\r\nsmuggled\r\n',
    );
    await assertNothingQueued(async () => {
      assert.match(await submit(client, smuggled), /^550 5\.6\.0 /);
    });
    // Exactly one reply for the whole DATA: the next command gets its own answer.
    assert.equal(await client.command('NOOP'), '250 2.0.0 OK');
  });

  it('answers 451 4.7.1 when the credential is over its rate', async () => {
    const limitedSecret = await h.credential({
      name: 'limited',
      allowFrom: ['*@example.com'],
      ratePerMinute: 1,
    });
    const client = await session('limited', limitedSecret);
    const data = crlf('From: orders@example.com\n\nhi\n');
    assert.match(await submit(client, data), QUEUED);
    await assertNothingQueued(async () => {
      assert.match(await submit(client, data), /^451 4\.7\.1 /);
    });
  });

  it('answers 451 4.3.0 when the queue cannot durably take the message', async () => {
    const client = await session();
    const durability = h.services.durability;
    // Force the rare failure: durability not confirmed (e.g. AOF switched off).
    Object.defineProperty(durability, 'state', {
      configurable: true,
      get: () => ({ ok: false, reason: 'test: appendfsync is not always', useWaitAof: false }),
    });
    try {
      await assertNothingQueued(async () => {
        const reply = await submit(client, crlf('From: orders@example.com\n\nhi\n'));
        assert.match(reply, /^451 4\.3\.0 /);
      });
    } finally {
      Reflect.deleteProperty(durability, 'state');
    }
    assert.match(await submit(client, crlf('From: orders@example.com\n\nhi\n')), QUEUED);
  });

  it('refuses MAIL, and DATA in progress, from a credential revoked after AUTH', async () => {
    const revokedSecret = await h.credential({ name: 'gone', allowFrom: ['*@example.com'] });
    const client = await session('gone', revokedSecret);
    assert.match(await client.command('MAIL FROM:<orders@example.com>'), /^250 /);
    assert.match(await client.command('RCPT TO:<a@example.net>'), /^250 /);
    assert.match(await client.command('DATA'), /^354 /);
    await h.services.credentials.revoke('gone');
    await assertNothingQueued(async () => {
      const reply = await client.command('From: orders@example.com\r\n\r\nhi\r\n.');
      assert.match(reply, /^530 5\.7\.0 /);
      assert.match(await client.command('MAIL FROM:<orders@example.com>'), /^530 5\.7\.0 /);
    });
  });
});
