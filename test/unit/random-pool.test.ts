import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomPoolBytes } from '../../src/message/random-pool.js';

describe('the random pool', () => {
  it('hands out fresh bytes across refills, each a copy of its own', () => {
    const seen = new Set<string>();
    // 2,000 × 12 bytes: several refills of the 4 KiB pool.
    for (let n = 0; n < 2000; n++) {
      const bytes = randomPoolBytes(12);
      assert.equal(bytes.length, 12);
      seen.add(bytes.toString('hex'));
    }
    assert.equal(seen.size, 2000, 'no 12 bytes handed out twice');
    const first = randomPoolBytes(8);
    const copy = Buffer.from(first);
    for (let n = 0; n < 600; n++) randomPoolBytes(8); // past a refill of the buffer
    assert.deepEqual(first, copy, 'a refill does not change bytes already handed out');
  });

  it('refuses more than the pool holds', () => {
    assert.throws(() => randomPoolBytes(4097), RangeError);
  });
});
