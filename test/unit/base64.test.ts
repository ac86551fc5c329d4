import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBase64 } from '../../src/message/base64.js';

describe('isBase64 (linear, for attachments up to the size limit)', () => {
  it('accepts canonical base64 with and without padding', () => {
    const good = ['', 'QQ==', 'QUI=', 'QUJD', Buffer.from('hello world').toString('base64')];
    assert.deepEqual(
      good.filter((text) => !isBase64(text)),
      [],
    );
  });

  it('refuses wrong lengths, foreign characters and padding in the middle', () => {
    const bad = ['Q', 'QQ=', 'QU*D', 'QQ==QUJD', '====', 'QUJD\n', 'QUJ€'];
    assert.deepEqual(
      bad.filter((text) => isBase64(text)),
      [],
    );
  });

  it('checks 30 MB without overflowing (the old regex threw RangeError from ~4 MB)', () => {
    const big = Buffer.alloc(22 * 1024 * 1024, 1).toString('base64');
    assert.equal(isBase64(big), true);
    assert.equal(isBase64(`${big.slice(0, -4)}A*A=`), false);
  });
});
