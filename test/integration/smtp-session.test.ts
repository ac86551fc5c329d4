import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { createSmtpIntake } from '../../src/intake/smtp/server.js';
import { createAcceptDoor } from '../../src/runtime/intake-role.js';
import { silentLogger } from '../support/log-sink.js';
import { RawSmtpClient } from '../support/raw-smtp-client.js';
import { type SmtpIntakeHarness, startSmtpIntake } from '../support/smtp-intake.js';
import { testTlsPair } from '../support/tls.js';

const MAX_BYTES = 20_000;

describe('SMTP intake: greeting, TLS, AUTH and envelope', () => {
  let h: SmtpIntakeHarness;
  let secret: string;
  let narrowSecret: string;
  const clients: RawSmtpClient[] = [];

  async function connect(options: { implicitTls?: boolean } = {}): Promise<RawSmtpClient> {
    const port = options.implicitTls ? h.smtpsPort : h.submissionPort;
    const client = await RawSmtpClient.connect(port, options);
    clients.push(client);
    return client;
  }

  async function authed(user = 'shop', pass = secret): Promise<RawSmtpClient> {
    const client = await connect();
    await client.command('EHLO client.test');
    assert.match(await client.authPlain(user, pass), /^235 /);
    return client;
  }

  /** Another intake on the same services, on the ports given (not listening yet). */
  async function secondIntake(submissionPort: number, smtpsPort: number | 'ephemeral') {
    return createSmtpIntake({
      host: '127.0.0.1',
      submissionPort,
      smtpsPort,
      tls: await testTlsPair(),
      maxMessageBytes: MAX_BYTES,
      credentials: h.services.credentials,
      abuseGuard: h.services.abuseGuard,
      accept: createAcceptDoor(h.config, h.services, silentLogger),
      logger: silentLogger,
    });
  }

  before(async () => {
    h = await startSmtpIntake({
      POSTWARDEN_MAX_MESSAGE_BYTES: String(MAX_BYTES),
      POSTWARDEN_MAX_RECIPIENTS: '5',
    });
    secret = await h.credential({ name: 'shop', allowFrom: ['*@example.com'] });
    narrowSecret = await h.credential({
      name: 'narrow',
      allowFrom: ['only@example.com'],
      maxRecipients: 2,
    });
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    // Failed logins from 127.0.0.1 must not add up to a ban across tests.
    await h.services.abuseGuard.unban('127.0.0.1');
  });

  after(async () => {
    await h.close();
  });

  it('advertises the contract extensions in cleartext, STARTTLS included', async () => {
    const client = await connect();
    assert.match(client.greeting, /^220 relay\.test ESMTP/);
    const ehlo = (await client.command('EHLO client.test')).split('\n');
    for (const line of [
      '250-PIPELINING',
      '250-8BITMIME',
      '250-SMTPUTF8',
      '250-ENHANCEDSTATUSCODES',
      '250-AUTH PLAIN LOGIN',
      '250-STARTTLS',
    ]) {
      assert.ok(ehlo.includes(line), `${line} in ${ehlo.join(' | ')}`);
    }
    assert.equal(ehlo.at(-1), `250 SIZE ${MAX_BYTES}`);
  });

  it('drops STARTTLS from EHLO once TLS is on, and AUTH then works', async () => {
    const client = await connect();
    await client.command('EHLO client.test');
    assert.match(await client.startTls(), /^220 /);
    const ehlo = await client.command('EHLO client.test');
    assert.doesNotMatch(ehlo, /STARTTLS/);
    assert.match(ehlo, /250-AUTH PLAIN LOGIN/);
    assert.match(ehlo, /ENHANCEDSTATUSCODES/);
    assert.equal(await client.authPlain('shop', secret), '235 2.7.0 Authentication successful');
  });

  it('accepts AUTH LOGIN as well as PLAIN', async () => {
    const client = await connect();
    await client.command('EHLO client.test');
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    assert.match(await client.command('AUTH LOGIN'), /^334 /);
    assert.match(await client.command(b64('shop')), /^334 /);
    assert.equal(await client.command(b64(secret)), '235 2.7.0 Authentication successful');
  });

  it('speaks implicit TLS on the SMTPS port without offering STARTTLS', async () => {
    const client = await connect({ implicitTls: true });
    assert.match(client.greeting, /^220 /);
    const ehlo = await client.command('EHLO client.test');
    assert.doesNotMatch(ehlo, /STARTTLS/);
    assert.match(ehlo, /AUTH PLAIN LOGIN/);
  });

  it('sends with nodemailer over STARTTLS (required) and over SMTPS', async () => {
    for (const [port, secure] of [
      [h.submissionPort, false],
      [h.smtpsPort, true],
    ] as const) {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port,
        secure,
        requireTLS: !secure,
        auth: { user: 'shop', pass: secret },
        tls: { rejectUnauthorized: false },
      });
      const info = await transport.sendMail({
        from: 'orders@example.com',
        to: 'a@example.net',
        subject: `tls ${secure}`,
        text: 'hello',
      });
      transport.close();
      const id = /^250 2\.0\.0 Ok: queued as ([0-9a-z]{21})$/.exec(info.response)?.[1];
      assert.ok(id, info.response);
      assert.equal((await h.services.store.view(id))?.subject, `tls ${secure}`);
    }
  });

  it('answers MAIL FROM without AUTH with 530 5.7.0', async () => {
    const client = await connect();
    await client.command('EHLO client.test');
    assert.match(await client.command('MAIL FROM:<orders@example.com>'), /^530 5\.7\.0 /);
  });

  it('answers wrong secrets 535 5.7.8, the third with 421 4.7.0 and a close, each logged', async () => {
    const before = h.logs.filter((l) => l.event === 'auth_failed').length;
    const client = await connect();
    await client.command('EHLO client.test');
    assert.match(await client.authPlain('shop', 'pw_wrong'), /^535 5\.7\.8 /);
    assert.match(await client.authPlain('nobody', 'pw_wrong'), /^535 5\.7\.8 /);
    assert.match(await client.authPlain('shop', ''), /^421 4\.7\.0 /);
    await client.closed();
    const failures = h.logs.filter((l) => l.event === 'auth_failed').slice(before);
    assert.deepEqual(
      failures.map((l) => [l.ip, l.protocol, l.user]),
      [
        ['127.0.0.1', 'smtp', 'shop'],
        ['127.0.0.1', 'smtp', 'nobody'],
        ['127.0.0.1', 'smtp', 'shop'],
      ],
    );
    assert.ok(!JSON.stringify(h.logs).includes('pw_wrong'), 'secrets never logged');
  });

  it('refuses a banned IP at connect with 554 5.7.1 and closes', async () => {
    for (let i = 0; i < 10; i++) {
      await h.services.abuseGuard.recordFailure({ ip: '127.0.0.1', protocol: 'smtp', user: 'x' });
    }
    assert.equal(await h.services.abuseGuard.isBanned('127.0.0.1'), true);
    const client = await connect();
    assert.match(client.greeting, /^554 5\.7\.1 /);
    await client.closed();
  });

  it('answers an ungranted MAIL FROM 553 5.7.1 and bad sender syntax 501 5.1.7', async () => {
    const client = await authed('narrow', narrowSecret);
    assert.match(await client.command('MAIL FROM:<other@example.com>'), /^553 5\.7\.1 /);
    assert.match(await client.command('MAIL FROM:<>'), /^553 5\.7\.1 /);
    assert.match(await client.command('MAIL FROM:<a%b@example.com>'), /^501 5\.1\.7 /);
    assert.match(await client.command('MAIL FROM:<only@example.com>'), /^250 /);
  });

  it('answers a declared SIZE over the limit with 552 5.3.4 at MAIL FROM', async () => {
    const client = await authed();
    const reply = await client.command(`MAIL FROM:<orders@example.com> SIZE=${MAX_BYTES + 1}`);
    assert.match(reply, /^552 5\.3\.4 /);
  });

  it('answers recipients beyond the credential limit 452 4.5.3 and bad ones 5.1.3', async () => {
    const client = await authed('narrow', narrowSecret);
    assert.match(await client.command('MAIL FROM:<only@example.com>'), /^250 /);
    assert.match(await client.command('RCPT TO:<a@example.net>'), /^250 /);
    assert.match(await client.command('RCPT TO:<b@example.net>'), /^250 /);
    assert.match(await client.command('RCPT TO:<c@example.net>'), /^452 4\.5\.3 /);
    assert.match(await client.command('RCPT TO:<d@example.net>'), /^452 4\.5\.3 /);
    assert.match(await client.command('RCPT TO:<A@example.net>'), /^250 /, 'a repeat is no extra');
    assert.match(await client.command('RCPT TO:<user@localhost>'), /^553 5\.1\.3 /);
    assert.match(await client.command('RCPT TO:<not an address>'), /^501 5\.1\.3 /);
  });

  it('close(deadline) stops accepting, then cuts open sessions with 421', async () => {
    const intake = await secondIntake(0, 0);
    const { submissionPort, smtpsPort } = await intake.listen();
    assert.equal(smtpsPort, undefined, 'SMTPS port 0 = off');
    const client = await RawSmtpClient.connect(submissionPort);
    clients.push(client);
    await client.command('EHLO client.test');
    const started = Date.now();
    await intake.close(300);
    assert.ok(Date.now() - started < 5000);
    assert.match(await client.readReply(), /^421 /);
    await client.closed();
    await assert.rejects(RawSmtpClient.connect(submissionPort), /ECONNREFUSED/);
    await intake.close(); // idempotent
  });

  it('rejects listen() on a port in use with the errno code, the port and its variable', async () => {
    const intake = await secondIntake(h.submissionPort, 'ephemeral');
    await assert.rejects(intake.listen(), {
      code: 'EADDRINUSE',
      port: h.submissionPort,
      variable: 'POSTWARDEN_SMTP_PORT',
    });
    await intake.close();
  });
});
