import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ADMIN_PASSWORD,
  type AdminApp,
  type AdminClient,
  login,
  startAdminApp,
} from '../support/admin-app.js';

/**
 * CONTRACT §Containment, the audit log: the admin page's existing actions (credential
 * create and revoke, unban, retry) are written to it as `admin`, never with a secret —
 * through the same shared operations the CLI calls.
 */
describe('admin actions are audited', () => {
  let app: AdminApp;
  let client: AdminClient;

  before(async () => {
    app = await startAdminApp();
    client = await login(app.baseUrl, ADMIN_PASSWORD);
  });
  after(async () => {
    await app?.close();
  });

  it('writes credential create/revoke, unban and retry to the audit log as admin, without secrets', async () => {
    const created = await client.postForm('/admin/credentials', {
      name: 'audited',
      allowFrom: '*@example.com',
      rate: '',
      maxRecipients: '',
    });
    assert.equal(created.status, 201);
    const page = await created.text();
    const secret = /id="new-secret">([^<]{20,})<\/pre>/.exec(page)?.[1];
    assert.ok(secret, 'the page shows the new secret once');
    const revoked = await client.postForm('/admin/credentials/audited/revoke', {});
    assert.equal(revoked.status, 303);
    await client.postForm('/admin/bans/unban', { ip: '198.51.100.77' });
    await client.postForm('/admin/messages/0000000000000nosuchid/retry', {});

    const entries = await app.operator.auditLog(10);
    assert.deepEqual(
      entries.map((e) => [e.actor, e.action, e.target]),
      [
        ['admin', 'retry', '0000000000000nosuchid'],
        ['admin', 'unban', '198.51.100.77'],
        ['admin', 'credential-revoke', 'audited'],
        ['admin', 'credential-create', 'audited'],
      ],
    );
    assert.equal(entries[1]?.detail, 'was not banned');
    assert.ok(!JSON.stringify(entries).includes(secret), 'no secret in the audit log');
  });
});
