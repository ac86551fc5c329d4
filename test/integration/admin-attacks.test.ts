import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { AttackView } from '../../src/observability/attack-stats.js';
import { loginAttempt, useAdminSession } from '../support/admin-app.js';

/**
 * CONTRACT §Admin page, the attack view: failed logins per hour over the last day by
 * protocol, the top addresses (with ban state) and user names tried, bans and their
 * timeline — from bounded counters kept as failures happen, not from logs.
 */
describe('admin attack view', () => {
  const session = useAdminSession();

  before(async () => {
    // Real failures through the doors: bearer tokens over HTTP, a wrong admin password.
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${session.relay.baseUrl}/v1/messages/x`, {
        headers: { authorization: 'Bearer pw_wrong' },
      });
      assert.equal(response.status, 401);
    }
    assert.equal(
      (await loginAttempt(session.relay.baseUrl, 'not the password')).response.status,
      401,
    );
    // SMTP failures from other addresses, the user names an attacker tries; the tenth
    // failure of 192.0.2.7 bans it.
    const guard = session.relay.services.abuseGuard;
    for (let i = 0; i < 10; i++) {
      await guard.recordFailure({ ip: '192.0.2.7', protocol: 'smtp', user: 'admin' });
    }
    await guard.recordFailure({ ip: '198.51.100.9', protocol: 'smtp', user: '<script>x</script>' });
    await guard.recordFailure({ ip: '::ffff:198.51.100.9', protocol: 'smtp', user: 'admin' });
  });

  async function attacks(): Promise<AttackView> {
    const response = await session.client.request('/admin/api/attacks');
    assert.equal(response.status, 200);
    return (await response.json()) as AttackView;
  }

  it('counts failed logins per hour by protocol over the last 24 hours', async () => {
    const view = await attacks();
    assert.equal(view.hours.length, 24);
    const now = view.hours.at(-1);
    assert.deepEqual(
      { smtp: now?.smtp, http: now?.http, admin: now?.admin },
      {
        smtp: 12,
        http: 3,
        admin: 1,
      },
    );
    assert.ok(Date.parse(view.hours[0]?.hour ?? '') < Date.parse(now?.hour ?? ''));
  });

  it('ranks the addresses and user names tried, mapped addresses written plainly', async () => {
    const view = await attacks();
    assert.deepEqual(view.topAddresses.slice(0, 3), [
      { value: '192.0.2.7', count: 10 },
      { value: '127.0.0.1', count: 4 },
      { value: '198.51.100.9', count: 2 },
    ]);
    assert.deepEqual(view.topUsers.slice(0, 1), [{ value: 'admin', count: 12 }]);
    assert.ok(view.topUsers.some((row) => row.value === '<script>x</script>'));
  });

  it('keeps the ban timeline and shows which top address is banned now, escaped', async () => {
    const view = await attacks();
    assert.equal(view.bans.length, 1);
    assert.equal(view.bans[0]?.ip, '192.0.2.7');
    assert.equal(view.bans[0]?.user, 'admin');
    assert.ok(Date.parse(view.bans[0]?.until ?? '') > Date.parse(view.bans[0]?.at ?? ''));
    const page = await (await session.client.request('/admin/attacks')).text();
    assert.match(page, /data-stat="failed-logins">16</);
    assert.match(page, /data-stat="banned-now">1</);
    assert.match(page, /<code>192\.0\.2\.7<\/code><\/td><td>10<\/td><td>banned/);
    assert.match(page, /<code>127\.0\.0\.1<\/code><\/td><td>4<\/td><td class="muted">not banned/);
    assert.doesNotMatch(page, /<script>x/);
    assert.match(page, /&lt;script&gt;x&lt;\/script&gt;/);
    const svg = await session.client.request('/admin/attacks.svg');
    assert.match(svg.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.match(await svg.text(), /<rect /);
  });

  it('keeps at most 500 addresses per hour however many hosts try', async () => {
    const guard = session.relay.services.abuseGuard;
    await Promise.all(
      Array.from({ length: 700 }, (_, i) =>
        guard.recordFailure({ ip: `10.9.${i >> 8}.${i & 255}`, protocol: 'http', user: null }),
      ),
    );
    const hour = Math.floor(Date.now() / 3_600_000);
    const key = session.relay.services.keys.attackAddresses(hour);
    let size = 0;
    // The counters are written fire-and-forget: poll until the last pipeline landed.
    for (let tries = 0; tries < 50; tries++) {
      size = await session.relay.services.redis.zcard(key);
      const top = (await attacks()).topAddresses;
      if (size === 500 && top[0]?.value === '192.0.2.7') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(size, 500);
    assert.ok((await session.relay.services.redis.ttl(key)) > 24 * 3600);
    // The most tried survive the cap.
    assert.equal((await attacks()).topAddresses[0]?.value, '192.0.2.7');
    await session.relay.services.abuseGuard.unban('192.0.2.7');
  });
});
