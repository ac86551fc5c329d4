import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawSmtpClient } from '../support/raw-smtp-client.js';
import { type SmtpIntakeHarness, startSmtpIntake } from '../support/smtp-intake.js';
import { waitUntil } from '../support/wait-until.js';

const QUEUED = /^250 2\.0\.0 Ok: queued as ([0-9a-z]{21})$/;
const LINE = 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghij\r\n';
const MB = 1024 * 1024;

function text(bytes: number): string {
  return LINE.repeat(Math.ceil(bytes / LINE.length));
}

/**
 * A large SMTP message is written to Redis while it arrives (intake/smtp/spooling-sink.ts,
 * queue/body-spool.ts), not held whole: the spool key exists before the final dot, the
 * accepted body is the edited message byte for byte, and a refused or abandoned message
 * leaves no spool behind.
 */
describe('SMTP intake: large bodies spooled to Redis as they arrive', () => {
  let h: SmtpIntakeHarness;
  let secret: string;

  before(async () => {
    h = await startSmtpIntake();
    secret = await h.credential({ name: 'shop', allowFrom: ['*@example.com'] });
  });

  after(async () => {
    await h.close();
  });

  // KEYS on the test's own throwaway Redis, to see what the intake left there.
  const spoolKeys = () => h.services.redis.keys(h.services.keys.bodySpool('*'));

  async function openData(): Promise<RawSmtpClient> {
    const client = await RawSmtpClient.connect(h.submissionPort);
    await client.command('EHLO client.test');
    assert.match(await client.authPlain('shop', secret), /^235 /);
    assert.match(await client.command('MAIL FROM:<orders@example.com>'), /^250 /);
    assert.match(await client.command('RCPT TO:<a@example.net>'), /^250 /);
    assert.match(await client.command('DATA'), /^354 /);
    return client;
  }

  async function spooledBytes(): Promise<number> {
    const [key] = await spoolKeys();
    return key ? h.services.redis.strlen(key) : 0;
  }

  it('writes the body to a spool key with a TTL before the final dot, then stages it whole', async () => {
    const head =
      'From: Shop <orders@example.com>\r\nBcc: hidden@example.org\r\nSubject: big\r\n\r\n';
    const body = text(3 * MB);
    const client = await openData();
    client.write(head + body);
    await waitUntil(async () => (await spooledBytes()) >= 2 * MB, 10_000, 'spooled bytes');
    const [key] = await spoolKeys();
    assert.ok(key);
    assert.ok((await h.services.redis.ttl(key)) > 0, 'the spool has a TTL');
    const id = QUEUED.exec(await client.send('.\r\n', 30_000))?.[1];
    client.close();
    assert.ok(id);
    const stored = (await h.services.redis.getBuffer(h.services.keys.body(id))) as Buffer;
    const tail = `From: Shop <orders@example.com>\r\nSubject: big\r\n\r\n${body}`;
    const added = stored.subarray(0, stored.length - tail.length).toString('latin1');
    assert.match(added, /^Message-ID: <[0-9a-f]{32}@example\.com>\r\nDate: .+ \+0000\r\n$/);
    assert.equal(stored.subarray(added.length).toString('latin1'), tail);
    assert.equal(await h.services.redis.ttl(h.services.keys.body(id)), -1, 'persisted');
    const record = await h.services.store.view(id);
    assert.equal(record?.status, 'queued');
    assert.deepEqual(await spoolKeys(), []);
  });

  it('deletes the spool of a client that disconnects mid-DATA', async () => {
    const before = (await h.messageIds()).length;
    const client = await openData();
    client.write(`From: orders@example.com\r\nSubject: gone\r\n\r\n${text(3 * MB)}`);
    await waitUntil(async () => (await spooledBytes()) >= MB, 10_000, 'spooled bytes');
    client.close();
    await waitUntil(async () => (await spoolKeys()).length === 0, 10_000, 'spool deleted');
    assert.equal((await h.messageIds()).length, before);
  });

  it('refuses a spooled message with an ungranted From: and leaves no spool', async () => {
    const client = await openData();
    const reply = await client.send(
      `From: ceo@victim.test\r\nSubject: spoof\r\n\r\n${text(2 * MB)}.\r\n`,
      30_000,
    );
    client.close();
    assert.match(reply, /^550 5\.7\.1 /);
    await waitUntil(async () => (await spoolKeys()).length === 0, 10_000, 'no spool');
  });

  it('refuses a bare LF deep inside a spooled message and leaves no spool', async () => {
    const client = await openData();
    const body = text(3 * MB);
    const at = 2 * MB - ((2 * MB) % LINE.length);
    const smuggled = `${body.slice(0, at)}.\nMAIL FROM:<x@example.com>\r\n${body.slice(at)}`;
    const reply = await client.send(
      `From: orders@example.com\r\n\r\n${smuggled.replace(/^\./gm, '..')}.\r\n`,
      30_000,
    );
    client.close();
    assert.match(reply, /^550 5\.6\.0 /);
    await waitUntil(async () => (await spoolKeys()).length === 0, 10_000, 'no spool');
  });
});
