import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWebhookOperator } from '../../src/runtime/services.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { waitUntil } from '../support/wait-until.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * CONTRACT §Webhooks: a URL on a loopback or private address is refused at each delivery,
 * not only at `add` — here one added while the switch was on, sent by a relay without it.
 */
describe('webhooks: the SSRF guard at delivery time', () => {
  let relay: InProcessRelay;
  let receiver: WebhookReceiver;

  before(async () => {
    receiver = await startWebhookReceiver();
    relay = await startInProcessRelay(
      { POSTWARDEN_WEBHOOK_RETRY_BASE: '100ms', POSTWARDEN_WEBHOOK_ALLOW_PRIVATE: 'false' },
      { keyPrefix: 'ssrf' },
    );
  });

  after(async () => {
    await relay?.close();
    await receiver?.close();
  });

  it('refuses at add without the switch, and at every try a URL that passed with it on', async () => {
    const { services, config } = relay.relay;
    const strict = createWebhookOperator(services, config, 'cli:test');
    const refusedAtAdd = await strict.add({ url: receiver.url, events: ['message.delivered'] });
    assert.equal(refusedAtAdd.ok, false);

    const lenient = createWebhookOperator(
      services,
      { ...config, webhookAllowPrivate: true },
      'cli:test',
    );
    const added = await lenient.add({
      url: `http://localhost:${receiver.port}/hook`,
      events: ['message.delivered'],
    });
    assert.ok(added.ok);
    const { secret } = await services.credentials.create({
      name: 'ssrf',
      allowFrom: ['*@example.com'],
    });
    const response = await fetch(`${relay.baseUrl}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'a@example.com', to: 'b@example.net', subject: 's', text: 't' }),
    });
    assert.equal(response.status, 202);
    // Two refused tries: the guard fired at the attempt, and again at the retry.
    await waitUntil(
      async () => (await services.webhooks.attempts(added.endpoint.id)).length >= 2,
      15_000,
      'two refused tries',
    );
    const attempts = await services.webhooks.attempts(added.endpoint.id);
    for (const attempt of attempts) {
      assert.equal(attempt.outcome, 'failed');
      assert.match(attempt.error ?? '', /^refused: localhost resolves to (127\.0\.0\.1|::1)/);
    }
    assert.equal(receiver.received.length, 0, 'nothing reached the loopback receiver');
  });
});
