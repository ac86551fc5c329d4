import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import MailComposer from 'nodemailer/lib/mail-composer';
import MimeNode from 'nodemailer/lib/mime-node';
import {
  headerKeysRemembered,
  NODEMAILER_VERSION_PATCHED,
  nodemailerVersion,
} from '../../src/intake/http/nodemailer-patches.js';

/**
 * nodemailer's CommonJS build is a module of its own, which the patch (applied to the ES
 * module build compose.ts uses) leaves alone: the reference for what nodemailer does.
 */
const require = createRequire(import.meta.url);
const Unpatched = {
  MimeNode: require('nodemailer/lib/mime-node') as typeof MimeNode,
  MailComposer: require('nodemailer/lib/mail-composer') as typeof MailComposer,
};

type Normalize = (key: unknown) => string;
const normalizer = (node: MimeNode) =>
  (node as unknown as { _normalizeHeaderKey: Normalize })._normalizeHeaderKey.bind(node);

const NAMES = [
  'content-type',
  'CONTENT-TRANSFER-ENCODING',
  'mime-version',
  'message-id',
  'x-smtpapi',
  'dkim-signature',
  'arc-seal',
  'bimi-selector',
  'otp-token',
  'x-spf',
  'list-unsubscribe-post',
  'content-features',
  'x-content-md5',
  'From: ceo@example.com (',
  ' x\ttab\x7fed:name ',
  'ünïcode-name',
  '',
];

describe('nodemailer patches (intake/http/nodemailer-patches.ts)', () => {
  it('are written against the installed nodemailer, which package.json pins', () => {
    assert.equal(nodemailerVersion(), NODEMAILER_VERSION_PATCHED);
    assert.equal(headerKeysRemembered, true);
    const pinned = (require('../../package.json') as { dependencies: Record<string, string> })
      .dependencies.nodemailer;
    assert.equal(pinned, NODEMAILER_VERSION_PATCHED);
  });

  it('normalise every header name as nodemailer itself does, first time and remembered', () => {
    const patched = normalizer(new MimeNode());
    const reference = normalizer(new Unpatched.MimeNode());
    assert.notEqual(
      (MimeNode.prototype as unknown as { _normalizeHeaderKey: Normalize })._normalizeHeaderKey,
      (Unpatched.MimeNode.prototype as unknown as { _normalizeHeaderKey: Normalize })
        ._normalizeHeaderKey,
      'the ES module build is the patched one',
    );
    // Past the number remembered too: names beyond it are normalised, just not kept.
    const many = [...NAMES, ...Array.from({ length: 1500 }, (_, i) => `x-custom-${i}`)];
    for (const round of [1, 2]) {
      for (const name of many) {
        assert.equal(patched(name), reference(name), `${JSON.stringify(name)}, round ${round}`);
      }
    }
    for (const odd of [undefined, null, 42]) assert.equal(patched(odd), reference(odd));
  });

  it('leave a composed message byte for byte as nodemailer builds it', async () => {
    const mail = {
      from: { name: 'Shöp', address: 'orders@example.com' },
      to: [{ name: '', address: 'a@example.net' }],
      cc: [{ name: 'C', address: 'c@example.net' }],
      bcc: [{ name: '', address: 'b@example.net' }],
      subject: 'Your order ✓',
      text: 'Thanks.\r\nA line.',
      html: '<p>Thanks.</p>',
      headers: { 'X-Campaign': 'fall', 'list-unsubscribe': '<mailto:u@example.com>' },
      attachments: [{ filename: 'a.txt', content: Buffer.from('attached') }],
      date: new Date('2026-12-03T12:00:00Z'),
      messageId: '<fixed.1@example.com>',
      baseBoundary: 'fixedboundary',
      newline: 'win' as const,
      disableFileAccess: true,
      disableUrlAccess: true,
    };
    const built = await new MailComposer(mail).compile().build();
    const reference = await new Unpatched.MailComposer(mail).compile().build();
    assert.equal(built.toString(), reference.toString());
    assert.ok(!built.toString().includes('b@example.net'), 'bcc stays out of the headers');
  });
});
