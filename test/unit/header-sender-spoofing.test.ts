import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSingleMailbox } from '../../src/message/addresses.js';
import { SPOOFED_FROM_VALUES } from '../support/spoofed-from.js';

describe('strict header mailboxes', () => {
  for (const value of SPOOFED_FROM_VALUES) {
    it(`refuses ${value}`, () => {
      assert.equal(parseSingleMailbox(value), undefined);
    });
  }

  it('refuses lists, groups, comments, stray brackets and unquoted specials in the name', () => {
    for (const value of [
      'a@a.test, b@a.test',
      'team: a@a.test;',
      'a@a.test (Alice)',
      'Alice <a@a.test> <b@a.test>',
      'Alice <a@a.test>>',
      'a@a.test>',
      'ceo@bank.test <alice@a.test>',
      'Doe, John <j@a.test>',
      '"unclosed <a@a.test>',
      '"Alice" trailing <a@a.test>',
      'Alice <=?utf-8?q?x?=@a.test>',
      '',
    ]) {
      assert.equal(parseSingleMailbox(value), undefined, value);
    }
  });

  it('reads a bare address, a display name, a quoted name and an encoded-word name', () => {
    const readings: Array<[string, string, string]> = [
      [' alice@a.test ', '', 'alice@a.test'],
      ['Alice Liddell <alice@a.test>', 'Alice Liddell', 'alice@a.test'],
      ['J. Smith <j@a.test>', 'J. Smith', 'j@a.test'],
      ['"Shop, Inc. \\"HQ\\"" <orders@a.test>', 'Shop, Inc. "HQ"', 'orders@a.test'],
      ['=?UTF-8?Q?Caf=C3=A9?= <cafe@a.test>', '=?UTF-8?Q?Caf=C3=A9?=', 'cafe@a.test'],
      ['<alice@a.test>', '', 'alice@a.test'],
      ['"<b>Sale</b> <x@evil.test>" <shop@a.test>', '<b>Sale</b> <x@evil.test>', 'shop@a.test'],
    ];
    for (const [text, name, address] of readings) {
      assert.deepEqual(parseSingleMailbox(text), { name, address }, text);
    }
  });
});
