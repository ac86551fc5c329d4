import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardAddress } from '../../src/security/client-address.js';

describe('guardAddress: what the abuse guard counts', () => {
  it('keeps IPv4 as written, mapped IPv4 included', () => {
    assert.equal(guardAddress('203.0.113.7'), '203.0.113.7');
    assert.equal(guardAddress('::ffff:203.0.113.7'), '203.0.113.7');
  });

  it('counts IPv6 clients by their /64', () => {
    assert.equal(guardAddress('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(guardAddress('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(guardAddress('2001:DB8:0001:0002:ffff::9'), '2001:db8:1:2::/64');
    assert.equal(guardAddress('2a00:1450:4001:80b::200e'), '2a00:1450:4001:80b::/64');
    assert.equal(guardAddress('2001:db8::'), '2001:db8:0:0::/64');
    assert.equal(guardAddress('::1'), '0:0:0:0::/64');
    assert.equal(guardAddress('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });

  it('names a /64 by itself, so a ban can be lifted with what `bans list` shows', () => {
    assert.equal(guardAddress('2001:db8:1:2::/64'), '2001:db8:1:2::/64');
    assert.equal(guardAddress(guardAddress('2001:db8:1:2::5')), '2001:db8:1:2::/64');
  });
});
