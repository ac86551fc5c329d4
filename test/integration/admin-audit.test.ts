import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useAdminSession } from '../support/admin-app.js';

/**
 * CONTRACT §Containment, the audit log: the admin page's existing actions (credential
 * create and revoke, unban, retry) are written to it as `admin`, never with a secret —
 * through the same shared operations the CLI calls.
 */
describe('admin actions are audited', () => {
  const session = useAdminSession();

  it('writes credential create/revoke, unban and retry to the audit log as admin, without secrets', async () => {
    const created = await session.client.postForm('/admin/credentials', {
      name: 'audited',
      allowFrom: '*@example.com',
      rate: '',
      maxRecipients: '',
    });
    assert.equal(created.status, 201);
    const page = await created.text();
    const secret = /id="new-secret">([^<]{20,})<\/pre>/.exec(page)?.[1];
    assert.ok(secret, 'the page shows the new secret once');
    const revoked = await session.client.postForm('/admin/credentials/audited/revoke', {});
    assert.equal(revoked.status, 303);
    await session.client.postForm('/admin/bans/unban', { ip: '198.51.100.77' });
    await session.client.postForm('/admin/messages/0000000000000nosuchid/retry', {});

    const entries = await session.relay.operator.auditLog(10);
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
