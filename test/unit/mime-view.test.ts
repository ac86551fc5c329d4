import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readMessageParts } from '../../src/admin/mime-view.js';

const message = (disposition: string) =>
  Buffer.from(
    [
      'From: a@example.com',
      'Subject: hidden?',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'the visible text',
      '--b',
      'Content-Type: application/octet-stream',
      `Content-Disposition: ${disposition}`,
      '',
      'AAAA',
      '--b--',
      '',
    ].join('\r\n'),
  );

describe('admin MIME viewer on hostile content', () => {
  it("shows a part whose RFC 2231 filename has a broken escape (filename*=utf-8''%E0%A4) instead of failing", () => {
    const parts = readMessageParts(message("attachment; filename*=utf-8''%E0%A4"));
    assert.equal(parts.text, 'the visible text');
    assert.deepEqual(
      parts.attachments.map((part) => part.filename),
      ['%E0%A4'],
    );
  });

  it('still decodes a well-formed RFC 2231 filename', () => {
    const parts = readMessageParts(message("attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf"));
    assert.equal(parts.attachments[0]?.filename, 'résumé.pdf');
  });
});
