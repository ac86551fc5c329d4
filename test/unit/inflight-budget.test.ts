import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InflightBudget } from '../../src/intake/inflight-budget.js';

describe('InflightBudget', () => {
  it('grants reservations while they fit and refuses the one that would pass the limit', () => {
    const refused: string[] = [];
    const budget = new InflightBudget(100, { onRefused: (protocol) => refused.push(protocol) });
    const a = budget.open('smtp');
    const b = budget.open('http');
    assert.equal(a.ensure(60), true);
    assert.equal(b.ensure(41), false);
    assert.equal(b.refused, true);
    assert.equal(b.held, 0, 'a refused reservation takes nothing');
    assert.deepEqual(refused, ['http']);
    assert.equal(budget.inUse, 60);
  });

  it('grows a reservation by the difference only, and a refused one stays refused', () => {
    const budget = new InflightBudget(100);
    const a = budget.open('smtp');
    assert.equal(a.ensure(30), true);
    assert.equal(a.ensure(20), true, 'already held');
    assert.equal(a.ensure(100), true);
    assert.equal(budget.inUse, 100);
    assert.equal(a.ensure(101), false);
    assert.equal(a.ensure(50), false, 'refused for good: the message is never truncated');
  });

  it('gives everything back on release, once, however often it is called', () => {
    const budget = new InflightBudget(100);
    const a = budget.open('smtp');
    const b = budget.open('smtp');
    a.ensure(40);
    b.ensure(50);
    a.release();
    a.release();
    assert.equal(budget.inUse, 50);
    b.release();
    assert.equal(budget.inUse, 0);
    assert.equal(budget.open('http').ensure(100), true);
  });

  it('refuses a limit that is not a positive integer', () => {
    assert.throws(() => new InflightBudget(0), RangeError);
    assert.throws(() => new InflightBudget(1.5), RangeError);
  });
});
