import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Form } from '../../src/security/forms/form-store.js';
import {
  ADMIN_PASSWORD,
  type AdminApp,
  type AdminClient,
  login,
  startAdminApp,
} from '../support/admin-app.js';
import { waitUntil } from '../support/wait-until.js';

const ORIGIN = 'https://www.example.com';
const XSS = '<script>alert(1)</script>';

/** The admin page's Forms view (issue 12): forms with their snippet, the quarantine, release. */
describe('admin: lead forms and their spam quarantine', () => {
  let relay: AdminApp;
  let client: AdminClient;
  let form: Form;

  before(async () => {
    relay = await startAdminApp();
    client = await login(relay.baseUrl, ADMIN_PASSWORD);
    form = await relay.services.forms.create({
      name: 'contact',
      to: ['sales@example.com'],
      origins: [ORIGIN],
      pow: true,
    });
  });

  after(async () => {
    await relay?.close();
  });

  it('lists forms with their embed snippet, escaped as text', async () => {
    const page = await (await client.request('/admin/forms')).text();
    assert.match(page, new RegExp(form.id));
    assert.match(
      page,
      /&lt;form method=&quot;post&quot; action=&quot;http:\/\/127\.0\.0\.1:\d+\/v1\/forms\/f_/,
    );
    assert.match(page, /&lt;altcha-widget/);
    assert.doesNotMatch(page, /<altcha-widget|<form method="post" action="http/);
  });

  it('shows a quarantined post (escaped) and delivers it once on release', async () => {
    const plain = await relay.services.forms.create({
      name: 'plain',
      to: ['leads@example.com'],
      origins: [ORIGIN],
    });
    const posted = await fetch(`${relay.baseUrl}/v1/forms/${plain.id}`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify({ message: XSS, _gotcha: 'bot' }),
    });
    assert.equal(posted.status, 202);
    const page = await (await client.request('/admin/forms')).text();
    const id = /\/admin\/forms\/spam\/([0-9a-z]+)\/release/.exec(page)?.[1];
    assert.ok(id, 'a release button');
    assert.doesNotMatch(page, /<script>alert/);
    const released = await client.postForm(`/admin/forms/spam/${id}/release`, {});
    assert.equal(released.status, 303);
    assert.match(released.headers.get('location') ?? '', /flash=form_released/);
    const again = await client.postForm(`/admin/forms/spam/${id}/release`, {});
    assert.match(again.headers.get('location') ?? '', /flash=not_found/);
    await waitUntil(
      () => relay.upstream.deliveriesTo('leads@example.com') === 1,
      15_000,
      'release',
    );
    assert.equal(relay.upstream.deliveriesTo('leads@example.com'), 1);
  });

  it('refuses release without the CSRF token, and removes a form', async () => {
    const refused = await client.postForm('/admin/forms/contact/remove', {}, false);
    assert.equal(refused.status, 403);
    const removed = await client.postForm('/admin/forms/contact/remove', {});
    assert.match(removed.headers.get('location') ?? '', /flash=form_removed/);
    assert.equal(await relay.services.forms.get(form.id), undefined);
  });
});
