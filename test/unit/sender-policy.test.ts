import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSenderAllowed, isValidSenderPattern } from '../../src/security/sender-policy.js';

describe('sender policy (--allow-from patterns)', () => {
  it('grants an exact address and nothing else', () => {
    assert.equal(isSenderAllowed(['orders@example.com'], 'orders@example.com'), true);
    assert.equal(isSenderAllowed(['orders@example.com'], 'ORDERS@Example.COM'), true);
    assert.equal(isSenderAllowed(['orders@example.com'], 'sales@example.com'), false);
    assert.equal(isSenderAllowed(['orders@example.com'], 'orders@example.com.evil.net'), false);
  });

  it('grants a whole domain with *@ but not its subdomains', () => {
    assert.equal(isSenderAllowed(['*@example.com'], 'anyone@example.com'), true);
    assert.equal(isSenderAllowed(['*@example.com'], 'a@mail.example.com'), false);
    assert.equal(isSenderAllowed(['*@example.com'], 'a@notexample.com'), false);
  });

  it('grants subdomains only when written *@*.example.com', () => {
    assert.equal(isSenderAllowed(['*@*.example.com'], 'a@mail.example.com'), true);
    assert.equal(isSenderAllowed(['*@*.example.com'], 'a@deep.mail.example.com'), true);
    assert.equal(isSenderAllowed(['*@*.example.com'], 'a@example.com'), false);
    assert.equal(isSenderAllowed(['*@*.example.com'], 'a@badexample.com'), false);
  });

  it('never grants the null sender or a non-address', () => {
    assert.equal(isSenderAllowed(['*@example.com'], ''), false);
    assert.equal(isSenderAllowed(['*@example.com'], 'example.com'), false);
  });

  it('validates patterns', () => {
    for (const good of ['a@example.com', '*@example.com', '*@*.example.com']) {
      assert.equal(isValidSenderPattern(good), true, good);
    }
    for (const bad of ['*', '*@*', 'a@*', '*@com', 'a b@example.com', 'a@b@example.com', '']) {
      assert.equal(isValidSenderPattern(bad), false, bad);
    }
  });
});
