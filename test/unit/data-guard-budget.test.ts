import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InflightBudget } from '../../src/intake/inflight-budget.js';
import { DataGuard } from '../../src/intake/smtp/data-guard.js';
import { SpoolWindow } from '../../src/queue/body-spool.js';

const line = (n: number) => Buffer.from(`${'x'.repeat(n - 2)}\r\n`);

describe('DataGuard with a byte budget', () => {
  it('reserves every byte it keeps and hands the message over when it fits', () => {
    const budget = new InflightBudget(1000);
    const reservation = budget.open('smtp');
    const guard = new DataGuard(10_000, reservation);
    guard.push(Buffer.from('From: a@b.com\r\n\r\n'));
    guard.push(line(100));
    assert.equal(budget.inUse, guard.bytes);
    const verdict = guard.finish();
    assert.equal(verdict.ok, true);
  });

  it('drops the whole message as busy when its bytes pass the budget, and gives them back', () => {
    const budget = new InflightBudget(1000);
    const other = budget.open('smtp');
    other.ensure(600);
    const reservation = budget.open('smtp');
    const guard = new DataGuard(10_000, reservation);
    guard.push(line(300));
    assert.equal(budget.inUse, 900);
    guard.push(line(200)); // 500 > the 400 left
    assert.equal(budget.inUse, 600, 'its bytes are given back at once');
    guard.push(Buffer.from('a bare \n LF after the refusal is not scanned\r\n'));
    guard.push(line(50));
    assert.deepEqual(guard.finish(), { ok: false, reason: 'busy', bytes: guard.bytes });
  });

  it('still reports a size over the limit as too large, not busy', () => {
    const budget = new InflightBudget(100);
    const guard = new DataGuard(150, budget.open('smtp'));
    guard.push(line(120));
    guard.push(line(120));
    const verdict = guard.finish();
    assert.equal(verdict.ok ? 'ok' : verdict.reason, 'too_large');
  });
});

describe('SpoolWindow', () => {
  it('lets one piece through even when larger than the window, then waits for room', () => {
    const window = new SpoolWindow(10);
    assert.equal(window.tryTake(25), true, 'nothing in flight: a piece always goes');
    assert.equal(window.tryTake(1), false);
    let woken = 0;
    window.whenRoom(() => woken++);
    window.give(25);
    assert.equal(woken, 1);
    assert.equal(window.tryTake(6), true);
    assert.equal(window.tryTake(4), true);
    assert.equal(window.tryTake(1), false);
  });
});
