import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CredentialCache } from '../../src/security/credentials/cache.js';

function clock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('CredentialCache', () => {
  it('serves an entry only under the version it was read at', () => {
    const cache = new CredentialCache();
    cache.rememberRecord('shop', '7', { name: 'shop' });
    cache.rememberName('hash', '7', 'shop');
    assert.deepEqual(cache.record('shop', '7'), { name: 'shop' });
    assert.equal(cache.nameForSecret('hash', '7'), 'shop');
    assert.equal(cache.record('shop', '8'), undefined, 'a change anywhere invalidates');
    assert.equal(cache.nameForSecret('hash', '8'), undefined);
    assert.equal(cache.hasRecord('shop'), false, 'a stale entry is dropped when seen');
  });

  it('forgets entries after the TTL even when the version did not move', () => {
    const time = clock();
    const cache = new CredentialCache({ ttlMs: 2000, now: time.now });
    cache.rememberRecord('shop', '1', { name: 'shop' });
    time.advance(1999);
    assert.ok(cache.record('shop', '1'));
    time.advance(1);
    assert.equal(cache.record('shop', '1'), undefined);
  });

  it('holds nothing with a TTL of 0, and starts over when full', () => {
    const off = new CredentialCache({ ttlMs: 0 });
    off.rememberRecord('shop', '1', { name: 'shop' });
    assert.equal(off.hasRecord('shop'), false);

    const small = new CredentialCache({ maxEntries: 2 });
    small.rememberRecord('a', '1', { name: 'a' });
    small.rememberRecord('b', '1', { name: 'b' });
    small.rememberRecord('b', '1', { name: 'b' });
    assert.ok(small.hasRecord('a'), 'replacing an entry does not count as a new one');
    small.rememberRecord('c', '1', { name: 'c' });
    assert.equal(small.hasRecord('a'), false);
    assert.ok(small.hasRecord('c'));
  });
});
