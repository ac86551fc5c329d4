import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editHeaders, parseHeaders } from '../../src/message/headers.js';

const HEAD = [
  'Bcc: first@example.net\r\n',
  'From: A <a@example.com>\r\n',
  'Bcc: secret@example.net,\r\n other@example.net\r\n',
  'Subject: hi\r\n',
  'Idempotency-Key: k1\r\n',
  'To: b@example.net\r\n',
];
const BODY = '\r\nBcc: body text stays\r\n\xff\xfe bytes\r\n';
const REMOVE = ['bcc', 'idempotency-key'];
const PREPEND = ['Message-ID: <x@example.com>', 'Date: Sat, 21 Nov 2026 18:00:00 +0000'];

function message(head: string[]): Buffer {
  return Buffer.from(head.join('') + BODY, 'latin1');
}

/** What the edit must produce, built the obvious way. */
function expected(head: string[], prepend: string[]): string {
  const kept = head.filter((line) => !/^(bcc|idempotency-key):/i.test(line));
  return prepend.map((line) => `${line}\r\n`).join('') + kept.join('') + BODY;
}

/** `raw` placed `headroom` bytes into a buffer of its own, as MessageBuffer does. */
function withHeadroom(raw: Buffer, headroom: number): Buffer {
  const block = Buffer.alloc(headroom + raw.length, 0x2a);
  raw.copy(block, headroom);
  return block.subarray(headroom);
}

describe('editHeaders', () => {
  const cases: [string, string[]][] = [
    ['first, middle and folded fields removed', HEAD],
    ['last field removed', [...HEAD.slice(1, 4), 'Bcc: last@example.net\r\n']],
    ['nothing to remove', ['From: a@example.com\r\n', 'Subject: x\r\n']],
  ];
  for (const [name, head] of cases) {
    for (const prepend of [[], PREPEND]) {
      it(`${name}, ${prepend.length} lines added: copy and in place agree`, () => {
        const want = expected(head, prepend);
        const original = message(head);
        const copied = editHeaders(original, parseHeaders(original), {
          remove: REMOVE,
          prepend,
        });
        assert.equal(copied.toString('latin1'), want);
        assert.ok(original.equals(message(head)), 'without headroom, raw is never written');

        const owned = withHeadroom(message(head), 256);
        const edited = editHeaders(owned, parseHeaders(owned), {
          remove: REMOVE,
          prepend,
          headroom: 256,
        });
        assert.equal(edited.toString('latin1'), want);
        assert.equal(edited.buffer, owned.buffer, 'edited in place, not copied');
        assert.equal(
          edited.byteOffset + edited.length,
          owned.byteOffset + owned.length,
          'the body did not move',
        );
      });
    }
  }

  it('copies when the added lines do not fit the headroom', () => {
    const owned = withHeadroom(message(['From: a@example.com\r\n']), 8);
    const edited = editHeaders(owned, parseHeaders(owned), { prepend: PREPEND, headroom: 8 });
    assert.notEqual(edited.buffer, owned.buffer);
    assert.equal(edited.toString('latin1'), expected(['From: a@example.com\r\n'], PREPEND));
  });

  it('returns the message itself when there is nothing to do', () => {
    const raw = message(['From: a@example.com\r\n']);
    assert.equal(editHeaders(raw, parseHeaders(raw), { remove: REMOVE, prepend: [] }), raw);
  });
});
