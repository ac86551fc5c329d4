import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import MailComposer from 'nodemailer/lib/mail-composer';
import type MimeNode from 'nodemailer/lib/mime-node';
import { messageBytes } from '../../src/intake/http/mime-bytes.js';

type Mail = ConstructorParameters<typeof MailComposer>[0];

/** The composer options compose.ts uses, with the generated fields fixed. */
function compile(mail: Mail): MimeNode {
  return new MailComposer({
    from: { name: 'Shop', address: 'orders@example.com' },
    to: [{ name: '', address: 'a@example.net' }],
    subject: 'Your order',
    date: new Date('2026-11-21T12:00:00Z'),
    messageId: '<fixed.1@example.com>',
    baseBoundary: 'fixedboundary',
    newline: 'win',
    disableFileAccess: true,
    disableUrlAccess: true,
    ...mail,
  }).compile();
}

/**
 * Bytes from messageBytes and from nodemailer's own build() of an identical node, and
 * whether messageBytes took the direct path.
 */
async function both(mail: Mail): Promise<{ fast: Buffer; built: Buffer; direct: boolean }> {
  const node = compile(mail);
  let direct = true;
  const build = node.build.bind(node);
  node.build = (() => {
    direct = false;
    return build();
  }) as MimeNode['build'];
  return { fast: await messageBytes(node), built: await compile(mail).build(), direct };
}

const LINE = 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghij';

/** Seeded generator, so a failure can be reproduced. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('messageBytes gives exactly the bytes of nodemailer build()', () => {
  it('for 7bit single-part messages, without build()', async () => {
    const cases: Mail[] = [
      { text: 'Thanks for your order.' },
      { text: `${LINE}\r\n`.repeat(30) },
      { text: `${LINE}\r\n`.repeat(30).slice(0, -2) },
      { text: 'ends with a bare CR\r' },
      { text: 'bare\nLF\nlines\n' },
      { text: 'lone\rCR inside' },
      { text: '\r\n\r\nleading blank lines' },
      { text: ' .dot\r\n.\r\n..\r\n' },
      { html: '<p>Hello</p>' },
      {
        text: 'with extras',
        cc: [{ name: 'C', address: 'c@example.net' }],
        replyTo: [{ name: '', address: 'r@example.com' }],
        headers: { 'X-Order': '42', 'List-Unsubscribe': '<mailto:u@example.com>' },
        subject: 'Grüße – non-ASCII subject',
      },
    ];
    for (const mail of cases) {
      const { fast, built, direct } = await both(mail);
      assert.equal(fast.toString('latin1'), built.toString('latin1'), JSON.stringify(mail));
      assert.equal(direct, true, JSON.stringify(mail));
    }
  });

  it('for everything else, by using build()', async () => {
    const cases: Mail[] = [
      { text: 'Grüße aus Köln' },
      { text: 'x'.repeat(200) },
      { text: '' },
      { text: 'plain', html: '<p>both</p>' },
      { text: 'with a file', attachments: [{ filename: 'a.txt', content: Buffer.from('hi') }] },
    ];
    for (const mail of cases) {
      const { fast, built, direct } = await both(mail);
      assert.equal(fast.toString('latin1'), built.toString('latin1'), JSON.stringify(mail));
      assert.equal(direct, false, JSON.stringify(mail));
    }
  });

  it('for 300 generated bodies of lines, blanks, spaces and bare line breaks', async () => {
    const next = random(20261121);
    const pieces = ['a', 'b', ' ', '\t', '.', '\r\n', '\r\n', '\n', '\r', 'é', LINE];
    let directCount = 0;
    for (let n = 0; n < 300; n++) {
      let text = '';
      const length = 1 + Math.floor(next() * 40);
      for (let i = 0; i < length; i++) text += pieces[Math.floor(next() * pieces.length)];
      const { fast, built, direct } = await both({ text });
      assert.equal(fast.toString('latin1'), built.toString('latin1'), JSON.stringify(text));
      if (direct) directCount++;
    }
    assert.ok(directCount > 50, `only ${directCount} bodies took the direct path`);
  });
});
