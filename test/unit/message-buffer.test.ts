import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageBuffer } from '../../src/intake/smtp/message-buffer.js';

const MIB = 1024 * 1024;

/** `count` chunks of `size` bytes, each filled with a different byte. */
function chunks(count: number, size: number): Buffer[] {
  return Array.from({ length: count }, (_, n) => Buffer.alloc(size, 0x41 + (n % 26)));
}

describe('MessageBuffer', () => {
  it('joins a small message once, with no headroom', () => {
    const buffer = new MessageBuffer(1000);
    buffer.append(Buffer.from('From: a@b.com\r\n'));
    buffer.append(Buffer.from('\r\nbody\r\n'));
    assert.equal(buffer.length, 23);
    const held = buffer.take();
    assert.equal(held.raw.toString(), 'From: a@b.com\r\n\r\nbody\r\n');
    assert.equal(held.headroom, 0);
    assert.equal(buffer.length, 0, 'nothing kept after take()');
  });

  it('keeps a large message in one block, byte for byte, with headroom before it', () => {
    const parts = chunks(9, MIB); // crosses the small-message limit part way
    const buffer = new MessageBuffer(25 * MIB);
    for (const part of parts) buffer.append(part);
    const held = buffer.take();
    assert.ok(held.raw.equals(Buffer.concat(parts)));
    assert.ok(held.headroom > 0);
    assert.ok(held.raw.byteOffset >= held.headroom, 'the headroom lies inside the same memory');
    assert.equal(buffer.length, 0);
  });

  it('refuses more than its capacity and forgets everything on clear()', () => {
    const buffer = new MessageBuffer(10);
    buffer.append(Buffer.from('0123456789'));
    assert.throws(() => buffer.append(Buffer.from('x')), RangeError);
    buffer.clear();
    assert.equal(buffer.take().raw.length, 0);
  });
});
