import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { postWebhook, signedHeaders } from '../../src/webhooks/send.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/** The sender on its own: pinned to the checked address, signed, never following a redirect. */
describe('webhook sender', () => {
  let receiver: WebhookReceiver;

  before(async () => {
    receiver = await startWebhookReceiver();
  });

  after(async () => {
    await receiver?.close();
  });

  it('connects to the address the SSRF check approved, never resolving the name again (no DNS rebinding)', async () => {
    // `rebind.invalid` resolves nowhere: only a pinned connection can reach the receiver.
    const url = new URL(`http://rebind.invalid:${receiver.port}/hook`);
    const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    const body = JSON.stringify({ type: 'message.delivered' });
    const result = await postWebhook(
      { url, address: '127.0.0.1', family: 4 },
      signedHeaders([secret], 'ev1', new Date(), body),
      body,
    );
    assert.equal(result.statusCode, 200);
    const [got] = receiver.received;
    assert.ok(got);
    assert.equal(got.headers.host, `rebind.invalid:${receiver.port}`);
    assert.equal(got.headers['webhook-id'], 'ev1');
    new Webhook(secret).verify(got.body, got.headers);
  });

  it('reports a refused connection as an error, without throwing', async () => {
    const closed = await startWebhookReceiver();
    const port = closed.port;
    await closed.close();
    const result = await postWebhook(
      { url: new URL(`http://127.0.0.1:${port}/`), address: '127.0.0.1', family: 4 },
      {},
      '{}',
    );
    assert.equal(result.statusCode, undefined);
    assert.equal(result.error, 'ECONNREFUSED');
  });
});
