import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextWebhookTry, webhookRetryDelay } from '../../src/webhooks/backoff.js';
import { DEFAULT_WEBHOOK_EVENTS, parseEventTypes } from '../../src/webhooks/event-types.js';

describe('webhook event types and backoff', () => {
  it('defaults to every outcome but message.queued', () => {
    assert.deepEqual(
      [...DEFAULT_WEBHOOK_EVENTS],
      [
        'message.delivered',
        'message.deferred',
        'message.bounced',
        'message.expired',
        'message.suppressed',
        'message.held',
      ],
    );
  });

  it('reads --events with or without the message. prefix and refuses an unknown type', () => {
    assert.deepEqual(parseEventTypes('delivered,message.bounced, queued'), {
      ok: true,
      events: ['message.delivered', 'message.bounced', 'message.queued'],
    });
    assert.deepEqual(parseEventTypes('delivered,opened'), { ok: false, unknown: 'opened' });
    assert.equal(parseEventTypes(',').ok, false);
  });

  it('doubles from the base and caps the delay at 10 h', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => webhookRetryDelay(5000, n)),
      [5000, 10_000, 20_000, 40_000],
    );
    assert.equal(webhookRetryDelay(5000, 30), 10 * 60 * 60 * 1000);
    assert.equal(webhookRetryDelay(5000, 5000), 10 * 60 * 60 * 1000);
  });

  it('gives up when the next try would fall past the lifetime', () => {
    const policy = { baseMs: 1000, lifetimeMs: 10_000 };
    assert.equal(nextWebhookTry(policy, 1, 0, 0), 1000);
    assert.equal(nextWebhookTry(policy, 3, 0, 5000), 9000);
    assert.equal(nextWebhookTry(policy, 4, 0, 5000), undefined);
  });
});
