import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { composeSubmission } from '../../src/intake/http/compose.js';
import {
  type CheckedMessage,
  checkIdempotencyKey,
  checkMessageRequest,
} from '../../src/intake/http/request-checks.js';
import type { MessageRequest } from '../../src/intake/http/schemas.js';
import { isDenial } from '../../src/security/verdict.js';

function checked(overrides: Partial<MessageRequest> = {}): CheckedMessage {
  const result = checkMessageRequest({
    from: 'Shop <orders@example.com>',
    to: ['a@example.net'],
    subject: 'Your order',
    text: 'Thanks for your order.',
    ...overrides,
  });
  if (isDenial(result)) throw new Error(`unexpected denial: ${result.message}`);
  return result;
}

function headerBlock(raw: Buffer): string {
  const text = raw.toString('latin1');
  return text.slice(0, text.indexOf('\r\n\r\n') + 2);
}

describe('composeSubmission', () => {
  it('puts bcc recipients in the envelope but never in the headers', async () => {
    const submission = await composeSubmission(
      checked({ to: 'a@example.net', cc: ['c@example.net'], bcc: ['hidden@example.org'] }),
    );
    assert.deepEqual(submission.envelope.to, [
      'a@example.net',
      'c@example.net',
      'hidden@example.org',
    ]);
    const raw = submission.raw.toString('latin1');
    assert.doesNotMatch(raw, /^bcc:/im);
    assert.doesNotMatch(raw, /hidden@example\.org/);
    assert.match(headerBlock(submission.raw), /^Cc: c@example\.net\r$/m);
  });

  it('fills the submission from the request: envelope, senders, ids and key', async () => {
    const submission = await composeSubmission(
      checked({ to: ['a@example.net', 'A@EXAMPLE.NET'], cc: 'a@example.net' }),
      { idempotencyKey: 'order-42' },
    );
    assert.equal(submission.protocol, 'http');
    assert.equal(submission.envelope.from, 'orders@example.com');
    assert.deepEqual(submission.envelope.to, ['a@example.net'], 'recipients are deduplicated');
    assert.deepEqual(submission.headerSenders, ['orders@example.com']);
    assert.equal(submission.fromHeader, 'Shop <orders@example.com>');
    assert.equal(submission.subject, 'Your order');
    assert.equal(submission.idempotencyKey, 'order-42');
    assert.match(submission.messageIdHeader, /^<[^<>@\s]+@example\.com>$/);
    const head = headerBlock(submission.raw);
    assert.ok(head.includes(`Message-ID: ${submission.messageIdHeader}\r\n`));
    assert.match(head, /^Date: .+\r$/m);
    assert.match(head, /^From: Shop <orders@example\.com>\r$/m);
  });

  it('builds a multipart/alternative of text and html', async () => {
    const submission = await composeSubmission(
      checked({ text: 'plain\nbody', html: '<p>html body</p>' }),
    );
    const raw = submission.raw.toString('utf8');
    assert.match(raw, /^Content-Type: multipart\/alternative;/m);
    assert.match(raw, /Content-Type: text\/plain; charset=utf-8\r\n[\s\S]*plain\r\nbody/);
    assert.match(raw, /Content-Type: text\/html; charset=utf-8\r\n[\s\S]*<p>html body<\/p>/);
  });

  it('encodes attachments in base64 with their filename and type', async () => {
    const pdf = Buffer.from('%PDF-1.4 not really a pdf \x00\xff', 'latin1');
    const submission = await composeSubmission(
      checked({
        attachments: [
          {
            filename: 'invoice.pdf',
            contentType: 'application/pdf',
            content: pdf.toString('base64'),
          },
        ],
      }),
    );
    const raw = submission.raw.toString('latin1');
    assert.match(raw, /^Content-Type: multipart\/mixed;/m);
    assert.match(raw, /Content-Type: application\/pdf; name=invoice\.pdf\r\n/);
    assert.match(raw, /Content-Disposition: attachment; filename=invoice\.pdf\r\n/);
    assert.match(raw, /Content-Transfer-Encoding: base64\r\n/);
    assert.ok(raw.includes(pdf.toString('base64')), 'the bytes are there, base64-encoded');
  });

  it('keeps custom headers', async () => {
    const submission = await composeSubmission(
      checked({
        headers: { 'X-Campaign': 'spring-sale', 'List-Unsubscribe': '<https://x.example/u>' },
      }),
    );
    assert.match(headerBlock(submission.raw), /^X-Campaign: spring-sale\r$/m);
    assert.match(headerBlock(submission.raw), /^List-Unsubscribe: <https:\/\/x\.example\/u>\r$/m);
  });

  it('writes only CRLF line breaks, whatever the client sent', async () => {
    const submission = await composeSubmission(
      checked({ text: 'one\ntwo\rthree\r\n.\nfour', html: '<p>a</p>\n<p>b</p>\r' }),
    );
    const raw = submission.raw.toString('latin1');
    assert.doesNotMatch(raw, /[^\r]\n/, 'no bare LF');
    assert.doesNotMatch(raw, /\r(?!\n)/, 'no bare CR');
  });
});

describe('checkMessageRequest', () => {
  const base: MessageRequest = {
    from: 'orders@example.com',
    to: 'a@example.net',
    subject: 'hi',
    text: 'x',
  };
  const refusals: Array<[string, Partial<MessageRequest>]> = [
    ['CR/LF in from', { from: 'orders@example.com\r\nBcc: v@evil.test' }],
    ['LF in to', { to: 'a@example.net\nBcc: v@evil.test' }],
    ['CR in cc', { cc: ['c@example.net\r'] }],
    ['LF in bcc', { bcc: 'b@example.net\n' }],
    ['CR/LF in replyTo', { replyTo: 'r@example.net\r\nX: y' }],
    ['CR/LF in subject', { subject: 'hi\r\nBcc: v@evil.test' }],
    ['NUL in subject', { subject: 'hi\0' }],
    ['NUL in text', { text: 'a\0b' }],
    ['CR/LF in a header value', { headers: { 'X-A': 'v\r\nBcc: v@evil.test' } }],
    ['a header name with a space', { headers: { 'X Bad': 'v' } }],
    ['a header name with a colon', { headers: { 'X-A:': 'v' } }],
    ['a Bcc custom header', { headers: { bcc: 'v@evil.test' } }],
    ['a From custom header', { headers: { From: 'ceo@example.com' } }],
    ['a Content-* custom header', { headers: { 'Content-Type': 'text/html' } }],
    ['a DKIM-Signature custom header', { headers: { 'DKIM-Signature': 'v=1' } }],
    ['a Received custom header', { headers: { Received: 'from x' } }],
    ['two addresses in one string', { to: 'a@example.net, b@example.net' }],
    ['a group', { to: 'undisclosed: a@example.net;' }],
    ['an invalid address', { to: 'not-an-address' }],
    ['a percent-hack address', { to: 'a%b@example.net' }],
    ['no recipients', { to: [], cc: [] }],
    ['CR/LF in an attachment filename', { attachments: [{ filename: 'a\r\n.pdf', content: '' }] }],
    [
      'CR/LF in an attachment contentType',
      { attachments: [{ filename: 'a.pdf', contentType: 'text/plain\r\nX: y', content: '' }] },
    ],
    ['invalid base64', { attachments: [{ filename: 'a.pdf', content: 'not base64!' }] }],
  ];
  for (const [name, overrides] of refusals) {
    it(`refuses ${name} as invalid_request`, () => {
      const result = checkMessageRequest({ ...base, ...overrides });
      assert.ok(isDenial(result), 'refused');
      assert.equal(result.code, 'invalid_request');
    });
  }

  it('accepts display names, arrays and wrapped base64', () => {
    const result = checkMessageRequest({
      ...base,
      from: '"Shop, Inc." <orders@example.com>',
      to: ['Alice <a@example.net>', 'b@example.net'],
      attachments: [{ filename: 'a.txt', content: 'aGVs\r\nbG8=' }],
    });
    assert.ok(!isDenial(result));
    assert.equal(result.from.address, 'orders@example.com');
    assert.deepEqual(
      result.to.map((m) => m.address),
      ['a@example.net', 'b@example.net'],
    );
    assert.equal(result.attachments[0]?.content.toString(), 'hello');
  });
});

describe('checkIdempotencyKey', () => {
  it('accepts absent and printable keys, refuses long or control-character keys', () => {
    assert.deepEqual(checkIdempotencyKey(undefined), { key: undefined });
    assert.deepEqual(checkIdempotencyKey('order 42'), { key: 'order 42' });
    assert.ok(isDenial(checkIdempotencyKey('x'.repeat(201))));
    assert.ok(isDenial(checkIdempotencyKey('a\tb')));
    assert.ok(isDenial(checkIdempotencyKey('')));
    assert.ok(isDenial(checkIdempotencyKey(['a', 'b'])));
  });
});
