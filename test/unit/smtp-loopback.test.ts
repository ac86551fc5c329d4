import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLoopbackAddress } from '../../src/intake/smtp/loopback.js';

describe('isLoopbackAddress', () => {
  it('accepts 127.0.0.0/8, ::1 and their IPv4-mapped spellings', () => {
    for (const ip of [
      '127.0.0.1',
      '127.1.2.3',
      '127.255.255.254',
      '::1',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      '::FFFF:127.9.9.9',
      '0:0:0:0:0:ffff:127.0.0.1',
    ]) {
      assert.equal(isLoopbackAddress(ip), true, ip);
    }
  });

  it('refuses everything else', () => {
    for (const ip of [
      '10.0.0.1',
      '128.0.0.1',
      '1.127.0.0',
      '::',
      '::2',
      '1::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      '::127.0.0.1',
      'localhost',
      '',
      undefined,
      '127.0.0.1.evil',
    ]) {
      assert.equal(isLoopbackAddress(ip), false, String(ip));
    }
  });
});
