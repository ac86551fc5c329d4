import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  expiresAt,
  nextRetryDelay,
  type RetryPolicy,
  retryDelayMs,
} from '../../src/queue/retry-policy.js';

const policy: RetryPolicy = { baseMs: 60_000, maxDelayMs: 3_600_000, lifetimeMs: 72 * 3_600_000 };
const MIDDLE = 0.5; // jitter factor 1.0

describe('retry policy (CONTRACT §Configuration)', () => {
  it('waits the base before the first retry and doubles each time', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((failures) => retryDelayMs(policy, failures, MIDDLE)),
      [60_000, 120_000, 240_000, 480_000, 960_000],
    );
  });

  it('never waits more than the cap, even with upward jitter and huge attempt counts', () => {
    assert.equal(retryDelayMs(policy, 7, MIDDLE), 3_600_000);
    assert.equal(retryDelayMs(policy, 7, 0.999), 3_600_000);
    assert.equal(retryDelayMs(policy, 10_000, 0.999), 3_600_000);
    assert.ok(Number.isFinite(retryDelayMs(policy, 1_000_000, 0)));
  });

  it('jitters by ±20 %', () => {
    assert.equal(retryDelayMs(policy, 1, 0), 48_000);
    assert.equal(retryDelayMs(policy, 1, 1), 72_000);
    for (let i = 0; i < 200; i += 1) {
      const delay = retryDelayMs(policy, 3, Math.random());
      assert.ok(delay >= 192_000 && delay <= 288_000, String(delay));
    }
  });

  it('never schedules past the lifetime, and says when it is over', () => {
    const created = 1_000_000;
    const deadline = expiresAt(policy, created);
    assert.equal(deadline, created + policy.lifetimeMs);
    assert.equal(nextRetryDelay(policy, 3, created, deadline - 10_000, MIDDLE), 10_000);
    assert.equal(nextRetryDelay(policy, 1, created, created + 1000, MIDDLE), 60_000);
    assert.equal(nextRetryDelay(policy, 3, created, deadline, MIDDLE), undefined);
    assert.equal(nextRetryDelay(policy, 3, created, deadline + 1, MIDDLE), undefined);
  });
});
