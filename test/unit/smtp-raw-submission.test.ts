import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRawSubmission } from '../../src/intake/smtp/raw-submission.js';

const envelope = { from: 'orders@shop.example', to: ['a@example.net'] };
const now = new Date('2026-11-21T18:00:00Z');

function crlf(text: string): Buffer {
  return Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8');
}

function build(text: string) {
  const result = buildRawSubmission(crlf(text), envelope, { hostname: 'relay.test', now });
  assert.ok(result.ok, 'built');
  return result.submission;
}

describe('buildRawSubmission', () => {
  it('removes Bcc, Resent-Bcc and Idempotency-Key fields only, and takes the key', () => {
    const s = build(
      'Message-ID: <x@y.z>\nDate: Sat, 21 Nov 2026 18:00:00 +0000\nFrom: a@shop.example\nbcc: v@evil.example\nResent-Bcc: w@evil.example,\n\tz@evil.example\nIdempotency-Key:  k-1 \nSubject: s\n\nBcc: stays in the body\n',
    );
    assert.deepEqual(
      s.raw,
      crlf(
        'Message-ID: <x@y.z>\nDate: Sat, 21 Nov 2026 18:00:00 +0000\nFrom: a@shop.example\nSubject: s\n\nBcc: stays in the body\n',
      ),
    );
    assert.equal(s.idempotencyKey, 'k-1');
    assert.equal(s.messageIdHeader, '<x@y.z>');
    assert.equal(s.protocol, 'smtp');
    assert.deepEqual(s.envelope, envelope);
  });

  it('prepends Message-ID (sender domain) and Date when missing, body untouched', () => {
    const original = crlf('From: a@shop.example\nSubject: s\n\n8bit: Grüße\n');
    const result = buildRawSubmission(original, envelope, { hostname: 'relay.test', now });
    assert.ok(result.ok);
    const { raw, messageIdHeader, idempotencyKey } = result.submission;
    assert.match(messageIdHeader, /^<[0-9a-f]{32}@shop\.example>$/);
    assert.equal(
      raw.subarray(0, raw.length - original.length).toString('latin1'),
      `Message-ID: ${messageIdHeader}\r\nDate: Sat, 21 Nov 2026 18:00:00 +0000\r\n`,
    );
    assert.deepEqual(raw.subarray(raw.length - original.length), original);
    assert.equal(idempotencyKey, undefined);
  });

  it('uses the hostname for the Message-ID with a null envelope sender and no usable From domain', () => {
    const result = buildRawSubmission(
      crlf('From: Someone <ü@bücher.example>\n\nx\n'),
      { from: '', to: ['a@b.example'] },
      {
        hostname: 'relay.test',
      },
    );
    assert.ok(result.ok);
    assert.match(result.submission.messageIdHeader, /@relay\.test>$/);
  });

  it('collects the From:, Sender:, Resent-From: and Resent-Sender: mailboxes as header senders', () => {
    const s = build(
      'From: "Shop" <a@shop.example>\nSender: =?UTF-8?Q?Caf=C3=A9?= <d@shop.example>\nResent-From: e@shop.example\nResent-Sender: F <f@shop.example>\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\n\nx\n',
    );
    assert.deepEqual(s.headerSenders, [
      'a@shop.example',
      'd@shop.example',
      'e@shop.example',
      'f@shop.example',
    ]);
    assert.equal(s.fromHeader, '"Shop" <a@shop.example>');
    assert.equal(s.subject, 'Grüße');
  });

  it('removes a submitted Return-Path', () => {
    const s = build('Return-Path: <ceo@bank.example>\nFrom: a@shop.example\nSubject: s\n\nx\n');
    assert.doesNotMatch(s.raw.toString('latin1'), /Return-Path/i);
  });

  it('refuses header senders that are not exactly one well-formed mailbox each', () => {
    for (const text of [
      'From: garbage\n\nx\n',
      'From: a@shop.example, b@shop.example\n\nx\n',
      'From: a@shop.example\nFrom: b@shop.example\n\nx\n',
      'From: undisclosed:;\n\nx\n',
      'From: a@shop.example\nSender: ceo@bank.example <a@shop.example\n\nx\n',
      'From: a@shop.example\nSender: a@shop.example\nSender: b@shop.example\n\nx\n',
      'From: a@shop.example\nResent-From: <a@shop.example> ceo@bank.example\n\nx\n',
      'From: a@shop.example\nResent-Sender: x@@shop.example\n\nx\n',
    ]) {
      const result = buildRawSubmission(crlf(text), envelope);
      assert.equal(result.ok ? 'ok' : result.reason, 'bad_header_sender', text);
    }
  });

  it('refuses a message without a From: mailbox', () => {
    for (const text of ['Sender: a@shop.example\n\nx\n', 'From: \n\nx\n', 'no headers at all']) {
      assert.deepEqual(
        buildRawSubmission(crlf(text), envelope),
        { ok: false, reason: 'no_from_header' },
        text,
      );
    }
  });
});
