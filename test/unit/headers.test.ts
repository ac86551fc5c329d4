import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeEncodedWords,
  editHeaders,
  headerValues,
  parseHeaders,
} from '../../src/message/headers.js';

const RAW = Buffer.from(
  'From: A <a@example.com>\r\nBcc: secret@example.net,\r\n other@example.net\r\nSubject: =?UTF-8?B?SGVsbG8gw7w=?=\r\nTo: b@example.net\r\n\r\nBcc: this is body text\r\n\xff\xfe bytes\r\n',
  'latin1',
);

describe('raw header editing', () => {
  it('reads unfolded header values', () => {
    const parsed = parseHeaders(RAW);
    assert.deepEqual(headerValues(parsed, 'bcc'), ['secret@example.net, other@example.net']);
    assert.deepEqual(headerValues(parsed, 'To'), ['b@example.net']);
  });

  it('removes a folded field and leaves the body byte for byte', () => {
    const parsed = parseHeaders(RAW);
    const edited = editHeaders(RAW, parsed, { remove: ['Bcc'] });
    const text = edited.toString('latin1');
    assert.ok(!/^Bcc:/im.test(text.slice(0, text.indexOf('\r\n\r\n'))));
    assert.ok(!text.includes('other@example.net'));
    const bodyStart = RAW.indexOf('\r\n\r\n') + 4;
    assert.deepEqual(edited.subarray(edited.indexOf('\r\n\r\n') + 4), RAW.subarray(bodyStart));
  });

  it('prepends header lines', () => {
    const edited = editHeaders(RAW, parseHeaders(RAW), {
      prepend: ['Message-ID: <x@example.com>'],
    });
    assert.ok(edited.toString('latin1').startsWith('Message-ID: <x@example.com>\r\nFrom:'));
  });

  it('decodes RFC 2047 encoded words for display', () => {
    assert.equal(decodeEncodedWords('=?UTF-8?B?SGVsbG8gw7w=?='), 'Hello ü');
    assert.equal(decodeEncodedWords('=?ISO-8859-1?Q?caf=E9_au_lait?='), 'café au lait');
    assert.equal(decodeEncodedWords('plain'), 'plain');
  });
});
