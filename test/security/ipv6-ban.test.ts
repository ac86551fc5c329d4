import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { RawSmtpClient } from '../support/raw-smtp-client.js';

/**
 * IPv6 clients are counted and banned by their /64 (CONTRACT §Abuse guard): a host that
 * can take any address of its network gains nothing by changing it. A real client on ::1
 * (its /64 is the loopback network 0:0:0:0::/64).
 */
describe('IPv6 clients are counted and banned per /64', () => {
  let relay: InProcessRelay;
  let port: number;

  before(async () => {
    relay = await startInProcessRelay(
      { POSTWARDEN_SMTP_HOST: '::1' },
      { role: 'intake', keyPrefix: 'ipv6', smtp: { hostname: 'relay.test' } },
    );
    port = relay.started.smtp?.submissionPort ?? 0;
    await relay.relay.services.credentials.create({ name: 'alice', allowFrom: ['*@a.test'] });
  });

  after(async () => {
    await relay.close();
  });

  it('bans the /64 after ten failures from ::1, and refuses it at connect', async () => {
    const { abuseGuard } = relay.relay.services;
    for (let failures = 0; failures < 10; ) {
      const client = await RawSmtpClient.connect(port, { host: '::1' });
      await client.command('EHLO client.test');
      for (let i = 0; i < 3 && failures < 10; i++, failures++) {
        const reply = await client.authPlain('alice', `pw_wrong${failures}`);
        assert.match(reply, /^(535|421) /);
      }
      client.close();
    }
    assert.equal(await abuseGuard.isBanned('::1'), true);
    assert.equal(await abuseGuard.isBanned('::2'), true, 'the same /64');
    assert.equal(await abuseGuard.isBanned('::1:0:0:0:1'), false, 'another /64');
    assert.deepEqual(
      (await abuseGuard.listBans()).map((ban) => ban.ip),
      ['0:0:0:0::/64'],
    );
    const refused = await RawSmtpClient.connect(port, { host: '::1' });
    assert.match(refused.greeting, /^554 5\.7\.1 /);
    refused.close();
    assert.equal(await abuseGuard.unban('0:0:0:0::/64'), true);
    assert.equal(await abuseGuard.isBanned('::1'), false);
  });
});
