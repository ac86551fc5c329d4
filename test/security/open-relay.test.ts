import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RawSmtpClient } from '../support/raw-smtp-client.js';
import { type RelayHarness, startRelayHarness } from '../support/relay-harness.js';

// nmap's smtp-open-relay combinations (sender × recipient tricks), with .invalid domains
// so nothing could ever be routed anywhere, plus the percent hack, bang paths, source
// routes, quoted local parts with an @, IP literals and the null sender.
const TARGET = 'target.invalid';
const IP = '[127.0.0.1]';
const COMBINATIONS: Array<[string, string]> = [
  ['<>', `<relaytest@${TARGET}>`],
  [`<antispam@relay.invalid>`, `<relaytest@${TARGET}>`],
  [`<antispam@${IP}>`, `<relaytest@${TARGET}>`],
  [`<antispam@${IP}>`, `<relaytest%${TARGET}@${IP}>`],
  [`<antispam@${IP}>`, `<relaytest%${TARGET}@relay.invalid>`],
  [`<antispam@${IP}>`, `<"relaytest@${TARGET}">`],
  [`<antispam@${IP}>`, `<"relaytest%${TARGET}">`],
  [`<antispam@${IP}>`, `<relaytest@${TARGET}@${IP}>`],
  [`<antispam@${IP}>`, `<"relaytest@${TARGET}"@${IP}>`],
  [`<antispam@${IP}>`, `<relaytest@${TARGET}@relay.invalid>`],
  [`<antispam@${IP}>`, `<@${IP}:relaytest@${TARGET}>`],
  [`<antispam@${IP}>`, `<@relay.invalid:relaytest@${TARGET}>`],
  [`<antispam@${IP}>`, `<${TARGET}!relaytest>`],
  [`<antispam@${IP}>`, `<${TARGET}!relaytest@${IP}>`],
  [`<antispam@${IP}>`, `<${TARGET}!relaytest@relay.invalid>`],
  [`<antispam@relay.invalid>`, `<"relaytest@${TARGET}"@relay.invalid>`],
];

type Mode = 'submission' | 'submission+starttls' | 'smtps';

describe('security: open-relay tricks', { timeout: 120_000 }, () => {
  let harness: RelayHarness;
  let secret: string;
  const counts: Record<string, number> = {};

  before(async () => {
    harness = await startRelayHarness();
    ({ secret } = await harness.createCredential({
      name: 'granted',
      allowFrom: ['*@example.com'],
    }));
  });

  after(async () => {
    console.log(`# open-relay cases: ${JSON.stringify(counts)}`);
    await harness?.stop();
  });

  async function open(mode: Mode): Promise<RawSmtpClient> {
    const port = mode === 'smtps' ? harness.ports.smtps : harness.ports.smtp;
    const client = await RawSmtpClient.connect(port, { implicitTls: mode === 'smtps' });
    await client.command('EHLO attacker.invalid');
    if (mode === 'submission+starttls') {
      assert.match(await client.startTls(), /^220 /);
      await client.command('EHLO attacker.invalid');
    }
    return client;
  }

  for (const mode of ['submission', 'submission+starttls', 'smtps'] as const) {
    it(`refuses all ${COMBINATIONS.length} combinations without AUTH (${mode})`, async () => {
      for (const [from, to] of COMBINATIONS) {
        const client = await open(mode);
        assert.match(
          await client.command(`MAIL FROM:${from}`),
          /^530 5\.7\.0 /,
          `MAIL FROM:${from}`,
        );
        assert.match(await client.command(`RCPT TO:${to}`), /^5\d\d /, `RCPT TO:${to}`);
        assert.match(await client.command('DATA'), /^5\d\d /, 'DATA');
        client.close();
        counts[`unauthenticated ${mode}`] = (counts[`unauthenticated ${mode}`] ?? 0) + 1;
      }
    });
  }

  it('refuses the routing-trick recipients even for an authenticated client', async () => {
    // Source routes (<@relay:user@target>) are left out: RFC 5321 §C says to ignore the
    // route, so they are plain mail to user@target, which a granted client may send.
    for (const [, to] of COMBINATIONS.filter(
      ([, to]) => !to.startsWith('<@') && /[%!"]|@\[|@.*@/.test(to),
    )) {
      const client = await open('submission+starttls');
      assert.match(await client.authPlain('granted', secret), /^235 /);
      assert.match(await client.command('MAIL FROM:<shop@example.com>'), /^250 /);
      assert.match(await client.command(`RCPT TO:${to}`), /^5\d\d /, `RCPT TO:${to}`);
      client.close();
      counts['authenticated routing tricks'] = (counts['authenticated routing tricks'] ?? 0) + 1;
    }
  });

  it('let nothing reach the upstream or the queue', async () => {
    assert.equal(harness.sink.received.length, 0);
    assert.equal(await harness.queuedCount(), 0);
  });
});
