import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { login } from '../support/admin-app.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';

const PASSWORD = 'a-long-enough-admin-pw';

/** CONTRACT §Abuse guard: under 12 characters is refused; a new password ends every session. */
describe('admin password rules', () => {
  let relay: InProcessRelay;

  before(async () => {
    relay = await startInProcessRelay(
      { POSTWARDEN_ADMIN_PASSWORD: PASSWORD },
      { role: 'intake', keyPrefix: 'admin-pw' },
    );
  });

  after(async () => {
    await relay.close();
  });

  it('refuses a POSTWARDEN_ADMIN_PASSWORD under 12 characters at start, without echoing it', () => {
    assert.throws(
      () => loadConfig({ POSTWARDEN_ADMIN_PASSWORD: 'elevenchars' }),
      (error: Error) =>
        /POSTWARDEN_ADMIN_PASSWORD.*at least 12 characters/.test(error.message) &&
        !error.message.includes('elevenchars'),
    );
    assert.equal(
      loadConfig({ POSTWARDEN_ADMIN_PASSWORD: 'twelve-chars' }).adminPassword,
      'twelve-chars',
    );
  });

  it('refuses to set a password under 12 characters', async () => {
    await assert.rejects(relay.relay.services.settings.setAdminPassword('short-pw-11'), {
      code: 'weak_password',
    });
  });

  it('ends every admin session when the password changes', async () => {
    const first = await login(relay.baseUrl, PASSWORD);
    const second = await login(relay.baseUrl, PASSWORD);
    for (const client of [first, second]) {
      assert.equal((await client.request('/admin')).status, 200);
    }
    await relay.relay.services.settings.setAdminPassword('another-long-admin-pw');
    for (const client of [first, second]) {
      const response = await client.request('/admin');
      assert.equal(response.status, 302);
      assert.match(response.headers.get('location') ?? '', /\/admin\/login/);
      const api = await client.request('/admin/api/stats');
      assert.equal(api.status, 401);
    }
    const fresh = await login(relay.baseUrl, 'another-long-admin-pw');
    assert.equal((await fresh.request('/admin')).status, 200);
  });
});
