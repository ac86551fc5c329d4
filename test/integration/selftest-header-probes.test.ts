import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import type { ProbeCredential } from '../../src/security/selftest/checks.js';
import { createSelftestFixture } from '../../src/security/selftest/fixture.js';
import { checkHeaderSpoofing } from '../../src/security/selftest/header-probes.js';
import type { SelftestFixture } from '../../src/security/selftest/run.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { testTlsPair } from '../support/tls.js';

/** The selftest's spoofed-From: probes: PASS on a strict relay, FAIL on a lenient server. */
describe('selftest header-spoofing probes', () => {
  let relay: InProcessRelay;
  let fixture: SelftestFixture;
  let credential: ProbeCredential;
  let lenient: SMTPServer;
  let lenientPort: number;

  before(async () => {
    relay = await startInProcessRelay(
      {},
      { role: 'intake', keyPrefix: 'selftest-probes', smtp: { hostname: 'relay.test' } },
    );
    const { credentials, abuseGuard } = relay.relay.services;
    fixture = await createSelftestFixture(credentials, abuseGuard, ['127.0.0.1']);
    credential = await fixture.credential();
    const tls = await testTlsPair();
    // Authenticates anyone and queues anything: the lenient relay the probes must catch.
    lenient = new SMTPServer({
      key: tls.key,
      cert: tls.cert,
      disableReverseLookup: true,
      logger: false,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    lenient.on('error', () => {});
    await new Promise<void>((resolve) => lenient.listen(0, '127.0.0.1', () => resolve()));
    lenientPort = (lenient.server.address() as AddressInfo).port;
  });

  after(async () => {
    await fixture.cleanup();
    await new Promise<void>((resolve) => lenient.close(() => resolve()));
    await relay.close();
  });

  it('passes every probe against the relay, and nothing is queued', async () => {
    const port = relay.started.smtp?.submissionPort ?? 0;
    const results = await checkHeaderSpoofing({ host: '127.0.0.1', port }, credential, 'smtp');
    assert.equal(results.length, 6);
    for (const result of results) {
      assert.equal(result.ok, true, `${result.name}: ${result.detail}`);
      assert.match(result.detail, /^refused: 550 5\.7\.1/);
    }
    assert.deepEqual(await relay.relay.services.store.listIds(0, 10), []);
  });

  it('reports FAIL for each form a lenient server queues', async () => {
    const results = await checkHeaderSpoofing(
      { host: '127.0.0.1', port: lenientPort },
      credential,
      'smtp',
    );
    assert.equal(results.length, 6);
    for (const result of results) {
      assert.equal(result.ok, false, result.name);
      assert.match(result.detail, /^OPEN: queued 250/);
    }
  });
});
