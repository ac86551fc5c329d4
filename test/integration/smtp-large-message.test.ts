import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawSmtpClient } from '../support/raw-smtp-client.js';
import { type SmtpIntakeHarness, startSmtpIntake } from '../support/smtp-intake.js';

const QUEUED = /^250 2\.0\.0 Ok: queued as ([0-9a-z]{21})$/;
const LINE = 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghij\r\n';

/** About `bytes` of body: whole CRLF lines, every 1000th starting with a dot. */
function body(bytes: number): string {
  const lines: string[] = [];
  for (let n = 0, total = 0; total < bytes; n++) {
    const line = n % 1000 === 999 ? `.${LINE}` : LINE;
    lines.push(line);
    total += line.length;
  }
  return lines.join('');
}

/** DATA payload: dot-stuffed, with the final `.` line. */
function dotStuffed(message: string): Buffer {
  return Buffer.from(`${message.replace(/^\./gm, '..')}.\r\n`, 'latin1');
}

/**
 * Messages past the intake's small-message limit (message-buffer.ts) take the block path:
 * every byte must still arrive, the header edits (made in place there) must be exact,
 * and the smuggling and size checks must still hold.
 */
describe('SMTP intake: large messages', () => {
  let h: SmtpIntakeHarness;
  let secret: string;

  before(async () => {
    h = await startSmtpIntake();
    secret = await h.credential({ name: 'shop', allowFrom: ['*@example.com'] });
  });

  after(async () => {
    await h.close();
  });

  async function submit(data: Buffer): Promise<string> {
    const client = await RawSmtpClient.connect(h.submissionPort);
    try {
      await client.command('EHLO client.test');
      assert.match(await client.authPlain('shop', secret), /^235 /);
      assert.match(await client.command('MAIL FROM:<orders@example.com>'), /^250 /);
      assert.match(await client.command('RCPT TO:<a@example.net>'), /^250 /);
      assert.match(await client.command('DATA'), /^354 /);
      client.write(data);
      return await client.readReply(30_000);
    } finally {
      client.close();
    }
  }

  it('stores a 6 MB message byte for byte, Bcc removed, Message-ID and Date added', async () => {
    const head =
      'From: Shop <orders@example.com>\r\nBcc: hidden@example.org,\r\n other@example.org\r\n' +
      'To: a@example.net\r\nSubject: large\r\n\r\n';
    const text = body(6_000_000);
    const reply = await submit(dotStuffed(head + text));
    const id = QUEUED.exec(reply)?.[1];
    assert.ok(id, reply);
    const stored = (await h.services.redis.getBuffer(h.services.keys.body(id))) as Buffer;
    const expectedTail = Buffer.from(
      `From: Shop <orders@example.com>\r\nTo: a@example.net\r\nSubject: large\r\n\r\n${text}`,
      'latin1',
    );
    const added = stored.subarray(0, stored.length - expectedTail.length).toString('latin1');
    assert.match(added, /^Message-ID: <[0-9a-f]{32}@example\.com>\r\nDate: .+ \+0000\r\n$/);
    assert.ok(stored.subarray(added.length).equals(expectedTail), 'rest byte for byte');
  });

  it('still refuses a bare LF deep inside a large message', async () => {
    const text = body(6_000_000);
    const at = 5_500_000 - (5_500_000 % LINE.length);
    const smuggled = `${text.slice(0, at)}.\nMAIL FROM:<x@example.com>\r\n${text.slice(at)}`;
    const reply = await submit(dotStuffed(`From: orders@example.com\r\n\r\n${smuggled}`));
    assert.match(reply, /^550 5\.6\.0 Message contains a bare CR, bare LF or NUL/);
  });
});
