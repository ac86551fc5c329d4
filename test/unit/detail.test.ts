import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanDetail } from '../../src/message/detail.js';

describe('cleanDetail', () => {
  it('keeps details on one bounded line', () => {
    assert.equal(cleanDetail('451 a\r\n451 b'), '451 a 451 b');
    assert.equal(cleanDetail('x'.repeat(1000)).length, 300);
  });
});
