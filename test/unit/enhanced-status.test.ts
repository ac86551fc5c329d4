import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { suppressionAddress } from '../../src/queue/suppressions.js';
import { enhancedStatus, isAddressBounce } from '../../src/upstream/enhanced-status.js';

/** CONTRACT §Suppressions: which bounces put an address on the list, read from the reply. */
describe('enhanced status codes in upstream replies', () => {
  it('reads class.subject.detail after the reply code (single- and multi-line forms)', () => {
    assert.deepEqual(enhancedStatus('550 5.1.1 <a@b.example>: user unknown'), {
      klass: 5,
      subject: 1,
      detail: 1,
    });
    assert.deepEqual(enhancedStatus('550-5.1.10 recipient address rejected'), {
      klass: 5,
      subject: 1,
      detail: 10,
    });
    assert.equal(enhancedStatus('550 user unknown'), undefined);
    assert.equal(enhancedStatus('550 4.1.1 disagrees with its reply code'), undefined);
    assert.equal(enhancedStatus('EENVELOPE: 550 5.1.1 no'), undefined, 'not a reply line');
  });

  it('5.1.x and 5.2.1 suppress; 5.2.2, 5.7.1, 4.x and bare codes do not', () => {
    for (const reply of [
      '550 5.1.1 no such user',
      '550 5.1.2 bad destination system',
      '553 5.1.3 bad address syntax',
      '550 5.1.10 null MX',
      '550 5.2.1 mailbox disabled',
    ]) {
      assert.equal(isAddressBounce(reply), true, reply);
    }
    for (const reply of [
      '552 5.2.2 mailbox full',
      '550 5.7.1 relaying denied',
      '554 5.3.4 message too big',
      '450 4.1.1 try later',
      '550 no such user',
      '250 2.1.5 ok',
    ]) {
      assert.equal(isAddressBounce(reply), false, reply);
    }
  });

  it('keeps the local part as written and lower-cases the domain', () => {
    assert.equal(suppressionAddress('Bob.Smith@Example.NET'), 'Bob.Smith@example.net');
    assert.equal(suppressionAddress('a@b@C.example'), 'a@b@c.example');
  });
});
