import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_PASSWORD,
  type AdminApp,
  type AdminClient,
  login,
  startAdminApp,
} from '../support/admin-app.js';
import { waitUntil } from '../support/wait-until.js';

const XSS = '<script>alert(1)</script>';

/** The admin page's Webhooks view (issue 13): endpoints, recent attempts, replay. */
describe('admin: webhooks with their recent attempts', () => {
  let relay: AdminApp;
  let client: AdminClient;

  before(async () => {
    relay = await startAdminApp();
    client = await login(relay.baseUrl, ADMIN_PASSWORD);
  });

  after(async () => {
    await relay?.close();
  });

  it('shows each endpoint with its attempts (escaped), and replays one with CSRF', async () => {
    // Written to the store directly (no SSRF check at add): this relay runs without
    // POSTWARDEN_WEBHOOK_ALLOW_PRIVATE, so each try is refused — an attempt with an error.
    const endpoint = await relay.services.webhooks.add({
      url: `http://127.0.0.1:9/hook?x=${XSS}`,
      events: ['message.delivered'],
    });
    await relay.send({
      from: 'orders@example.com',
      to: 'a@example.net',
      subject: 'Hi',
      text: 'x',
    });
    await waitUntil(
      async () => (await relay.services.webhooks.attempts(endpoint.id)).length >= 1,
      15_000,
      'an attempt',
    );
    const page = await (await client.request('/admin/webhooks')).text();
    assert.match(page, new RegExp(endpoint.id));
    assert.match(page, /refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1/);
    assert.match(page, /href="\/admin\/webhooks"/, 'linked in the nav');
    assert.doesNotMatch(page, /<script>alert/);
    assert.match(page, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.ok(!page.includes(endpoint.secret), 'the secret is never shown');
    const [attempt] = await relay.services.webhooks.attempts(endpoint.id);
    assert.ok(attempt);
    const action = `/admin/webhooks/${endpoint.id}/replay/${attempt.eventId}`;
    assert.ok(page.includes(action), 'a replay button');

    const refused = await client.postForm(action, {}, false);
    assert.equal(refused.status, 403, 'no replay without the CSRF token');
    const replayed = await client.postForm(action, {});
    assert.equal(replayed.status, 303);
    assert.match(replayed.headers.get('location') ?? '', /flash=webhook_replayed/);
    const audit = await relay.services.audit.list(10);
    assert.ok(audit.some((entry) => entry.action === 'webhook-replay' && entry.actor === 'admin'));
    const unknown = await client.postForm(`/admin/webhooks/${endpoint.id}/replay/ev0`, {});
    assert.match(unknown.headers.get('location') ?? '', /flash=not_found/);
  });

  it('redirects to the login page without a session', async () => {
    const response = await fetch(`${relay.baseUrl}/admin/webhooks`, { redirect: 'manual' });
    assert.equal(response.status, 302);
    assert.match(response.headers.get('location') ?? '', /\/admin\/login/);
  });
});
