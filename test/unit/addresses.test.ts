import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hasControlBreaks,
  isValidAddress,
  parseSingleMailbox,
} from '../../src/message/addresses.js';

describe('addresses', () => {
  it('accepts ordinary and international addresses', () => {
    for (const address of [
      'a@example.com',
      'first.last+tag@sub.example.co.uk',
      'ü@bücher.example',
    ]) {
      assert.equal(isValidAddress(address), true, address);
    }
  });

  it('refuses relay tricks: routes, percent hack, bang paths, quotes, IP literals, CR/LF', () => {
    for (const address of [
      '@a.example:b@c.example',
      'b%c.example@a.example',
      'c.example!b@a.example',
      '"b@c.example"@a.example',
      'b@[127.0.0.1]',
      'a@localhost',
      'a@example.com\r\nRCPT TO:<evil@x.example>',
      'a@example.com\0',
      '',
    ]) {
      assert.equal(isValidAddress(address), false, JSON.stringify(address));
    }
  });

  it('takes exactly one mailbox per string', () => {
    assert.deepEqual(parseSingleMailbox('Shop <orders@example.com>'), {
      name: 'Shop',
      address: 'orders@example.com',
    });
    assert.equal(parseSingleMailbox('a@example.com, b@example.com'), undefined);
    assert.equal(parseSingleMailbox('friends: a@example.com, b@example.com;'), undefined);
    assert.equal(parseSingleMailbox('bob@b.example\r\nBcc: v@evil.example'), undefined);
  });

  it('spots CR, LF and NUL', () => {
    assert.equal(hasControlBreaks('a\rb'), true);
    assert.equal(hasControlBreaks('a\nb'), true);
    assert.equal(hasControlBreaks('a\0b'), true);
    assert.equal(hasControlBreaks('a b'), false);
  });
});
